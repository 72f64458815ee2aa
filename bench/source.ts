/**
 * The benchmark's source database: an Open Dental-shaped database of about
 * 3 million rows per unit of scale (fixtures/generate.ts, about 31 rows per
 * patient), named by its size (lr_bench_3m, lr_bench_6m) and kept between
 * runs. It is reused when its patient count matches and the admin is
 * enrolled; otherwise it is generated again and the admin enrolled with the
 * real (default, strong) KDF parameters, so restores pay the honest cost.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect, quoteId, type Connection } from '../src/db/connect.js';
import { formatDsn, parseDsn, type Dsn } from '../src/db/dsn.js';
import { processCpuSeconds } from './measure.js';

export const PATIENTS_PER_SCALE = 100_000;
export const ADMIN_USER = 'jsmith';
export const ADMIN_PASSWORD = 'correct horse battery staple';

/** lr_bench_3m, lr_bench_6m; a size that is no whole million is named by its patients. */
export function sourceName(scale: number): string {
  const millions = scale * 3;
  return Number.isInteger(millions) ? `lr_bench_${millions}m` : `lr_bench_${Math.round(scale * PATIENTS_PER_SCALE)}p`;
}

export function serverDsn(database = ''): Dsn {
  return { ...parseDsn(process.env.LASTRESORT_BENCH_DSN ?? 'mysql://root@127.0.0.1:3306/', { requireDatabase: false }), database };
}

export function dsnText(d: Dsn): string {
  return formatDsn(d, { withPassword: true });
}

/** For lastresort's own command line, which refuses a password in a DSN: the password goes in LASTRESORT_DB_PASSWORD (inherited). */
export function cliDsnText(d: Dsn): string {
  if (d.password) process.env.LASTRESORT_DB_PASSWORD = d.password;
  return formatDsn(d);
}

async function scalar(conn: Connection, sql: string, params: unknown[] = []): Promise<unknown> {
  const [rows] = (await conn.query({ sql, rowsAsArray: true }, params)) as unknown as [unknown[][]];
  return rows[0]?.[0];
}

export interface SourceInfo {
  database: string;
  patients: number;
  rows: number;
  /** Data + index bytes as information_schema estimates them. */
  bytesEstimate: number;
  generatedSeconds: number | null;
  reused: boolean;
}

export function run(argv: string[], what: string): void {
  const r = spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}): ${argv.join(' ')}`);
}

/**
 * The kinds of source: `opendental` (the compact InnoDB subset, 100,000
 * patients per unit of scale) and `opendental2025` (the real 2025 schema,
 * every table MyISAM as in practices; about 6,000 patients per unit of scale
 * make a dump of the same size as the InnoDB run's).
 */
export type SourceKind = 'opendental' | 'opendental2025';
export const PATIENTS_PER_SCALE_2025 = 6_000;

export function sourceFor(kind: SourceKind, scale: number): { database: string; patients: number } {
  if (kind === 'opendental') return { database: sourceName(scale), patients: Math.round(scale * PATIENTS_PER_SCALE) };
  const patients = Math.round(scale * PATIENTS_PER_SCALE_2025);
  return { database: `lr_bench_od2025_${patients}p`, patients };
}

export async function ensureSource(scale: number, opts: { passwordFile: string; cli: string; log: (s: string) => void; kind?: SourceKind }): Promise<SourceInfo> {
  const kind = opts.kind ?? 'opendental';
  const { database, patients } = sourceFor(kind, scale);
  const conn = await connect(serverDsn(), { noDatabase: true });
  try {
    const usable = async (): Promise<boolean> => {
      const exists = await scalar(conn, 'SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (?, ?)', [database, 'patient', 'lastresort_keyring']);
      if (Number(exists) !== 2) return false;
      const n = await scalar(conn, `SELECT COUNT(*) FROM ${quoteId(database)}.patient`);
      const keys = await scalar(conn, `SELECT COUNT(*) FROM ${quoteId(database)}.lastresort_keyring`);
      return Number(n) === patients && Number(keys) > 0;
    };
    let generatedSeconds: number | null = null;
    const reused = await usable();
    if (!reused) {
      const perPatient = kind === 'opendental' ? 30.8 : 320;
      opts.log(`generating ${database} (${kind}, ${patients} patients, about ${Math.round((patients * perPatient) / 1e5) / 10} million rows)…`);
      const started = Date.now();
      run([process.execPath, '--import', 'tsx', 'fixtures/generate.ts', '--dsn', dsnText(serverDsn(database)), '--kind', kind, '--patients', String(patients), '--drop'], 'generating the source database');
      generatedSeconds = Math.round((Date.now() - started) / 100) / 10;
    }
    // Every run: the producer key that makes the bench's backups is the bench's own (LASTRESORT_PRODUCER_KEY), and pins only what enrolled with it.
    run([process.execPath, opts.cli, 'keys', 'enroll', '--source', dsnText(serverDsn(database)), '--user', ADMIN_USER, '--password-file', opts.passwordFile], 'enrolling the admin');
    if (!(await usable())) throw new Error(`${database} is still not usable after generating it`);
    let rows = 0;
    const [tables] = (await conn.query('SELECT TABLE_NAME AS t, DATA_LENGTH + INDEX_LENGTH AS b FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = ?', [database, 'BASE TABLE'])) as unknown as [{ t: string; b: number }[]];
    let bytesEstimate = 0;
    for (const t of tables) {
      rows += Number(await scalar(conn, `SELECT COUNT(*) FROM ${quoteId(database)}.${quoteId(t.t)}`));
      bytesEstimate += Number(t.b);
    }
    return { database, patients, rows, bytesEstimate, generatedSeconds, reused };
  } finally {
    await conn.end();
  }
}

/** Drops a restored target; the sources are kept for the next run. */
export async function dropDatabase(database: string): Promise<void> {
  if (!/^lr_bench_.*_r_/.test(database)) throw new Error(`refusing to drop ${database}: not a benchmark target`);
  const conn = await connect(serverDsn(), { noDatabase: true });
  try {
    await conn.query(`DROP DATABASE IF EXISTS ${quoteId(database)}`);
  } finally {
    await conn.end();
  }
}

export async function createEmptyDatabase(database: string): Promise<void> {
  const conn = await connect(serverDsn(), { noDatabase: true });
  try {
    await conn.query(`CREATE DATABASE ${quoteId(database)} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
  } finally {
    await conn.end();
  }
}

/**
 * Lets the server finish the previous step's background work (flushing dirty
 * pages, purge after a DROP) before the next measurement, so no tool pays for
 * the one before it: waits until at most 5% of the buffer pool is dirty, or
 * the count stops falling for 5 s, or `maxMs` passes.
 */
export async function settle(maxMs = 30_000): Promise<{ ms: number; dirtyPages: number }> {
  const conn = await connect(serverDsn(), { noDatabase: true });
  const started = Date.now();
  let best = Infinity;
  let bestAt = started;
  try {
    for (;;) {
      const [rows] = (await conn.query("SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_buffer_pool_pages_dirty', 'Innodb_buffer_pool_pages_total')")) as unknown as [{ Variable_name: string; Value: string }[]];
      const v = Object.fromEntries(rows.map((r) => [r.Variable_name, Number(r.Value)]));
      const dirty = v.Innodb_buffer_pool_pages_dirty ?? 0;
      const total = v.Innodb_buffer_pool_pages_total ?? 1;
      const now = Date.now();
      if (dirty < best) {
        best = dirty;
        bestAt = now;
      }
      if (dirty <= total * 0.05 || now - bestAt > 5_000 || now - started > maxMs) return { ms: now - started, dirtyPages: dirty };
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await conn.end();
  }
}

/**
 * Waits until the server is idle (under 5 % of one core for a second), at
 * most `maxMs`: background work left by the step before (purge after the
 * source was generated, pages flushed after a restore) must not be billed to
 * the next tool measured, which would always be the same one.
 */
export async function quiet(pid: number | null, maxMs = 60_000): Promise<number> {
  if (pid === null) return 0;
  const started = Date.now();
  for (;;) {
    const before = processCpuSeconds(pid);
    await new Promise((r) => setTimeout(r, 1000));
    const after = processCpuSeconds(pid);
    if (before === null || after === null || after - before < 0.05 || Date.now() - started > maxMs) return Date.now() - started;
  }
}

/** The server's process id when it runs on this machine (read from its pid file), else null. */
export async function serverPid(): Promise<number | null> {
  const conn = await connect(serverDsn(), { noDatabase: true });
  try {
    const [rows] = (await conn.query('SELECT @@pid_file AS f')) as unknown as [{ f: string }[]];
    const pid = Number(readFileSync(rows[0].f, 'utf8').trim());
    return Number.isInteger(pid) && existsSync(`/proc/${pid}/stat`) ? pid : null;
  } catch {
    return null;
  } finally {
    await conn.end();
  }
}

export async function serverFacts(): Promise<Record<string, string>> {
  const conn = await connect(serverDsn(), { noDatabase: true });
  try {
    const [rows] = (await conn.query(
      "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('version', 'innodb_buffer_pool_size', 'innodb_log_file_size', 'innodb_flush_log_at_trx_commit', 'innodb_doublewrite', 'log_bin', 'max_allowed_packet')",
    )) as unknown as [{ Variable_name: string; Value: string }[]];
    return Object.fromEntries(rows.map((r) => [r.Variable_name, r.Value]));
  } finally {
    await conn.end();
  }
}
