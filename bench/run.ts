/**
 * npm run bench [-- --scale 2] [--repeat N] [--only lastresort] [--backups-only] [--writer] [--verify] [--no-build]
 *
 * Backup and restore of a generated Open Dental-shaped database (about 3
 * million rows per unit of scale), beside the tools practices use today,
 * all measured in the same run on the same server, because absolute times
 * drift on shared machines and only the ratios carry over:
 *
 *   backup   lastresort backup | mysqldump --single-transaction (> file, and | age)
 *            | mydumper --threads 2
 *            (MyISAM, --kind opendental2025: mysqldump --lock-all-tables | age,
 *            the one moment there, | mysqldump with its default table locks
 *            > file | mydumper --threads 2, each with how long it held the
 *            office's writes, beside a plain read of the tables lastresort held)
 *   restore  lastresort restore (key derivation included) | mysql < dump.sql
 *            | age -d | mysql | myloader --threads 2
 *
 * Wall time, peak RSS and CPU time of every process (bench/measure.ts). The
 * source database is kept for the next run; restored databases are dropped
 * after each measurement, and every measurement starts on an idle server
 * (pages flushed, no background work left from the step before:
 * bench/source.ts). Results: a table on stdout, and JSON (plus a
 * Markdown table) in bench/results/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { measure as measureProcess, type Measured, type MeasureOptions, type Stage } from './measure.js';
import { ADMIN_PASSWORD, cliDsnText, createEmptyDatabase, dropDatabase, ensureSource, quiet, serverDsn, serverFacts, serverPid, settle, sourceFor, sourceName, type SourceInfo, type SourceKind } from './source.js';
import { startWriter, type WriterFigures } from './writer.js';
import { renderMarkdown, renderText, summarise, type BenchResult, type HeldSamples } from './report.js';
import { connect, quoteId } from '../src/db/connect.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');
// The bench's own producer key (made on first use): never the machine's service key.
process.env.LASTRESORT_PRODUCER_KEY ??= join(ROOT, '.bench', 'producer-key.json');

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    repeat: { type: 'string', default: '1' },
    only: { type: 'string' },
    verify: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    'keep-files': { type: 'boolean', default: false },
    /** MyISAM: an office UPDATE every 20 ms during each backup, its longest wait beside the writes-held figure. */
    writer: { type: 'boolean', default: false },
    /** Only the backup half (the restores take four times as long). */
    'backups-only': { type: 'boolean', default: false },
    /** opendental2025: the real 2025 schema on MyISAM (npm run bench:myisam). */
    kind: { type: 'string', default: 'opendental' },
  },
});
const kind = args.kind as SourceKind;
if (kind !== 'opendental' && kind !== 'opendental2025') throw new Error('--kind must be opendental or opendental2025');
/** MyISAM: the baselines are the ones that make one moment on MyISAM, and each says how long it held the office's writes. */
const myisam = kind === 'opendental2025';
const scale = Number(args.scale);
const repeat = Math.max(1, Number(args.repeat) | 0);
const onlyLastresort = args.only === 'lastresort';
if (!(scale > 0)) throw new Error('--scale must be a positive number');

const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);
const have = (cmd: string) => spawnSync('/bin/sh', ['-c', `command -v ${cmd}`]).status === 0;

function clientArgs(database?: string): string[] {
  const d = serverDsn();
  const a = [d.socketPath ? `--socket=${d.socketPath}` : `--host=${d.host}`, `--port=${d.port}`, `--user=${d.user}`];
  return database ? [...a, database] : a;
}
const clientEnv = { ...process.env, MYSQL_PWD: serverDsn().password };
let dbServerPid: number | null = null;
const measure = (label: string, stages: Stage[], opts: MeasureOptions = {}) => measureProcess(label, stages, { serverPid: dbServerPid, ...opts });
/** Each measurement starts on an idle server (source.ts, quiet). */
async function measureQuiet(label: string, stages: Stage[], opts: MeasureOptions = {}): Promise<Measured> {
  const waited = await quiet(dbServerPid);
  if (waited > 1500) log(`server idle after ${(waited / 1000).toFixed(1)} s`);
  return measure(label, stages, opts);
}
/** The same with the office writing meanwhile (--writer, MyISAM): the writer's longest UPDATE beside the measurement. */
async function measureWriting(label: string, stages: Stage[], opts: MeasureOptions = {}): Promise<Measured & { writer?: WriterFigures }> {
  if (!args.writer || !myisam) return measureQuiet(label, stages, opts);
  const waited = await quiet(dbServerPid);
  if (waited > 1500) log(`server idle after ${(waited / 1000).toFixed(1)} s`);
  const writer = await startWriter(serverDsn(sourceFor(kind, scale).database));
  const m = await measure(label, stages, opts);
  const figures = await writer.stop();
  log(`${label}: the office's longest UPDATE ${figures.longestMs} ms (median ${figures.medianMs} ms, ${figures.statements} statements)`);
  return { ...m, writer: figures };
}

function check<T extends Measured>(m: T): T {
  if (m.exitCode !== 0) throw new Error(`${m.label} failed (exit ${m.exitCode}): ${m.command}\n${m.stderr.slice(-2000)}`);
  log(`${m.label}: ${m.seconds.toFixed(2)} s, peak RSS ${m.peakRssKiB === null ? '?' : Math.round(m.peakRssKiB / 1024)} MiB`);
  return m;
}

async function tableRows(database: string): Promise<number> {
  const conn = await connect(serverDsn(), { noDatabase: true });
  try {
    const [tables] = (await conn.query('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = ?', [database, 'BASE TABLE'])) as unknown as [{ t: string }[]];
    let rows = 0;
    for (const { t } of tables) {
      const [r] = (await conn.query(`SELECT COUNT(*) AS n FROM ${quoteId(database)}.${quoteId(t)}`)) as unknown as [{ n: number }[]];
      rows += Number(r[0].n);
    }
    return rows;
  } finally {
    await conn.end();
  }
}

/** Measures one restore into a fresh target, checks it got every row, drops it. */
async function restoreInto(target: string, source: SourceInfo, run: () => Promise<Measured>, opts: { create: boolean; verify?: boolean }): Promise<Measured & { rows: number }> {
  await dropDatabase(target);
  if (opts.create) await createEmptyDatabase(target);
  const settled = await settle();
  const idle = await quiet(dbServerPid);
  log(`server settled in ${settled.ms} ms (${settled.dirtyPages} dirty pages), idle after ${idle} ms`);
  try {
    const m = check(await run());
    const rows = await tableRows(target);
    if (rows !== source.rows) throw new Error(`${m.label} restored ${rows} rows, the source has ${source.rows}`);
    if (opts.verify) {
      // test/helpers/compare.ts: byte-exact comparison through SQL only.
      const { compareDatabasesOn } = await import('../test/helpers/compare.js');
      const conn = await connect(serverDsn(), { noDatabase: true });
      try {
        const diffs = await compareDatabasesOn(conn, source.database, target, {});
        if (diffs.length > 0) throw new Error(`${m.label}: restored database differs from the source:\n${diffs.slice(0, 20).map((d) => `${d.kind} ${d.table ?? ''}: ${d.detail}`).join('\n')}`);
        log(`${m.label}: compareDatabases(source, restored) = [] (identical)`);
      } finally {
        await conn.end();
      }
    }
    return { ...m, rows };
  } finally {
    await dropDatabase(target);
  }
}

interface RoundContext {
  source: SourceInfo;
  srcDsn: string;
  lrbDir: string;
  dumpSql: string;
  dumpAge: string;
  mydumperDir: string;
  recipient: string;
  haveAge: boolean;
  haveMydumper: boolean;
  add: (key: string, m: Measured) => void;
  sizes: Record<string, number>;
  held: Record<string, HeldSamples>;
}

/**
 * One round of backups; returns the .lrb. InnoDB: mysqldump --single-transaction
 * (> file and | age), the baseline. MyISAM, where --single-transaction is no
 * moment: mysqldump --lock-all-tables | age is the one-moment baseline, beside
 * mysqldump's default per-database table locks (> file) and mydumper (FTWRL
 * until its non-InnoDB tables are dumped); the writes-held figure of each, and
 * how long a plain read of the tables lastresort held takes (the goal's yardstick).
 */
async function backupRound(c: RoundContext): Promise<string> {
  const db = c.source.database;
  const hold = (key: string, ms: number, how: string, m?: { writer?: WriterFigures }) => {
    const h = (c.held[key] ??= { samples: [], how });
    h.samples.push(Math.round(ms));
    if (m?.writer) (h.writerSamples ??= []).push(m.writer.longestMs);
  };
  rmSync(c.lrbDir, { recursive: true, force: true });
  const backup = check(await measureWriting('lastresort backup', [{ name: 'lastresort', argv: [process.execPath, CLI, 'backup', '--source', c.srcDsn, '--out', c.lrbDir, '--json'] }]));
  c.add('lastresort backup', backup);
  const out = JSON.parse(backup.stdout) as { file: string; oneMoment?: boolean; notOneMoment?: string | null; writesHeldMs?: number; tablesHeld?: string[] };
  c.sizes['lastresort .lrb'] = statSync(out.file).size;
  if (myisam) {
    if (out.oneMoment !== true) throw new Error(`lastresort backup is not one moment: ${out.notOneMoment ?? '?'}`);
    hold('lastresort backup', out.writesHeldMs ?? NaN, 'writesHeldMs from its --json', backup);
    log(`lastresort backup: one moment, writes held ${out.writesHeldMs} ms over ${out.tablesHeld?.length} tables`);
    if (!onlyLastresort) await readHeld(c, out.tablesHeld ?? []);
  }
  if (onlyLastresort) return out.file;

  const dumpArgs = myisam ? [] : ['--single-transaction'];
  const mysqldump: Stage = { name: 'mysqldump', argv: ['mysqldump', ...dumpArgs, ...clientArgs(db)] };
  const plain = check(await measureWriting(myisam ? 'mysqldump (default per-database table locks) > dump.sql' : 'mysqldump --single-transaction > dump.sql', [mysqldump], { env: clientEnv, stdoutFile: c.dumpSql }));
  c.add('mysqldump', plain);
  c.sizes['dump.sql'] = statSync(c.dumpSql).size;
  if (myisam) hold('mysqldump', plain.seconds * 1000, 'the whole dump: LOCK TABLES ... READ LOCAL on every table of the database until the end', plain);
  if (c.haveAge) {
    const lockAll: Stage = { name: 'mysqldump', argv: ['mysqldump', '--lock-all-tables', ...clientArgs(db)] };
    const m = check(await measureWriting(myisam ? 'mysqldump --lock-all-tables | age' : 'mysqldump --single-transaction | age', [myisam ? lockAll : mysqldump, { name: 'age', argv: ['age', '-r', c.recipient] }], { env: clientEnv, stdoutFile: c.dumpAge }));
    c.add('mysqldump | age', m);
    c.sizes['dump.sql.age'] = statSync(c.dumpAge).size;
    if (myisam) hold('mysqldump | age', m.seconds * 1000, 'the whole dump: FLUSH TABLES WITH READ LOCK until the end', m);
  }
  if (c.haveMydumper) {
    rmSync(c.mydumperDir, { recursive: true, force: true });
    const verbose = myisam ? ['--verbose', '3'] : [];
    const m = check(await measureWriting('mydumper --threads 2', [{ name: 'mydumper', argv: ['mydumper', '--threads', '2', ...verbose, '--database', db, '--outputdir', c.mydumperDir, ...clientArgs()] }], { env: clientEnv }));
    c.add('mydumper', m);
    c.sizes['mydumper folder'] = readdirSync(c.mydumperDir).reduce((n, f) => n + statSync(join(c.mydumperDir, f)).size, 0);
    if (myisam) {
      const fromLog = mydumperHeldMs(m.stderr);
      if (fromLog !== null) hold('mydumper', fromLog, "its log: connected (FTWRL next) to 'Non-InnoDB dump complete, unlocking tables'", m);
      else hold('mydumper', m.seconds * 1000, 'its wall time (no unlock line in its log): an upper bound', m);
    }
  }
  return out.file;
}

/** The yardstick of the goal: reading every table lastresort held, once, on one connection, to /dev/null (no lock). */
async function readHeld(c: RoundContext, tables: string[]): Promise<void> {
  if (tables.length === 0) return;
  const sql = tables.map((t) => `SELECT * FROM ${quoteId(t)};`).join(' ');
  const m = check(await measureQuiet('read the held tables (mysql --quick > /dev/null)', [{ name: 'mysql', argv: ['mysql', '--quick', '--batch', '--skip-column-names', ...clientArgs(c.source.database), '-e', sql] }], { env: clientEnv, stdoutFile: '/dev/null' }));
  c.add('read held', m);
}

/** mydumper 0.10 at --verbose 3 stamps each message (HH:MM:SS.mmm): from its first to the unlock. */
function mydumperHeldMs(stderr: string): number | null {
  const at = (line: string | undefined) => {
    const t = line ? /Message: (\d\d):(\d\d):(\d\d)\.(\d{3})/.exec(line) : null;
    return t ? ((Number(t[1]) * 60 + Number(t[2])) * 60 + Number(t[3])) * 1000 + Number(t[4]) : null;
  };
  const lines = stderr.split('\n');
  const start = at(lines.find((l) => /Connected to a MySQL server/.test(l)));
  const end = at(lines.find((l) => /unlocking tables/i.test(l)));
  if (start === null || end === null) return null;
  return end >= start ? end - start : end + 86_400_000 - start;
}

async function main(): Promise<void> {
  if (!args['no-build']) {
    log('building (npm run build)…');
    const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    if (b.status !== 0) throw new Error('npm run build failed');
  }
  for (const tool of ['/usr/bin/time', 'mysql', 'mysqldump']) if (!have(tool)) throw new Error(`${tool} is not installed (apt-get install -y time mariadb-client)`);
  const haveAge = have('age') && have('age-keygen');
  const haveMydumper = have('mydumper') && have('myloader');
  if (!onlyLastresort && !haveAge) log('age is not installed: the age baselines are skipped (apt-get install -y age)');
  if (!onlyLastresort && !haveMydumper) log('mydumper is not installed: the mydumper/myloader baselines are skipped (apt-get install -y mydumper)');

  const work = join(ROOT, '.bench', `work-${sourceFor(kind, scale).database}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const passwordFile = join(work, 'password.txt');
  writeFileSync(passwordFile, ADMIN_PASSWORD, { mode: 0o600 });

  dbServerPid = await serverPid();
  const source = await ensureSource(scale, { passwordFile, cli: CLI, log, kind });
  log(`source ${source.database}: ${source.rows.toLocaleString('en-US')} rows${source.reused ? ' (reused)' : ` (generated in ${source.generatedSeconds} s)`}`);
  const srcDsn = cliDsnText(serverDsn(source.database));
  const target = (tool: string) => `${source.database}_r_${tool}`;

  const keyFile = join(work, 'age.key');
  let recipient = '';
  if (haveAge) {
    spawnSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
    recipient = spawnSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).stdout.trim();
  }
  const dumpSql = join(work, 'dump.sql');
  const dumpAge = join(work, 'dump.sql.age');
  const mydumperDir = join(work, 'mydumper');
  const lrbDir = join(work, 'lrb');

  const samples: Record<string, Measured[]> = {};
  const add = (key: string, m: Measured) => (samples[key] ??= []).push(m);
  const sizes: Record<string, number> = {};
  const held: Record<string, HeldSamples> = {};

  if (!onlyLastresort) {
    log('warming up (mysqldump > /dev/null, not measured)…');
    spawnSync('/bin/sh', ['-c', 'mysqldump --single-transaction "$@" > /dev/null', 'sh', ...clientArgs(source.database)], { env: clientEnv });
  }

  for (let round = 1; round <= repeat; round++) {
    log(`round ${round} of ${repeat}: backups`);
    const lrb = await backupRound({ source, srcDsn, lrbDir, dumpSql, dumpAge, mydumperDir, recipient, haveAge, haveMydumper, add, sizes, held });
    if (args['backups-only']) continue;

    log(`round ${round} of ${repeat}: restores`);
    const lrTarget = target('lastresort');
    add('lastresort restore', await restoreInto(lrTarget, source, () =>
      measure('lastresort restore', [{ name: 'lastresort', argv: [process.execPath, CLI, '--verbose', 'restore', lrb, '--target', cliDsnText(serverDsn(lrTarget)), '--json'] }], {
        env: { ...process.env, LASTRESORT_PASSWORD: ADMIN_PASSWORD },
        phaseMarker: /key derivation finished/,
      }), { create: false, verify: args.verify }));

    if (!onlyLastresort) {
      add('mysql < dump.sql', await restoreInto(target('mysql'), source, () =>
        measure('mysql < dump.sql', [{ name: 'mysql', argv: ['mysql', ...clientArgs(target('mysql'))] }], { env: clientEnv, stdinFile: dumpSql }), { create: true }));
      if (haveAge) {
        add('age -d | mysql', await restoreInto(target('agemysql'), source, () =>
          measure('age -d | mysql', [{ name: 'age', argv: ['age', '-d', '-i', keyFile, dumpAge] }, { name: 'mysql', argv: ['mysql', ...clientArgs(target('agemysql'))] }], { env: clientEnv }), { create: true }));
      }
      if (haveMydumper) {
        add('myloader', await restoreInto(target('myloader'), source, () =>
          measure('myloader --threads 2', [{ name: 'myloader', argv: ['myloader', '--threads', '2', '--directory', mydumperDir, '--database', target('myloader'), ...clientArgs()] }], { env: clientEnv }), { create: false }));
      }
    }
  }

  const result: BenchResult = summarise({
    when: new Date().toISOString(),
    command: benchCommand(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, server: await serverFacts() },
    source,
    sizes,
    samples,
    held: myisam ? held : undefined,
    git: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim(),
    engine: kind === 'opendental2025' ? 'MyISAM' : 'InnoDB',
  });
  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const other = (kind === 'opendental' ? [sourceName(1), sourceName(2)] : []).filter((n) => n !== source.database).map((n) => join(resultsDir, `${n}.json`)).find((p) => existsSync(p));
  const otherResult = other ? (JSON.parse(readFileSync(other, 'utf8')) as BenchResult) : undefined;
  process.stdout.write(renderText(result, otherResult));
  if (!onlyLastresort) {
    // Partial runs (--only) print but do not replace the figures a README quotes.
    const json = JSON.stringify(result, null, 2) + '\n';
    writeFileSync(join(resultsDir, 'latest.json'), json);
    writeFileSync(join(resultsDir, `${source.database}.json`), json);
    writeFileSync(join(resultsDir, `${source.database}.md`), renderMarkdown(result));
    log(`results written to bench/results/${source.database}.json and latest.json`);
  }
  if (!args['keep-files']) rmSync(work, { recursive: true, force: true });
}

/** The command as a person types it: bench:myisam passes --kind opendental2025 itself. */
function benchCommand(): string {
  const rest = process.argv.slice(2);
  const myisam = rest[0] === '--kind' && rest[1] === 'opendental2025';
  const shown = myisam ? rest.slice(2) : rest;
  return `npm run bench${myisam ? ':myisam' : ''}${shown.length ? ' -- ' + shown.join(' ') : ''}`;
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
