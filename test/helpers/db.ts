/**
 * Database helpers for tests: find (or start) the test server, make throwaway
 * databases that are dropped when the test file ends, and compare two
 * databases byte for byte using only SQL.
 */
import { existsSync, mkdirSync, chownSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after } from 'node:test';
import { connect, quoteId, type Connection } from '../../src/db/connect.js';
import { formatDsn, parseDsn } from '../../src/db/dsn.js';
import { objectsAccountName, OBJECTS_HOST } from '../../src/restore/definers.js';

import { compareDatabasesOn, type CompareOptions, type Difference } from './compare.js';
import './producer-env.js';

export type { CompareOptions, Difference } from './compare.js';

const MARIADBD = '/usr/sbin/mariadbd';

/** The test server, without a database: LASTRESORT_TEST_DSN or root@127.0.0.1:3306. */
export function serverDsn(): string {
  return process.env.LASTRESORT_TEST_DSN ?? 'mysql://root@127.0.0.1:3306/';
}

/** The test server's DSN naming `database`. */
export function dsnFor(database: string): string {
  return formatDsn({ ...parseDsn(serverDsn(), { requireDatabase: false }), database }, { withPassword: true });
}

/** A new connection to the test server (optionally using `database`); the caller ends it. */
export async function connectServer(database?: string): Promise<Connection> {
  const dsn = parseDsn(serverDsn(), { requireDatabase: false });
  if (database !== undefined) dsn.database = database;
  return connect(dsn, { noDatabase: database === undefined, extra: { multipleStatements: false } });
}

async function answers(): Promise<boolean> {
  try {
    const conn = await connectServer();
    await conn.query('SELECT 1');
    await conn.end();
    return true;
  } catch {
    return false;
  }
}

let ready: Promise<void> | null = null;

/** Make sure the test server answers, starting the local MariaDB if it is installed. */
/** Runs one statement in `database` on a connection of its own; the rows (empty for a statement without). */
export async function queryIn(database: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const c = await connectServer(database);
  try {
    return ((await c.query(sql, params)) as unknown as [Record<string, unknown>[]])[0];
  } finally {
    await c.end();
  }
}

/**
 * Raises the server's max_allowed_packet to at least `bytes` (never lowers it,
 * as bench/bigrows.ts does): a row must fit in a packet. Sessions opened
 * after this see the new limit.
 */
export async function raiseMaxAllowedPacket(bytes: number): Promise<void> {
  const admin = await connectServer();
  try {
    const [[{ p }]] = (await admin.query('SELECT @@GLOBAL.max_allowed_packet AS p')) as unknown as [[{ p: number }]];
    if (Number(p) < bytes) await admin.query(`SET GLOBAL max_allowed_packet = ${Math.floor(bytes)}`);
  } finally {
    await admin.end();
  }
}

export function ensureServer(): Promise<void> {
  ready ??= (async () => {
    if (await answers()) return;
    const host = parseDsn(serverDsn(), { requireDatabase: false }).host;
    if (process.env.LASTRESORT_TEST_DSN && !['127.0.0.1', 'localhost', '::1'].includes(host)) {
      throw new Error(`The test server at ${host} does not answer (LASTRESORT_TEST_DSN). Start it, or unset the variable.`);
    }
    if (!existsSync(MARIADBD)) {
      throw new Error(`No database server answers and ${MARIADBD} is not installed. Run .ci/run (as root) to install and start MariaDB.`);
    }
    startMariadb();
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (await answers()) return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`Started ${MARIADBD} but it did not answer within 30 s. See /var/log/mysql/error.log, or run .ci/run.`);
  })();
  return ready;
}

function startMariadb(): void {
  // mariadbd needs its socket directory, which tmpfs loses on reboot.
  if (!existsSync('/run/mysqld')) {
    mkdirSync('/run/mysqld', { recursive: true });
    try {
      const uid = Number(execFileSync('id', ['-u', 'mysql'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'mysql'], { encoding: 'utf8' }).trim());
      chownSync('/run/mysqld', uid, gid);
    } catch {
      // No mysql user: mariadbd will say so in its log.
    }
  }
  const r = spawnSync('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', MARIADBD, '--', '--user=mysql'], { stdio: 'inherit' });
  if (r.error) throw new Error(`Could not run start-stop-daemon: ${r.error.message}. Run .ci/run.`);
}

const temp = new Set<string>();

/**
 * A unique database name (prefix + pid + random), dropped when the test file
 * ends. Created empty unless `create: false` (for targets that must not exist).
 */
export async function createTempDatabase(prefix = 'lrtest', opts: { create?: boolean } = {}): Promise<string> {
  await ensureServer();
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  temp.add(name);
  if (opts.create !== false) {
    const conn = await connectServer();
    try {
      await conn.query(`CREATE DATABASE ${quoteId(name)} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci`);
    } finally {
      await conn.end();
    }
  }
  return name;
}

export async function dropDatabase(name: string): Promise<void> {
  const conn = await connectServer();
  try {
    await conn.query(`DROP DATABASE IF EXISTS ${quoteId(name)}`);
    // The account a restore made for the database's objects goes with it.
    await conn.query('DROP USER IF EXISTS ?@?', [objectsAccountName(name), OBJECTS_HOST]);
  } finally {
    await conn.end();
  }
  temp.delete(name);
}

/** Drop every database made by createTempDatabase (LASTRESORT_KEEP_DBS=1 keeps them for a look). */
export async function dropTempDatabases(): Promise<void> {
  if (temp.size === 0 || process.env.LASTRESORT_KEEP_DBS === '1') return;
  for (const name of [...temp]) await dropDatabase(name);
}

/**
 * Compare databases `a` and `b` on the test server, byte for byte, through SQL
 * only (see compare.ts). Returns [] when they are identical.
 */
export async function compareDatabases(a: string, b: string, opts: CompareOptions = {}): Promise<Difference[]> {
  const conn = await connectServer();
  try {
    return await compareDatabasesOn(conn, a, b, opts);
  } finally {
    await conn.end();
  }
}

/** Differences as readable lines, for assertion messages. */
export function describeDifferences(diffs: readonly Difference[]): string {
  return diffs.map((d) => `${d.kind}${d.table ? ` [${d.table}]` : ''}: ${d.detail}`).join('\n');
}

after(dropTempDatabases);
