/**
 * One moment across every table, whatever its engine.
 *
 * InnoDB tables are read from transactions that all start while commits are
 * held (snapshot.ts). MyISAM and Aria tables have no snapshot: they are held
 * still instead. At the moment, each holder connection takes LOCK TABLES ...
 * READ LOCAL on every non-transactional table (READ LOCAL lets the office's
 * plain INSERTs go on, unseen by the holder; UPDATE and DELETE wait) and the
 * snapshot connections start their transactions; then the freeze is let go.
 * The holders read those tables at once (held.ts) and unlock.
 *
 * The freeze makes every lock and snapshot see the same state, for the few
 * ms they take: LOCK TABLES ... READ on every table of the database from one
 * more connection (it waits on and holds this database only). With InnoDB
 * tables, an open transaction that wrote to one stops it; the next try then
 * uses BACKUP STAGE BLOCK_COMMIT where the user has RELOAD (it holds commits
 * and MyISAM/Aria writes server-wide, but waits on no open transaction).
 *
 * Never freeze the office: a lock request queued behind a long query blocks
 * every writer after it. So each request waits at most lockWaitSeconds
 * (lock_wait_timeout, with a KILL QUERY of our own request as a backstop),
 * then everything is let go at once and tried again later, until
 * lockWindowSeconds have passed. Without the moment (no LOCK TABLES grant, or
 * the window ran out) the backup is still made, each table read on its own,
 * and `notOneMoment` says why.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Connection } from '../db/connect.js';
import { connect, dropConnection, quoteId } from '../db/connect.js';
import type { Dsn } from '../db/dsn.js';
import { selectRows } from '../db/query.js';
import { log } from '../log.js';
import { INTERNAL_TABLES } from './catalog.js';
import { safeText } from '../text.js';
import { beginSnapshot, prepareSession, startSnapshot, type SnapshotOptions } from './snapshot.js';

export interface Moment {
  /** Connections reading the transactional tables, all in one snapshot; the first is the one passed in. */
  conns: Connection[];
  /** Connections holding every table of `held` still (READ LOCAL), all taken at the moment. */
  holders: Connection[];
  held: string[];
  /** Clock time (ms) the held tables' writes began to be held. */
  heldSince: number;
  /** The longest any hold of this backup stopped the office's writes so far (failed tries included). */
  longestHoldMs: number;
  /** Why the backup is not one moment, in plain words; null when it is. */
  notOneMoment: string | null;
  /** Why fewer snapshot connections than asked for are used. */
  fallback?: string;
}

export interface MomentOptions extends SnapshotOptions {
  database: string;
  exclude?: string[];
  lockWaitSeconds: number;
  lockWindowSeconds: number;
  signal?: AbortSignal;
}

export const DEFAULT_LOCK_WAIT_SECONDS = 5;
export const DEFAULT_LOCK_WINDOW_SECONDS = 600;
/** Engines whose tables a consistent-snapshot transaction covers. */
const TRANSACTIONAL = new Set(['innodb']);
/** Pauses between tries: soon at first, then every half minute. */
const RETRY_DELAYS_MS = [2_000, 5_000, 10_000, 20_000, 30_000];

export const isTransactional = (engine: string | null) => engine !== null && TRANSACTIONAL.has(engine.toLowerCase());

type Attempt =
  | { kind: 'ok'; moment: Moment }
  | { kind: 'busy'; obstacle: string; heldMs: number }
  | { kind: 'no-reload' }
  | { kind: 'no-lock-grant' }
  | { kind: 'changed' };

export async function takeMoment(dsn: Dsn, first: Connection, opts: MomentOptions): Promise<Moment> {
  const logger = log('backup');
  const deadline = Date.now() + opts.lockWindowSeconds * 1000;
  // LOCK TABLES first: it waits on and holds this database's tables only, where BACKUP STAGE
  // waits on and holds every write on the server (other databases, other tools' long statements).
  let freeze: Freeze = 'lock-all';
  let stageAllowed = true;
  let longestHoldMs = 0;
  for (let attempt = 1; ; attempt++) {
    const tables = await baseTables(first, opts.database, opts.exclude);
    const held = tables.filter((t) => !isTransactional(t.engine)).map((t) => t.name);
    if (held.length === 0) {
      const s = await beginSnapshot(dsn, first, opts);
      return { conns: s.conns, holders: [], held: [], heldSince: 0, longestHoldMs: s.heldMs, notOneMoment: null, fallback: s.fallback };
    }
    const r = await tryMoment(dsn, first, { ...opts, freeze, held, all: tables.map((t) => t.name), withSnapshots: held.length < tables.length });
    if (r.kind === 'ok') return { ...r.moment, longestHoldMs: Math.max(longestHoldMs, r.moment.longestHoldMs) };
    if (r.kind === 'no-reload') {
      logger.info('the database user has no RELOAD privilege (or the server no BACKUP STAGE): the moment is held with LOCK TABLES only');
      stageAllowed = false;
      freeze = 'lock-all';
      continue;
    }
    if (r.kind === 'no-lock-grant') {
      const grant = `GRANT LOCK TABLES ON ${quoteId(opts.database)}.* TO the backup's database user`;
      return withoutMoment(dsn, first, opts, longestHoldMs, `the database user may not lock tables, so the MyISAM/Aria tables were each read at their own time (${grant})`);
    }
    if (r.kind === 'busy') {
      longestHoldMs = Math.max(longestHoldMs, r.heldMs);
      // An open InnoDB transaction stops LOCK TABLES, not BACKUP STAGE BLOCK_COMMIT: with InnoDB tables, try each in turn.
      if (held.length < tables.length && stageAllowed) freeze = freeze === 'lock-all' ? 'stage' : 'lock-all';
      logger.warn({ attempt, waitedFor: r.obstacle, lockWaitSeconds: opts.lockWaitSeconds }, 'could not hold the tables still for one moment; let go so the office can write, will try again');
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const why = r.kind === 'busy' ? r.obstacle : 'the tables kept changing';
      return withoutMoment(dsn, first, opts, longestHoldMs, `for ${opts.lockWindowSeconds} s the tables could not be held still for one moment (in the way: ${why})`);
    }
    // A table dropped between the listing and the lock ('changed'): list again soon, never in a tight loop.
    await delay(Math.min(r.kind === 'busy' ? RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length) - 1]! : 1_000, left), undefined, { signal: opts.signal });
  }
}

async function withoutMoment(dsn: Dsn, first: Connection, opts: MomentOptions, longestHoldMs: number, why: string): Promise<Moment> {
  log('backup').warn({ why }, 'this backup is not one moment');
  // One connection, no freeze: a BACKUP STAGE now would queue behind what just stood in the way, and the office with it.
  const s = await beginSnapshot(dsn, first, { ...opts, connections: 1 });
  return { conns: s.conns, holders: [], held: [], heldSince: 0, longestHoldMs: Math.max(longestHoldMs, s.heldMs), notOneMoment: why, fallback: s.fallback };
}

interface BaseTable {
  name: string;
  engine: string | null;
}

async function baseTables(conn: Connection, database: string, exclude: string[] = []): Promise<BaseTable[]> {
  const rows = await selectRows<{ name: string; engine: string | null }>(conn, "SELECT TABLE_NAME AS name, ENGINE AS engine FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME", [database]);
  const skip = new Set(exclude);
  // A table the server cannot open (ENGINE NULL) cannot be locked either; the dump reports it as it always has.
  return rows.map((r) => ({ name: String(r.name), engine: r.engine === null ? null : String(r.engine) })).filter((t) => t.engine !== null && !skip.has(t.name) && !INTERNAL_TABLES.has(t.name));
}

type Freeze = 'stage' | 'lock-all';

interface TryOptions extends MomentOptions {
  freeze: Freeze;
  held: string[];
  all: string[];
  withSnapshots: boolean;
}

async function tryMoment(dsn: Dsn, first: Connection, opts: TryOptions): Promise<Attempt> {
  const opened: Connection[] = [];
  const open = async () => {
    const c = await connect(dsn);
    opened.push(c);
    await prepareSession(c);
    await c.query(`SET SESSION lock_wait_timeout = ${Math.max(1, Math.round(opts.lockWaitSeconds))}`);
    return c;
  };
  const lanes = Math.max(1, opts.connections);
  let frozenAt = 0;
  try {
    await prepareSession(first);
    const control = await open();
    const holders: Connection[] = [];
    for (let i = 0; i < lanes; i++) holders.push(await open());
    const extra: Connection[] = [];
    for (let i = 1; opts.withSnapshots && i < lanes; i++) extra.push(await open());
    const bounded = (conn: Connection, sql: string) => boundedQuery(conn, sql, opts.lockWaitSeconds, first);

    frozenAt = Date.now();
    if (opts.freeze === 'stage') {
      await bounded(control, 'BACKUP STAGE START');
      await bounded(control, 'BACKUP STAGE BLOCK_COMMIT');
    } else await bounded(control, `LOCK TABLES ${opts.all.map((t) => `${quoteId(t)} READ`).join(', ')}`);
    const readLocal = `LOCK TABLES ${opts.held.map((t) => `${quoteId(t)} READ LOCAL`).join(', ')}`;
    for (const h of holders) await bounded(h, readLocal);
    for (const [i, c] of [first, ...extra].entries()) {
      if (i > 0) await opts.betweenSnapshots?.();
      await startSnapshot(c);
    }
    await control.query(opts.freeze === 'stage' ? 'BACKUP STAGE END' : 'UNLOCK TABLES');
    const freezeMs = Date.now() - frozenAt;
    await control.end().catch(() => control.destroy());
    log('backup').info({ freeze: opts.freeze, freezeMs, tables: opts.held.length, holders: holders.length }, 'the moment: every table held still, snapshots started');
    return { kind: 'ok', moment: { conns: [first, ...extra], holders, held: opts.held, heldSince: frozenAt, longestHoldMs: freezeMs, notOneMoment: null } };
  } catch (err) {
    const heldMs = frozenAt === 0 ? 0 : Date.now() - frozenAt;
    for (const c of opened) dropConnection(c);
    await first.query('ROLLBACK').catch(() => {});
    return classify(err, first, opened, heldMs, opts.database);
  }
}

async function classify(err: unknown, first: Connection, ours: Connection[], heldMs: number, database: string): Promise<Attempt> {
  const code = (err as { code?: string }).code;
  // No RELOAD (1227), or a server without BACKUP STAGE (MySQL, MariaDB before 10.4: a syntax error).
  if (code === 'ER_SPECIFIC_ACCESS_DENIED_ERROR' || code === 'ER_PARSE_ERROR') return { kind: 'no-reload' };
  if (code === 'ER_DBACCESS_DENIED_ERROR' || code === 'ER_TABLEACCESS_DENIED_ERROR') return { kind: 'no-lock-grant' };
  if (code === 'ER_NO_SUCH_TABLE') return { kind: 'changed' };
  if (code === 'ER_LOCK_WAIT_TIMEOUT' || code === 'ER_QUERY_INTERRUPTED' || code === 'ER_LOCK_DEADLOCK') return { kind: 'busy', obstacle: await whoIsInTheWay(first, ours, database), heldMs };
  throw err;
}

/** Runs `sql`; if the server has not answered a second after its own wait limit, asks it (from `killer`) to stop that statement. */
async function boundedQuery(conn: Connection, sql: string, waitSeconds: number, killer: Connection): Promise<void> {
  const timer = setTimeout(() => void killer.query(`KILL QUERY ${Number(conn.threadId)}`).catch(() => {}), waitSeconds * 1000 + 1000);
  try {
    await conn.query(sql);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The longest-running statement of another session, in words that name no
 * data (no query text): one in the backup's database first (the office's
 * sessions use it), else any on the server.
 */
async function whoIsInTheWay(conn: Connection, ours: Connection[], database: string): Promise<string> {
  const own = [conn, ...ours].map((c) => Number(c.threadId)).filter(Number.isSafeInteger);
  try {
    const rows = await selectRows<{ id: number; user: string; host: string; time: number; state: string | null; command: string }>(
      conn,
      `SELECT ID AS id, USER AS user, HOST AS host, TIME AS time, STATE AS state, COMMAND AS command FROM information_schema.PROCESSLIST WHERE ID NOT IN (${own.join(', ')}) AND COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump', 'Killed') ORDER BY DB <=> ? DESC, TIME DESC LIMIT 1`,
      [database],
    );
    const r = rows[0];
    if (!r) return 'another session (this database user may not see which: it lacks the PROCESS privilege)';
    const host = String(r.host ?? '').replace(/:\d+$/, '');
    const doing = r.state ? String(r.state) : String(r.command);
    return safeText(`connection ${r.id} of ${String(r.user)}@${host}, running for ${r.time} s (${doing})`, 200);
  } catch {
    return 'another session';
  }
}
