/**
 * The restore: one pass over the backup, from file to server.
 *
 *   file -> frames -> decrypt (holes for lost chunks) -> tar entries -> rows -> LOAD DATA
 *
 * All of it is pulled by the loop below, one entry at a time, so the server's
 * pace sets the pace of reading and memory stays flat. When the file is
 * intact enough to be mapped from its headers, two lanes (lanes.ts) take
 * tables from one queue, read each from its place in the file and load it
 * over their own connection, then add its secondary indexes; otherwise one
 * lane reads the whole file in order while another connection adds each
 * table's indexes behind it. Each table's outcome comes from the server's own
 * counts; damage is reported, never guessed over.
 */
import { LrError } from '../errors.js';
import { connect, quoteId, translateDbError, type Connection } from '../db/connect.js';
import { describeDsn, type Dsn } from '../db/dsn.js';
import { log } from '../log.js';
import { readPrefix, readTar, readWhole, type BodyPiece, type OrphanNext, type TarStats } from '../archive/tar-reader.js';
import { PAX_FIRST_ROW, PAX_ROWS, PAX_TABLE, roleOf, type Catalog, type CatalogTable, type Manifest, type ObjectDefinition, type TableSummary } from '../archive/layout.js';
import { newDamageReport, type DamageReport, type Segment } from '../format/reader.js';
import { PayloadReader } from '../format/random-access.js';
import { skimArchive } from '../archive/skim.js';
import { planLanes, takeFrom, type LanePlan } from './lanes.js';
import { payloadOf, type OpenedBackup } from '../decrypt/open.js';
import { cleanRows, LossTracker } from './clean-rows.js';
import { loadRows } from './load-data.js';
import { createObjects, type ObjectOutcome } from './objects.js';
import { createProgressTable, dropProgressTable, keys, readProgress, record, type ProgressState } from './progress-table.js';
import { prepareLoadSession } from './session.js';
import { alterAdding, splitCreateTable, type SplitSchema } from './schema.js';
import { checkTargetSafety, inspectTarget } from './target.js';
import { buildReport, type RestoreReport } from './outcome.js';
import { columnsFromServer } from './columns.js';
import { salvageCatalogTables } from './salvage.js';
import { RETRY_LOCK_WAIT_S, takeRestoreLock } from './lock.js';
import { recountFromServer } from './recount.js';
import { failureCode } from './server-faults.js';
import { SERVER_STOPPED, tellPerson } from '../db/watchdog.js';

export interface RestoreProgress {
  table: string | null;
  tablesDone: number;
  tables: number;
  rows: number;
  /** Plaintext read so far, and the file size as the estimate of the whole. */
  bytes: number;
  totalBytes: number;
}

export interface RestoreOptions {
  opened: OpenedBackup;
  /** Server and database to restore into (database required). */
  dsn: Dsn;
  tables?: string[];
  exclude?: string[];
  force?: boolean;
  resume?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: RestoreProgress) => void;
  /** How often a dropped connection is retried by resuming (default 3). */
  retries?: number;
  /** Tables loaded at once (default 2); 1 reads the file in order. */
  lanes?: number;
}

/** One reader of the file feeding one load connection. */
interface Lane {
  conn: Connection | null;
  current: TableState | null;
}

export interface TableState {
  index: number;
  name: string;
  table: CatalogTable | null;
  split: SplitSchema | null;
  created: boolean;
  skipped: boolean;
  seen: boolean;
  expected: number | null;
  restored: number;
  nextFirstRow: number;
  tracker: LossTracker | null;
  damaged: boolean;
  finished: boolean;
  error?: string;
}

const CONNECTION_LOST = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ER_SERVER_SHUTDOWN', 'ER_CONNECTION_KILLED', 'ETIMEDOUT', SERVER_STOPPED]);
const isConnectionLost = (err: unknown) => CONNECTION_LOST.has((err as { code?: string })?.code ?? '') || CONNECTION_LOST.has(((err as { cause?: { code?: string } })?.cause?.code) ?? '');

export async function restoreBackup(opts: RestoreOptions): Promise<RestoreReport> {
  const started = Date.now();
  const retries = opts.retries ?? 3;
  let resume = !!opts.resume;
  for (let attempt = 0; ; attempt++) {
    try {
      return await restorePass({ ...opts, resume }, started, attempt > 0);
    } catch (err) {
      if (!isConnectionLost(err) || attempt >= retries || opts.signal?.aborted) throw err instanceof LrError ? err : translateDbError(err, opts.dsn);
      log('restore').warn({ attempt, code: (err as { code?: string }).code }, 'connection lost; resuming');
      tellPerson(`The connection to the target server was lost; waiting for it to answer, then continuing where the restore stopped…`);
      await waitForServer(opts.dsn, 60_000);
      resume = true;
    }
  }
}

async function waitForServer(dsn: Dsn, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      const c = await connect(dsn, { noDatabase: true });
      await c.end();
      return;
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function restorePass(opts: RestoreOptions, started: number, retrying: boolean): Promise<RestoreReport> {
  const logger = log('restore');
  const { located } = opts.opened;
  const database = opts.dsn.database;
  const where = describeDsn({ ...opts.dsn, database: '' });

  const admin = await connect(opts.dsn, { noDatabase: true });
  await takeRestoreLock(admin, database, where, retrying ? RETRY_LOCK_WAIT_S : 0).catch(async (err: unknown) => {
    await admin.end().catch(() => admin.destroy());
    throw err;
  });
  const lanes: Lane[] = [];
  const newLane = (): Lane => {
    const lane: Lane = { conn: null, current: null };
    lanes.push(lane);
    return lane;
  };
  const main = newLane();
  let index: Connection | null = null;
  let mapped: { reader: PayloadReader; plan: LanePlan; end: number } | null = null;
  try {
    const state = await inspectTarget(admin, database);
    const mode = retrying ? 'resume' : checkTargetSafety(state, { database, backupDatabase: located.header.database, fileId: located.header.fileId, force: opts.force, resume: opts.resume, where });
    logger.info({ mode, tables: state.tables }, 'target checked');

    let bytesRead = 0;
    const counted = async function* (segments: AsyncIterable<Segment>): AsyncGenerator<Segment> {
      for await (const s of segments) {
        bytesRead += s.data ? s.data.length : s.hole;
        yield s;
      }
    };

    let catalog: Catalog | null = null;
    let salvaged: CatalogTable[] = []; // the whole table entries of a damaged catalog
    let manifest: Manifest | null = null;
    let progress: ProgressState = new Map();
    const objects: ObjectDefinition[] = [];
    const summaries = new Map<number, TableSummary>();
    const tables = new Map<number, TableState>();
    const include = opts.tables ? new Set(opts.tables) : null;
    const exclude = new Set(opts.exclude ?? []);
    let totalRows = 0;
    let indexQueue: Promise<void> = Promise.resolve();
    let dbReady = false;

    const ensureDatabase = async () => {
      if (dbReady) return;
      const cs = catalog?.charset ?? 'utf8mb4';
      const co = catalog?.collation ?? 'utf8mb4_general_ci';
      await admin.query(`CREATE DATABASE IF NOT EXISTS ${quoteId(database)} CHARACTER SET ${quoteId(cs)} COLLATE ${quoteId(co)}`);
      main.conn = await connect(opts.dsn);
      index = await connect(opts.dsn);
      await prepareLoadSession(main.conn);
      await prepareLoadSession(index);
      await createProgressTable(main.conn, located.header.fileId);
      progress = (await readProgress(main.conn)) ?? new Map();
      dbReady = true;
    };

    const laneConn = async (lane: Lane): Promise<Connection> => {
      await ensureDatabase();
      if (!lane.conn) {
        lane.conn = await connect(opts.dsn);
        await prepareLoadSession(lane.conn);
      }
      return lane.conn;
    };

    const stateFor = (i: number, name: string | null): TableState => {
      let s = tables.get(i);
      if (!s) {
        const table = (catalog?.tables ?? salvaged).find((t) => t.index === i) ?? null;
        const tableName = table?.name ?? name ?? `table #${i}`;
        s = { index: i, name: tableName, table, split: null, created: false, skipped: (include !== null && !include.has(tableName)) || exclude.has(tableName), seen: false, expected: null, restored: 0, nextFirstRow: 0, tracker: null, damaged: false, finished: false };
        tables.set(i, s);
      }
      return s;
    };

    const createTable = async (s: TableState, create: string | null, lane: Lane) => {
      if (s.created || s.skipped || s.error) return;
      const conn = await laneConn(lane);
      if (progress.has(keys.created(s.index))) {
        s.created = true;
      } else {
        const sql = create ?? s.table?.create ?? null;
        if (!sql) {
          s.error = 'its definition was in a damaged part of the backup';
          return;
        }
        s.split = splitCreateTable(s.name, sql, s.table?.engine ?? engineOf(sql));
        try {
          await conn.query(`DROP TABLE IF EXISTS ${quoteId(s.name)}`);
          await conn.query(s.split.create);
          await record(conn, keys.created(s.index));
          s.created = true;
        } catch (err) {
          if (isConnectionLost(err)) throw err;
          s.error = `could not be created (${failureCode(err, s.name)})`;
          return;
        }
      }
      if (!s.split) s.split = splitCreateTable(s.name, create ?? s.table?.create ?? '', s.table?.engine ?? null);
      if (!s.table) s.table = await columnsFromServer(conn, s.index, s.name);
      const t = s.table;
      const positions = t.primaryKey.map((k) => t.columns.findIndex((c) => c.name === k)).filter((p) => p >= 0);
      s.tracker = new LossTracker(t.primaryKey, positions.length === t.primaryKey.length ? positions : []);
    };

    /**
     * A table's rows are in: add its secondary indexes. Read in order, the
     * index connection builds them while the next table loads; in lanes, the
     * lane's own connection builds them before taking its next table, so the
     * server never has more heavy work than cores, and no queue of index
     * builds is left when the last rows are in.
     */
    const finishTable = async (s: TableState | null, lane: Lane) => {
      if (!s || s.finished) return;
      s.finished = true;
      if (!s.created || s.skipped) return;
      const split = s.split;
      const build = async (conn: Connection) => {
        if (progress.has(keys.finished(s.index))) return;
        try {
          // A resumed restore may find some of them built before the interruption.
          const alter = split?.indexes.length ? alterAdding(s.name, split.indexes, await existingNames(conn, s.name, 'index')) : null;
          if (alter) await conn.query(alter);
          await record(conn, keys.finished(s.index));
        } catch (err) {
          if (isConnectionLost(err)) throw err;
          s.error = `its indexes could not be rebuilt (${failureCode(err, s.name)})`;
        }
      };
      if (mapped) return build(await laneConn(lane));
      indexQueue = indexQueue.then(() => build(index!));
      indexQueue.catch(() => {});
    };

    /** One data piece into its table; rows touching a hole are dropped by cleanRows. */
    const loadPiece = async (s: TableState, piece: number, body: AsyncIterable<BodyPiece>, rows: number, firstRow: number, lane: Lane) => {
      await createTable(s, null, lane);
      if (firstRow !== s.nextFirstRow) {
        s.damaged = true;
        s.tracker?.damage();
      }
      if (Number.isFinite(firstRow) && Number.isFinite(rows)) s.nextFirstRow = firstRow + rows;
      if (s.skipped || !s.created || !s.tracker) return;
      const done = progress.get(keys.piece(s.index, piece));
      if (done) {
        s.restored += done.value;
        totalRows += done.value;
        return;
      }
      const load = lane.conn!;
      const counts = { droppedBytes: 0 };
      const transactional = (s.table?.engine ?? 'InnoDB').toLowerCase() === 'innodb';
      const mark = s.tracker.mark();
      try {
        if (transactional) await load.query('START TRANSACTION');
        const r = await loadRows(load, s.table!, cleanRows(body, s.tracker, counts));
        await record(load, keys.piece(s.index, piece), r.affectedRows);
        if (transactional) await load.query('COMMIT');
        s.restored += r.affectedRows;
        totalRows += r.affectedRows;
        if (counts.droppedBytes > 0) s.damaged = true;
        if (Number.isFinite(rows) && r.affectedRows !== rows) {
          s.damaged = true;
          if (counts.droppedBytes === 0) s.tracker.damage();
        }
      } catch (err) {
        if (isConnectionLost(err)) throw err;
        if (transactional) await load.query('ROLLBACK').catch(() => {});
        s.damaged = true;
        s.tracker.failed(mark); // the piece's rows are not there
        s.error = `rows could not be loaded (${failureCode(err, s.name)})`;
        logger.warn({ table: s.index, piece, code: (err as { code?: string }).code }, 'piece failed to load');
      }
      opts.onProgress?.({ table: s.name, tablesDone: [...tables.values()].filter((t) => t.finished).length, tables: catalog?.tables.length ?? tables.size, rows: totalRows, bytes: bytesRead, totalBytes: located.fileBytes });
    };

    let stopped: unknown = null; // a lane's error stops the other lane at its next entry
    const consume = async (segments: AsyncIterable<Segment>, lane: Lane): Promise<void> => {
      for await (const { entry, body } of readTar(counted(segments), { entries: 0, unaccounted: [], ended: 'end-of-data' } as TarStats)) {
        if (stopped) throw stopped;
        if (opts.signal?.aborted) throw new LrError('LR_INTERRUPTED', 'The restore was stopped.');
        if (entry.orphan) {
          const owner = orphanOwner(entry.orphan);
          if (!owner) continue;
          const s = stateFor(owner.table, entry.orphan.next.pax[PAX_TABLE] ?? null);
          if (lane.current && lane.current !== s) await finishTable(lane.current, lane);
          lane.current = s;
          s.seen = true;
          s.damaged = true;
          if (owner.piece === 'schema') {
            const buf = await readWhole(body, entry.size, 16 << 20);
            await createTable(s, buf ? buf.toString('utf8') : null, lane);
          } else await loadPiece(s, owner.piece, body, NaN, NaN, lane);
          continue;
        }
        const role = roleOf(entry.path);
        if (role.role === 'catalog') {
          const buf = await readPrefix(body);
          if (buf.length === entry.size) catalog = JSON.parse(buf.toString('utf8')) as Catalog;
          else {
            salvaged = salvageCatalogTables(buf);
            logger.warn({ tablesSalvaged: salvaged.length }, 'catalog damaged');
          }
          await ensureDatabase();
          continue;
        }
        if (role.role === 'schema' || role.role === 'data' || role.role === 'summary') {
          const s = stateFor(role.table, entry.pax[PAX_TABLE] ?? null);
          if (lane.current && lane.current !== s) await finishTable(lane.current, lane);
          lane.current = s;
          s.seen = true;
          if (entry.foundAfterDamage) s.damaged = true;
          if (role.role === 'schema') {
            const buf = await readWhole(body, entry.size, 16 << 20);
            await createTable(s, buf ? buf.toString('utf8') : null, lane);
          } else if (role.role === 'summary') {
            const buf = await readWhole(body, entry.size);
            if (buf) {
              const summary = JSON.parse(buf.toString('utf8')) as TableSummary;
              summaries.set(s.index, summary);
              s.expected = summary.rows;
              if (summary.rows !== s.nextFirstRow) {
                s.damaged = true;
                s.tracker?.damage();
              }
            }
            await finishTable(s, lane);
          } else {
            await loadPiece(s, role.piece, body, Number(entry.pax[PAX_ROWS] ?? NaN), Number(entry.pax[PAX_FIRST_ROW] ?? NaN), lane);
          }
          continue;
        }
        await finishTable(lane.current, lane);
        lane.current = null;
        if (role.role === 'object') {
          const buf = await readWhole(body, entry.size, 16 << 20);
          if (buf) objects.push(JSON.parse(buf.toString('utf8')) as ObjectDefinition);
        } else if (role.role === 'manifest') {
          const buf = await readWhole(body, entry.size);
          if (buf) manifest = JSON.parse(buf.toString('utf8')) as Manifest;
        }
      }
      await finishTable(lane.current, lane);
      lane.current = null;
    };

    let damage: DamageReport;
    const laneCount = opts.lanes ?? 2;
    mapped = laneCount > 1 ? await mapLanes(opts) : null;
    if (!mapped) {
      const payload = payloadOf(opts.opened);
      damage = payload.damage;
      await consume(payload.segments, main);
    } else {
      const { reader, plan } = mapped;
      damage = newDamageReport(located.headerCopyUsed);
      damage.chunks = Math.ceil(mapped.end / located.header.chunkSize);
      await consume(reader.spans(plan.head, damage), main);
      const queue = [...plan.tables];
      const ends = await Promise.allSettled(
        Array.from({ length: laneCount }, (_, k) =>
          consume(reader.spans(takeFrom(queue), damage), k === 0 ? main : newLane()).catch((err: unknown) => {
            stopped ??= err;
            throw err;
          }),
        ),
      );
      const failed = ends.find((e) => e.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      await consume(reader.spans(plan.tail, damage), main);
    }
    await ensureDatabase();
    await indexQueue;
    if (opts.signal?.aborted) throw new LrError('LR_INTERRUPTED', 'The restore was stopped.');

    // Foreign keys once every table is there; then the objects, triggers last.
    for (const s of tables.values()) {
      if (!s.created || !s.split?.foreignKeys.length || progress.has(keys.fks(s.index))) continue;
      try {
        const alter = alterAdding(s.name, s.split.foreignKeys, await existingNames(index!, s.name, 'foreign key'));
        if (alter) await index!.query(alter);
        await record(index!, keys.fks(s.index));
      } catch (err) {
        if (isConnectionLost(err)) throw err;
        s.error = s.error ?? `its foreign keys could not be added (${failureCode(err, s.name)})`;
      }
    }
    const objectOutcomes: ObjectOutcome[] = opts.tables || opts.exclude ? [] : await createObjects(index!, objects);
    await recountFromServer(index!, tables);
    const report = buildReport({ opened: opts.opened, database, where, catalog, manifest, summaries, tables, objects, objectOutcomes, damage, started, subset: !!(opts.tables || opts.exclude) });
    if (!report.resumable) await dropProgressTable(main.conn!); // kept: --resume finishes the work once the cause is fixed
    return report;
  } finally {
    await mapped?.reader.close().catch(() => {});
    await Promise.all([admin, index, ...lanes.map((l) => l.conn)].map((c) => (c as Connection | null)?.end().catch(() => (c as Connection | null)?.destroy())));
  }
}

/** The file mapped into table spans, or null when it must be read in order (a layout that did not map). */
async function mapLanes(opts: RestoreOptions): Promise<{ reader: PayloadReader; plan: LanePlan; end: number } | null> {
  const reader = await PayloadReader.open(opts.opened.unlocked);
  const archive = await skimArchive((offset, length) => reader.read(offset, length)).catch(() => null);
  const plan = archive && planLanes(archive);
  if (!archive || !plan) {
    await reader.close();
    log('restore').info('file read in order (its layout could not be mapped from its headers)');
    return null;
  }
  log('restore').debug({ tables: plan.tables.length, entries: archive.entries.length }, 'file mapped into lanes');
  return { reader, plan, end: archive.end };
}

async function existingNames(conn: Connection, table: string, what: 'index' | 'foreign key'): Promise<Set<string>> {
  const sql = what === 'index'
    ? 'SELECT DISTINCT INDEX_NAME AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?'
    : "SELECT CONSTRAINT_NAME AS n FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND CONSTRAINT_TYPE = 'FOREIGN KEY'";
  const [rows] = (await conn.query(sql, [table])) as unknown as [{ n: string }[]];
  return new Set(rows.map((r) => r.n));
}

/**
 * Whose bytes an orphan (found after a lost header) is, from what follows it:
 * data piece p > 0 of a table follows piece p - 1 of the same table, and a
 * summary follows its table's last piece, or its schema.sql when it has no
 * pieces, as data piece 0 follows the schema. A schema is taken only whole
 * (an entry that lost just its pax header). Anything else (JSON, a pax body
 * the damage cut into) is never used.
 */
export function orphanOwner(orphan: { next: OrphanNext; whole: boolean }): { table: number; piece: number | 'schema' } | null {
  const { next, whole } = orphan;
  const role = roleOf(next.path);
  if (role.role === 'data' && next.paxFound) {
    if (role.piece > 0) return { table: role.table, piece: role.piece - 1 };
    return whole ? { table: role.table, piece: 'schema' } : null;
  }
  if (role.role === 'summary' && next.body) {
    try {
      const summary = JSON.parse(next.body.toString('utf8')) as TableSummary;
      if (Number.isInteger(summary.pieces) && summary.pieces > 0) return { table: role.table, piece: summary.pieces - 1 };
      if (summary.pieces === 0 && whole) return { table: role.table, piece: 'schema' };
    } catch {
      return null;
    }
  }
  return null;
}

function engineOf(create: string): string | null {
  const m = /\) ENGINE=(\w+)/.exec(create);
  return m ? m[1] : null;
}
