/**
 * npm run bench:bigrows [-- --no-build] [--keep-source]
 *
 * Memory with big rows: an Open Dental database that keeps its images in the
 * database ("store images in database": `document.RawBase64`, base64 text),
 * with rows of 1 to 30 MB. Peak RSS of `lastresort backup` and `lastresort
 * restore` beside `mysqldump | age` and `mysql < dump.sql`, in the same run
 * on the same data (bench/measure.ts), and the restored database compared
 * with the source byte for byte (test/helpers/compare.ts).
 *
 * The goal (issue 16, item 8): the peak RSS of backup and restore (its data
 * phase, after the key derivation) stays under 150 MB plus twice the largest
 * row, whatever the number of big rows.
 *
 * The source (lr_bench_bigrows) is a small generated Open Dental database
 * (bench/source.ts's generator and admin) whose RawBase64 is LONGTEXT, as
 * Open Dental makes it for such offices, plus BIG_ROWS image rows of
 * pseudo-random base64. The server's max_allowed_packet must hold the
 * biggest row: it is raised to 64 MiB when lower (never lowered).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { measure, type Measured, type Stage } from './measure.js';
import { ADMIN_PASSWORD, ADMIN_USER, cliDsnText, createEmptyDatabase, dropDatabase, dsnText, quiet, run, serverDsn, serverFacts, serverPid, settle } from './source.js';
import { connect, quoteId, type Connection } from '../src/db/connect.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli.js');
process.env.LASTRESORT_PRODUCER_KEY ??= join(ROOT, '.bench', 'producer-key.json');

const DATABASE = 'lr_bench_bigrows';
const PATIENTS = 300;
const MIB = 1 << 20;
/** Image rows: sizes of RawBase64 in MiB, deterministic. Seven of 20-30 MiB among 50 of 1-8 MiB. */
const BIG_ROWS: number[] = [
  ...[20, 22, 24, 26, 28, 30, 30],
  ...Array.from({ length: 50 }, (_, i) => 1 + ((i * 7) % 8)),
];
const NEEDED_PACKET = 64 * MIB;

const { values: args } = parseArgs({ options: { 'no-build': { type: 'boolean', default: false }, 'keep-files': { type: 'boolean', default: false } } });
const log = (s: string) => process.stderr.write(`[bench:bigrows] ${s}\n`);

async function scalar(conn: Connection, sql: string, params: unknown[] = []): Promise<unknown> {
  const [rows] = (await conn.query({ sql, rowsAsArray: true }, params)) as unknown as [unknown[][]];
  return rows[0]?.[0];
}

async function raisePacketLimit(conn: Connection): Promise<number> {
  const now = Number(await scalar(conn, 'SELECT @@GLOBAL.max_allowed_packet'));
  if (now >= NEEDED_PACKET) return now;
  log(`raising the server's max_allowed_packet from ${now / MIB} MiB to ${NEEDED_PACKET / MIB} MiB (never lowered)`);
  await conn.query(`SET GLOBAL max_allowed_packet = ${NEEDED_PACKET}`);
  return NEEDED_PACKET;
}

/** The source: reused when its image rows match BIG_ROWS and the admin is enrolled. */
async function ensureSource(passwordFile: string): Promise<{ rows: number; largestRow: number; imageBytes: number }> {
  const conn = await connect(serverDsn(), { noDatabase: true });
  const q = quoteId(DATABASE);
  try {
    const usable = async () => {
      const tables = Number(await scalar(conn, 'SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?, ?)', [DATABASE, 'document', 'lastresort_keyring']));
      if (tables !== 2) return false;
      const big = Number(await scalar(conn, `SELECT COUNT(*) FROM ${q}.document WHERE LENGTH(RawBase64) >= ${MIB}`));
      return big === BIG_ROWS.length && Number(await scalar(conn, `SELECT COUNT(*) FROM ${q}.lastresort_keyring`)) > 0;
    };
    if (!(await usable())) {
      log(`generating ${DATABASE} (${PATIENTS} patients, ${BIG_ROWS.length} image rows of 1-30 MiB)…`);
      run([process.execPath, '--import', 'tsx', 'fixtures/generate.ts', '--dsn', dsnText(serverDsn(DATABASE)), '--kind', 'opendental', '--patients', String(PATIENTS), '--drop'], 'generating the source database');
      await conn.query(`ALTER TABLE ${q}.document MODIFY RawBase64 longtext NOT NULL`);
      // A new connection: max_allowed_packet is read when a session starts.
      const ins = await connect(serverDsn(DATABASE));
      try {
        const patNums = ((await ins.query({ sql: 'SELECT PatNum FROM patient ORDER BY PatNum', rowsAsArray: true })) as unknown as [number[][]])[0].map((r) => r[0]);
        for (const [i, mib] of BIG_ROWS.entries()) {
          const raw = randomBytes(Math.floor((mib * MIB * 3) / 4));
          await ins.query(
            'INSERT INTO document (Description, DateCreated, DocCategory, PatNum, FileName, ImgType, ToothNumbers, Note, RawBase64, Thumbnail) VALUES (?, NOW(), 32, ?, ?, 2, ?, ?, ?, ?)',
            ['Pano', patNums[i % patNums.length], `pano${i}.jpg`, '', 'scanned', raw.toString('base64'), ''],
          );
        }
      } finally {
        await ins.end();
      }
      run([process.execPath, CLI, 'keys', 'enroll', '--source', dsnText(serverDsn(DATABASE)), '--user', ADMIN_USER, '--password-file', passwordFile], 'enrolling the admin');
      if (!(await usable())) throw new Error(`${DATABASE} is still not usable after generating it`);
    } else {
      run([process.execPath, CLI, 'keys', 'enroll', '--source', dsnText(serverDsn(DATABASE)), '--user', ADMIN_USER, '--password-file', passwordFile], 'enrolling the admin');
    }
    return {
      rows: await totalRows(conn, DATABASE),
      largestRow: Number(await scalar(conn, `SELECT MAX(LENGTH(RawBase64) + LENGTH(Note) + LENGTH(Thumbnail) + 200) FROM ${q}.document`)),
      imageBytes: Number(await scalar(conn, `SELECT SUM(LENGTH(RawBase64)) FROM ${q}.document`)),
    };
  } finally {
    await conn.end();
  }
}

async function totalRows(conn: Connection, database: string): Promise<number> {
  const [tables] = (await conn.query('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = ?', [database, 'BASE TABLE'])) as unknown as [{ t: string }[]];
  let n = 0;
  for (const { t } of tables) n += Number(await scalar(conn, `SELECT COUNT(*) FROM ${quoteId(database)}.${quoteId(t)}`));
  return n;
}

function check(m: Measured): Measured {
  if (m.exitCode !== 0) throw new Error(`${m.label} failed (exit ${m.exitCode}): ${m.command}\n${m.stderr.slice(-2000)}`);
  const stream = m.phases?.afterMarkerPeakKiB ? `, data phase ${Math.round(m.phases.afterMarkerPeakKiB / 1024)} MiB` : '';
  log(`${m.label}: ${m.seconds.toFixed(2)} s, peak RSS ${m.peakRssKiB === null ? '?' : Math.round(m.peakRssKiB / 1024)} MiB${stream}`);
  return m;
}

async function verifyRestored(label: string, target: string, expectedRows: number, byteForByte: boolean): Promise<string> {
  const conn = await connect(serverDsn(), { noDatabase: true });
  try {
    const rows = await totalRows(conn, target);
    if (rows !== expectedRows) throw new Error(`${label} restored ${rows} rows, the source has ${expectedRows}`);
    if (!byteForByte) return `${rows} rows`;
    const { compareDatabasesOn } = await import('../test/helpers/compare.js');
    const diffs = await compareDatabasesOn(conn, DATABASE, target, {});
    if (diffs.length > 0) throw new Error(`${label}: restored database differs from the source:\n${diffs.slice(0, 20).map((d) => `${d.kind} ${d.table ?? ''}: ${d.detail}`).join('\n')}`);
    return `${rows} rows, compareDatabases(source, restored) = [] (identical)`;
  } finally {
    await conn.end();
  }
}

const mib = (kib: number | null | undefined) => (kib ? Math.round(kib / 1024) : null);

async function main(): Promise<void> {
  if (!args['no-build']) {
    log('building (npm run build)…');
    if (spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] }).status !== 0) throw new Error('npm run build failed');
  }
  for (const tool of ['/usr/bin/time', 'mysql', 'mysqldump', 'age', 'age-keygen']) {
    if (spawnSync('/bin/sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is not installed (apt-get install -y time mariadb-client age)`);
  }
  const work = join(ROOT, '.bench', 'work-bigrows');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const passwordFile = join(work, 'password.txt');
  writeFileSync(passwordFile, ADMIN_PASSWORD, { mode: 0o600 });

  const admin = await connect(serverDsn(), { noDatabase: true });
  const packet = await raisePacketLimit(admin).finally(() => admin.end());
  const dbPid = await serverPid();
  const source = await ensureSource(passwordFile);
  log(`source ${DATABASE}: ${source.rows} rows, ${Math.round(source.imageBytes / MIB)} MiB of images, largest row ${(source.largestRow / MIB).toFixed(1)} MiB`);

  const d = serverDsn();
  const client = [d.socketPath ? `--socket=${d.socketPath}` : `--host=${d.host}`, `--port=${d.port}`, `--user=${d.user}`, '--max-allowed-packet=1G'];
  const clientEnv = { ...process.env, MYSQL_PWD: d.password };
  const keyFile = join(work, 'age.key');
  spawnSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
  const recipient = spawnSync('age-keygen', ['-y', keyFile], { encoding: 'utf8' }).stdout.trim();
  const dumpAge = join(work, 'dump.sql.age');
  const dumpSql = join(work, 'dump.sql');
  const lrbDir = join(work, 'lrb');
  const measured: Record<string, Measured & { verified?: string }> = {};
  const timed = async (label: string, stages: Stage[], opts: Parameters<typeof measure>[2] = {}) => {
    await quiet(dbPid);
    return (measured[label] = check(await measure(label, stages, { serverPid: dbPid, ...opts })));
  };

  const backup = await timed('lastresort backup', [{ name: 'lastresort', argv: [process.execPath, CLI, 'backup', '--source', cliDsnText(serverDsn(DATABASE)), '--out', lrbDir, '--json'] }]);
  const lrb = (JSON.parse(backup.stdout) as { file: string }).file;
  await timed('mysqldump | age', [{ name: 'mysqldump', argv: ['mysqldump', '--single-transaction', ...client, DATABASE] }, { name: 'age', argv: ['age', '-r', recipient] }], { env: clientEnv, stdoutFile: dumpAge });
  if (spawnSync('age', ['-d', '-i', keyFile, '-o', dumpSql, dumpAge]).status !== 0) throw new Error('age -d failed');

  const restoreTo = async (tool: string, create: boolean, go: (target: string) => Promise<Measured>, byteForByte: boolean) => {
    const target = `${DATABASE}_r_${tool}`;
    await dropDatabase(target);
    if (create) await createEmptyDatabase(target);
    await settle();
    try {
      const m = await go(target);
      const verified = await verifyRestored(m.label, target, source.rows, byteForByte);
      log(`${m.label}: ${verified}`);
      measured[m.label].verified = verified;
    } finally {
      await dropDatabase(target);
    }
  };
  await restoreTo('lastresort', false, (target) => timed('lastresort restore', [{ name: 'lastresort', argv: [process.execPath, CLI, '--verbose', 'restore', lrb, '--target', cliDsnText(serverDsn(target)), '--json'] }], {
    env: { ...process.env, LASTRESORT_PASSWORD: ADMIN_PASSWORD },
    phaseMarker: /key derivation finished/,
  }), true);
  await restoreTo('mysql', true, (target) => timed('mysql < dump.sql', [{ name: 'mysql', argv: ['mysql', ...client, target] }], { env: clientEnv, stdinFile: dumpSql }), false);

  const goalMiB = 150 + (2 * source.largestRow) / MIB;
  const lrBackupPeak = mib(measured['lastresort backup'].peakRssKiB) ?? Infinity;
  const lrRestore = measured['lastresort restore'];
  const lrRestorePeak = mib(lrRestore.phases?.afterMarkerPeakKiB ?? lrRestore.peakRssKiB) ?? Infinity;
  const result = {
    when: new Date().toISOString(),
    command: 'npm run bench:bigrows',
    git: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, server: await serverFacts() },
    source: { database: DATABASE, rows: source.rows, imageRows: BIG_ROWS.length, imageMiB: Math.round(source.imageBytes / MIB), largestRowMiB: Math.round((source.largestRow / MIB) * 10) / 10, maxAllowedPacket: packet },
    sizes: { lrb: statSync(lrb).size, dumpSqlAge: statSync(dumpAge).size },
    goal: { peakRssMiB: Math.round(goalMiB), backupPeakMiB: lrBackupPeak, restoreDataPhasePeakMiB: lrRestorePeak, met: lrBackupPeak < goalMiB && lrRestorePeak < goalMiB },
    measurements: Object.values(measured).map((m) => ({
      label: m.label, command: m.command, seconds: m.seconds, peakRssMiB: mib(m.peakRssKiB), cpuSeconds: m.cpuSeconds,
      processes: m.processes.map((p) => ({ name: p.name, peakRssMiB: mib(p.peakRssKiB), cpuSeconds: p.cpuSeconds })),
      phases: m.phases ? { kdfPeakMiB: mib(m.phases.beforeMarkerPeakKiB), dataPhasePeakMiB: mib(m.phases.afterMarkerPeakKiB) } : undefined,
      serverCpuSeconds: m.serverCpuSeconds, load: m.load, verified: m.verified,
    })),
  };
  // The restore's figure is its data phase: the key derivation's memory (argon2id) is freed before any row moves.
  const peakOf = (label: string) => measured[label].phases?.afterMarkerPeakKiB ?? measured[label].peakRssKiB;
  const ratio = (a: string, b: string) => (peakOf(a) && peakOf(b) ? Math.round((peakOf(a)! / peakOf(b)!) * 10) / 10 : null);
  const lines = [
    `| | time | peak RSS | |`,
    `|---|---:|---:|---|`,
    ...result.measurements.map((m) => `| ${m.label.replace(/\|/g, '\\|')} | ${m.seconds.toFixed(1)} s | ${m.processes.map((p) => `${p.peakRssMiB} MiB`).join(' + ')}${m.phases ? ` (data phase ${m.phases.dataPhasePeakMiB} MiB, key derivation ${m.phases.kdfPeakMiB} MiB)` : ''} | ${m.verified ?? ''} |`),
    '',
    `Goal: under 150 MiB + 2 x largest row (${result.source.largestRowMiB} MiB) = ${result.goal.peakRssMiB} MiB: backup ${lrBackupPeak} MiB, restore (data phase) ${lrRestorePeak} MiB: ${result.goal.met ? 'met' : 'NOT met'}.`,
    `Peak RSS ratios: backup ${ratio('lastresort backup', 'mysqldump | age')}x the largest process of mysqldump | age; restore (data phase) ${ratio('lastresort restore', 'mysql < dump.sql')}x mysql.`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'bigrows.json'), JSON.stringify(result, null, 2) + '\n');
  writeFileSync(join(resultsDir, 'bigrows.md'), `# npm run bench:bigrows (${result.when}, commit ${result.git})\n\nSource: ${result.source.rows} rows, ${result.source.imageRows} image rows (${result.source.imageMiB} MiB of base64), largest row ${result.source.largestRowMiB} MiB; max_allowed_packet ${packet / MIB} MiB.\n\n${lines.join('\n')}\n`);
  log('results written to bench/results/bigrows.json and bigrows.md');
  if (!args['keep-files']) rmSync(work, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench:bigrows] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
