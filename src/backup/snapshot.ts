/**
 * One consistent snapshot, possibly seen through several connections.
 *
 * Each connection's START TRANSACTION WITH CONSISTENT SNAPSHOT makes its own
 * read view; two read views are the same only if nothing commits between
 * them. MariaDB (10.4 and later) can hold commits for that moment with
 * BACKUP STAGE BLOCK_COMMIT: reads and writes go on, table locks are not
 * taken, and a commit that arrives waits the few milliseconds it takes to
 * start the transactions. The stage is held on a separate connection because
 * BACKUP STAGE END commits the transaction of the connection that runs it.
 *
 * Where that is not possible (MySQL, older MariaDB, a user without the RELOAD
 * privilege, another backup holding the stage, or a wait longer than
 * `lockWaitSeconds` behind running DDL), the dump uses one connection, as
 * mysqldump --single-transaction does: slower, just as consistent.
 */
import type { Connection } from '../db/connect.js';
import { connect } from '../db/connect.js';
import type { Dsn } from '../db/dsn.js';

export interface Snapshot {
  /** Every connection sees the same snapshot; the first is the one passed in. */
  conns: Connection[];
  /** Why fewer connections than asked for are used. */
  fallback?: string;
  /** How long commits were held while the connections' snapshots started (0 with one connection). */
  heldMs: number;
}

export interface SnapshotOptions {
  connections: number;
  /** How long the stage may wait for the server (running DDL, another backup). */
  lockWaitSeconds?: number;
  /** Test hook: runs between the connections' snapshots, while commits are held. */
  betweenSnapshots?: () => Promise<void>;
}

export async function prepareSession(conn: Connection): Promise<void> {
  await conn.query("SET SESSION time_zone = '+00:00'");
  // A connection may be held back for a long while (its reader paused while
  // another writes a big row or a whole unsplittable table under --max-rate):
  // the server must not drop it after its default 60 s of unsent results, as
  // mydumper also ensures. A day covers any night's window; a dead client
  // still closes the socket, and the hung-server watch covers the other side.
  await conn.query('SET SESSION net_write_timeout = 86400');
  await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
}

export const startSnapshot = (conn: Connection) => conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');

export async function beginSnapshot(dsn: Dsn, first: Connection, opts: SnapshotOptions): Promise<Snapshot> {
  await prepareSession(first);
  if (opts.connections <= 1) {
    await startSnapshot(first);
    return { conns: [first], heldMs: 0 };
  }
  const extra: Connection[] = [];
  let control: Connection | null = null;
  let fallback: string | undefined;
  let heldFrom = 0;
  try {
    for (let i = 1; i < opts.connections; i++) {
      const conn = await connect(dsn);
      extra.push(conn);
      await prepareSession(conn);
    }
    control = await connect(dsn);
    await control.query(`SET SESSION lock_wait_timeout = ${Math.max(1, Math.round(opts.lockWaitSeconds ?? 5))}`);
    await control.query('BACKUP STAGE START');
    heldFrom = Date.now();
    await control.query('BACKUP STAGE BLOCK_COMMIT');
  } catch (err) {
    fallback = describe(err);
  }
  if (fallback !== undefined) {
    await control?.end().catch(() => control?.destroy());
    for (const conn of extra) await conn.end().catch(() => conn.destroy());
    await startSnapshot(first);
    return { conns: [first], fallback, heldMs: 0 };
  }
  const conns = [first, ...extra];
  try {
    for (const [i, conn] of conns.entries()) {
      if (i > 0) await opts.betweenSnapshots?.();
      await startSnapshot(conn);
    }
  } catch (err) {
    for (const conn of extra) conn.destroy();
    throw err;
  } finally {
    // Ending the connection would release the stage too; END says so at once.
    await control?.query('BACKUP STAGE END').catch(() => {});
    await control?.end().catch(() => control?.destroy());
  }
  return { conns, heldMs: Date.now() - heldFrom };
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ?? e.message?.slice(0, 120) ?? 'unknown';
}
