/**
 * npm run bench:damage: rows lost to each kind of damage (issue 4), against
 * the theoretical minimum and against the common answer, age -d | mysql.
 *
 *   - Source: an Open Dental-shaped database of about 1 million rows
 *     (lr_bench_damage, 33,000 patients), generated once and kept.
 *   - lastresort: one good backup (64 KiB chunks), damaged by the damage
 *     suite's injector, restored into a fresh database; rows counted and
 *     compared byte for byte with the source through SQL.
 *   - Minimum: rows whose encoded bytes lie in a chunk the damage destroyed,
 *     from the good file's own plaintext (test/damage/row-map.ts); all rows
 *     when the damage leaves no key (both headers, a cut inside the header).
 *   - age: a mysqldump of the same database, encrypted with age -r, given the
 *     same damage at the same relative position, then age -d | mysql.
 *
 * Options: --patients N, --kinds a,b, --seed S, --fresh (new backup and dump).
 * The admin is enrolled with the cheap test KDF: this measures rows, not time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connect, quoteId, type Connection } from '../src/db/connect.js';
import { parseDsn, type Dsn } from '../src/db/dsn.js';
import { enrollAdmin } from '../src/keys/enroll.js';
import { FAST_TEST_KDF } from '../src/keys/crypto.js';
import { runBackup } from '../src/backup/index.js';
import { openBackup } from '../src/decrypt/open.js';
import { restoreBackup } from '../src/restore/restore.js';
import { isLrError } from '../src/errors.js';
import { generateOpenDental, DEMO_ADMIN } from '../fixtures/opendental.js';
import { Rng } from '../fixtures/lib/prng.js';
import { DAMAGE_KINDS, injectDamage, layoutOf, type Damage, type DamageKind } from '../test/damage/inject.js';
import { decryptWhole, mapRows, minimumLoss, plaintextRanges, toRanges, type RowMap } from '../test/damage/row-map.js';
import { rowCounts, wrongRows } from '../test/damage/sql.js';

const WORK = '.bench/damage';
// The bench's own producer key (made on first use, with the cheap test KDF): never the machine's service key.
process.env.LASTRESORT_PRODUCER_KEY ??= resolve(WORK, 'producer-key.json');
const { values: args } = parseArgs({
  options: {
    patients: { type: 'string', default: '33000' },
    kinds: { type: 'string' },
    seed: { type: 'string', default: '1' },
    fresh: { type: 'boolean', default: false },
    database: { type: 'string', default: 'lr_bench_damage' },
  },
});
const PATIENTS = Number(args.patients);
const SOURCE = args.database!;
const SEED = Number(args.seed);
const log = (s: string) => process.stderr.write(`${s}\n`);
const server = (database = ''): Dsn => ({ ...parseDsn(process.env.LASTRESORT_BENCH_DSN ?? 'mysql://root@127.0.0.1:3306/', { requireDatabase: false }), database });

function sh(cmd: string, argv: string[], opts: { input?: Buffer; allowFail?: boolean } = {}): Buffer {
  const r = spawnSync(cmd, argv, { input: opts.input, maxBuffer: 1 << 30 });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr?.toString().slice(0, 300)}`);
  return r.stdout;
}

async function ensureSource(conn: Connection): Promise<void> {
  const [[row]] = (await conn.query('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?, ?)', [SOURCE, 'patient', 'lastresort_keyring'])) as unknown as [{ n: number }[]];
  if (Number(row!.n) === 2) {
    const [[p]] = (await conn.query(`SELECT COUNT(*) AS n FROM ${quoteId(SOURCE)}.patient`)) as unknown as [{ n: number }[]];
    if (Number(p!.n) === PATIENTS) return;
  }
  log(`generating ${SOURCE} (${PATIENTS} patients, about ${Math.round(PATIENTS * 30.8).toLocaleString('en-US')} rows)…`);
  await conn.query(`DROP DATABASE IF EXISTS ${quoteId(SOURCE)}`);
  await generateOpenDental(conn, { database: SOURCE, patients: PATIENTS, seed: 'bench-damage' });
  await enrollAdmin({ source: server(SOURCE), userName: DEMO_ADMIN.userName, password: DEMO_ADMIN.password, kdf: FAST_TEST_KDF });
  args.fresh = true;
}

/** The good backup and the age-encrypted mysqldump, made once and kept in .bench/damage. */
async function ensureFiles(): Promise<{ lrb: Buffer; age: Buffer; dumpSql: Buffer }> {
  const lrbPath = join(WORK, 'good.lrb');
  if (args.fresh || !existsSync(lrbPath)) {
    log('backing up with lastresort…');
    const { file } = await runBackup({ source: server(SOURCE), outDir: join(WORK, 'out') });
    await writeFile(lrbPath, await readFile(file));
  }
  const key = join(WORK, 'age-key.txt');
  const agePath = join(WORK, 'dump.sql.age');
  const dumpPath = join(WORK, 'dump.sql');
  if (args.fresh || !existsSync(agePath)) {
    log('mysqldump and age…');
    const d = server(SOURCE);
    await writeFile(dumpPath, sh('mysqldump', [`-h${d.host}`, `-P${d.port}`, `-u${d.user}`, ...(d.password ? [`-p${d.password}`] : []), '--single-transaction', SOURCE]));
    if (!existsSync(key)) sh('age-keygen', ['-o', key]);
    const recipient = sh('age-keygen', ['-y', key]).toString().trim();
    sh('age', ['-r', recipient, '-o', agePath, dumpPath]);
  }
  return { lrb: await readFile(lrbPath), age: await readFile(agePath), dumpSql: await readFile(dumpPath) };
}

/** The same damage on the age file, at the same relative position. */
function ageDamage(kind: DamageKind, d: Damage, lrbLength: number, age: Buffer, dumpSql: Buffer): Buffer {
  const rng = new Rng(`age:${kind}:${SEED}`);
  const rel = (x: number) => Math.min(age.length - 1, Math.floor((x / lrbLength) * age.length));
  const headerEnd = age.indexOf('\n', age.indexOf('\n--- ') + 1) + 1;
  const payload = headerEnd + 16; // the nonce, then chunks of 64 KiB + 16
  const chunkAt = (plainOffset: number) => payload + Math.floor(plainOffset / 65536) * 65552 + (plainOffset % 65536);
  const out = Buffer.from(age);
  const flip = (at: number) => (out[at] = out[at]! ^ rng.int(1, 255));
  switch (kind) {
    case 'flip-1': case 'flip-5': case 'flip-20':
      d.at.forEach((x) => flip(rel(x)));
      return out;
    case 'flip-last':
      flip(age.length - 1 - rng.int(0, 15));
      return out;
    case 'flip-schema':
      flip(chunkAt(dumpSql.indexOf('CREATE TABLE `patient`') + 30));
      return out;
    case 'flip-view':
      return out;
    case 'zero-1mib':
      return out.fill(0, rel(d.at[0]!), rel(d.at[0]!) + (1 << 20));
    case 'truncate-random': case 'truncate-boundary':
      return out.subarray(0, rel(d.at[0]!));
    case 'truncate-header':
      return out.subarray(0, Math.floor(headerEnd / 2));
    case 'truncate-0':
      return Buffer.alloc(0);
    case 'zero-first-header': case 'zero-both-headers':
      return out.fill(0, 0, headerEnd); // age has one header: either way it is gone
    case 'delete-1000':
      return Buffer.concat([out.subarray(0, rel(d.at[0]!)), out.subarray(rel(d.at[0]!) + 1000)]);
    case 'insert-1000': {
      const junk = Buffer.alloc(1000);
      for (let i = 0; i < junk.length; i++) junk[i] = rng.int(0, 255);
      return Buffer.concat([out.subarray(0, rel(d.at[0]!)), junk, out.subarray(rel(d.at[0]!))]);
    }
    case 'swap-2': {
      const i = Math.floor((rel(d.at[0]!) - payload) / 65552);
      const j = Math.max(i + 1, Math.floor((rel(d.at[1]!) - payload) / 65552));
      const [a, b] = [payload + i * 65552, payload + j * 65552];
      return Buffer.concat([out.subarray(0, a), out.subarray(b, b + 65552), out.subarray(a + 65552, b), out.subarray(a, a + 65552), out.subarray(b + 65552)]);
    }
    case 'append-garbage':
      return Buffer.concat([out, Buffer.alloc(d.bytes.length - lrbLength, 0x5a)]);
  }
}

async function freshDatabase(conn: Connection, name: string): Promise<void> {
  await conn.query(`DROP DATABASE IF EXISTS ${quoteId(name)}`);
}

async function restoredRows(conn: Connection, db: string, tables: string[]): Promise<{ rows: number; wrong: number }> {
  const counts = await rowCounts(conn, db);
  let wrong = 0;
  for (const t of tables) if (counts.has(t)) wrong += await wrongRows(conn, SOURCE, db, t);
  return { rows: tables.reduce((n, t) => n + (counts.get(t) ?? 0), 0), wrong };
}

interface Line {
  kind: string;
  minimum: number;
  lost: number;
  reported: number | null;
  wrong: number;
  ageLost: number;
  ageWrong: number;
  outcome: string;
}

async function main(): Promise<void> {
  await mkdir(WORK, { recursive: true });
  const conn = await connect(server(), { noDatabase: true });
  const started = Date.now();
  try {
    await ensureSource(conn);
    const { lrb, age, dumpSql } = await ensureFiles();
    const layout = layoutOf(lrb);
    await writeFile(join(WORK, 'check.lrb'), lrb);
    const map: RowMap = mapRows(await decryptWhole(join(WORK, 'check.lrb'), DEMO_ADMIN.password));
    const tables = [...map.rows.keys()];
    const total = tables.reduce((n, t) => n + map.rows.get(t)!.length, 0);
    log(`source: ${total.toLocaleString('en-US')} rows in ${tables.length} tables; backup ${(lrb.length / 1e6).toFixed(0)} MB in ${layout.frames.length} chunks; age'd dump ${(age.length / 1e6).toFixed(0)} MB`);

    const kinds = (args.kinds ? args.kinds.split(',') : DAMAGE_KINDS.filter((k) => k !== 'flip-view')) as DamageKind[];
    const lines: Line[] = [];
    const target = `${SOURCE}_t`;
    const ageTarget = `${SOURCE}_age`;
    for (const kind of kinds) {
      const schema = map.entries.find((e) => e.path.endsWith('/schema.sql') && e.pax['LR.table'] === 'patient')!;
      const d = injectDamage(lrb, layout, kind, SEED, { plaintextOffset: Math.floor((schema.dataStart + schema.dataEnd) / 2) });
      const file = join(WORK, 'damaged.lrb');
      await writeFile(file, d.bytes);
      const truth = plaintextRanges(toRanges(d.lostChunks), layout.chunkSize, map.plaintextBytes);
      if (d.truncated && truth.length > 0) truth[truth.length - 1]![1] = map.plaintextBytes;
      let minimum = [...minimumLoss(map, truth).values()].reduce((n, m) => n + m.touched, 0);

      await freshDatabase(conn, target);
      let ours = { rows: 0, wrong: 0 };
      let reported: number | null = null;
      let outcome = '';
      try {
        const report = await restoreBackup({ opened: await openBackup(file, DEMO_ADMIN.password), dsn: server(target) });
        ours = await restoredRows(conn, target, tables);
        reported = report.tables.reduce((n, t) => n + (t.rowsLost ?? 0), 0);
        outcome = `${report.outcome}${report.damage.truncated ? ', cut short' : ''}${report.damage.headerCopyUsed ? ', header copy' : ''}`;
      } catch (err) {
        if (!isLrError(err)) throw err;
        outcome = err.code;
        minimum = total; // no key, no rows: nothing could be recovered by anyone
      }

      await freshDatabase(conn, ageTarget);
      await conn.query(`CREATE DATABASE ${quoteId(ageTarget)}`);
      await writeFile(join(WORK, 'damaged.age'), ageDamage(kind, d, lrb.length, age, dumpSql));
      const dt = server(ageTarget);
      const mysqlArgs = `-h${dt.host} -P${dt.port} -u${dt.user}${dt.password ? ` -p${dt.password}` : ''} ${ageTarget}`;
      sh('bash', ['-c', `age -d -i ${join(WORK, 'age-key.txt')} ${join(WORK, 'damaged.age')} 2>/dev/null | mysql ${mysqlArgs} 2>/dev/null`], { allowFail: true });
      const theirs = await restoredRows(conn, ageTarget, tables);

      const line: Line = { kind, minimum, lost: total - ours.rows, reported, wrong: ours.wrong, ageLost: total - theirs.rows, ageWrong: theirs.wrong, outcome };
      lines.push(line);
      log(`${kind}: minimum ${line.minimum}, lastresort lost ${line.lost} (${outcome}), age | mysql lost ${line.ageLost}  [${d.note.slice(0, 100)}]`);
    }
    await freshDatabase(conn, target);
    await freshDatabase(conn, ageTarget);
    print(lines, total, Date.now() - started);
    await writeFile(join(WORK, 'latest.json'), JSON.stringify({ at: new Date().toISOString(), rows: total, seed: SEED, lines }, null, 2) + '\n');
  } finally {
    await conn.end();
  }
}

function print(lines: Line[], total: number, ms: number): void {
  const n = (v: number | null) => (v === null ? '-' : v.toLocaleString('en-US'));
  const over = (l: Line) => (l.minimum === 0 ? (l.lost === 0 ? '0' : '∞') : `${(((l.lost - l.minimum) / l.minimum) * 100).toFixed(2)}%`);
  const rows = [['damage', 'minimum', 'lastresort lost', 'over minimum', 'report says lost', 'wrong rows', 'age | mysql lost', 'wrong rows', 'lastresort outcome']];
  for (const l of lines) rows.push([l.kind, n(l.minimum), n(l.lost), over(l), n(l.reported), n(l.wrong), n(l.ageLost), n(l.ageWrong), l.outcome]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  process.stdout.write(`\nRows lost to damage, of ${total.toLocaleString('en-US')} (seed ${SEED}):\n\n`);
  for (const [i, r] of rows.entries()) {
    process.stdout.write(`| ${r.map((c, k) => (k === 0 || k === 8 ? c.padEnd(widths[k]!) : c.padStart(widths[k]!))).join(' | ')} |\n`);
    if (i === 0) process.stdout.write(`|${widths.map((w, k) => (k === 0 || k === 8 ? '-'.repeat(w + 1) + '-|' : '-'.repeat(w + 1) + ':|')).join('')}\n`);
  }
  const goal = lines.filter((l) => l.lost > l.minimum * 1.01 || l.wrong > 0);
  process.stdout.write(`\nGoal (lost within 1% of the minimum, no wrong row): ${goal.length === 0 ? 'met for every kind' : `missed for ${goal.map((l) => l.kind).join(', ')}`}. ${(ms / 1000).toFixed(0)} s.\n`);
}

await main();
