/**
 * The producer's core: choose whom the backup is for (keys/choose.ts: the
 * last admin's pinned key, else a fallback, plus the recovery key), dump one
 * consistent snapshot, encrypt it to them, sign the header with the
 * producer's key, and write it atomically (temporary name, fsync, rename,
 * fsync of the folder) with mode 0600.
 */
import { mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { LrError } from '../errors.js';
import { connect, dropConnection, isConnectionLost, isServerError, type Connection } from '../db/connect.js';
import { describeDsn } from '../db/dsn.js';
import { dbTimeoutSeconds, SERVER_STOPPED } from '../db/watchdog.js';
import type { Dsn } from '../db/dsn.js';
import { log } from '../log.js';
import { VERSION } from '../version.js';
import { createEncryptingWriter } from '../format/writer.js';
import type { AdminIdentity } from '../format/header.js';
import { chooseRecipients, type KeyProblem } from '../keys/choose.js';
import { openProducerStore } from '../keys/producer.js';
import { DEFAULT_PIECE_BYTES, dumpDatabase, planDump, type DumpPlan, type DumpProgress, type Spooled } from './dump.js';
import { DEFAULT_LOCK_WAIT_SECONDS, DEFAULT_LOCK_WINDOW_SECONDS, isTransactional, takeMoment, type Moment } from './moment.js';
import { readHeldTables } from './held.js';
import { Spool } from './spool.js';
import type { MomentFacts } from '../format/header.js';
import { pickRecipients } from './recipients.js';
import { backupFileName, publishBackup, removeLeftoverTemporaries, temporaryName } from './names.js';
import { diskFullLine, expectedBackupBytes } from './space.js';
import { selectOne } from '../db/query.js';
import { isWindows, makePrivate } from '../system/private-file.js';
import { safeText } from '../text.js';

export { backupFileName } from './names.js';

export interface BackupOptions {
  source: Dsn;
  outDir: string;
  exclude?: string[];
  signal?: AbortSignal;
  maxRateBytesPerSec?: number;
  now?: Date;
  pieceBytes?: number;
  /** Key-range size for reading big tables over several connections (tests make it small). */
  rangeBytes?: number;
  /** Connections reading at once, sharing one snapshot (default 2; 1 where the server cannot share it). */
  connections?: number;
  /** Test hook: see snapshot.ts. */
  betweenSnapshots?: () => Promise<void>;
  /** The longest a lock request of the backup may wait before it lets go, so the office's writes go on (moment.ts). */
  lockWaitSeconds?: number;
  /** How long the backup keeps trying to get one moment before it makes a file marked not one moment. */
  lockWindowSeconds?: number;
  chunkSize?: number;
  onProgress?: (p: DumpProgress) => void;
  /** The producer's key file (default: beside the service settings, or LASTRESORT_PRODUCER_KEY). */
  producerKeyFile?: string;
}

export interface BackupResult {
  file: string;
  database: string;
  /** Whose password opens the file; null when only the recovery code does. */
  admin: AdminIdentity | null;
  /** The file opens with the practice recovery code too. */
  recovery: boolean;
  /** What people must act on (an admin to enroll, a stale or tampered key): the service turns these into alerts. */
  problems: KeyProblem[];
  tables: number;
  rows: number;
  /** Size of the .lrb file. */
  bytes: number;
  /** The payload (the tar) before compression. */
  uncompressedBytes: number;
  /** The payload as stored before sealing: version 3's zstd frames (uncompressedBytes in version 2). */
  compressedBytes: number;
  durationMs: number;
  /** The admin changed their password after enrolling: the backup opens with the old one. */
  keyStale: boolean;
  /** Connections that read the snapshot (fewer than asked when the server cannot share one). */
  connections: number;
  /** The file is one moment across every table (moment.ts); if not, why, in plain words. */
  oneMoment: boolean;
  notOneMoment: string | null;
  /** The longest the office's writes were held at a time by this backup (ms). */
  writesHeldMs: number;
  /** The tables held still for the moment (the MyISAM/Aria ones). */
  tablesHeld: string[];
}

export async function runBackup(opts: BackupOptions): Promise<BackupResult> {
  const started = Date.now();
  const now = opts.now ?? new Date();
  const logger = log('backup');
  const leftovers = await removeLeftoverTemporaries(opts.outDir);
  if (leftovers.length > 0) logger.info({ removed: leftovers }, 'removed temporaries a stopped backup left behind');
  const conn = await connect(opts.source);
  let tmpPath: string | null = null;
  let lanes: Connection[] = [];
  let neededBytes: number | null = null;
  let finished = false;
  let stopDump = () => {};
  let spool: Spool | null = null;
  try {
    const store = await openProducerStore({ path: opts.producerKeyFile });
    const picked = pickRecipients(store, await chooseRecipients(conn, store, opts.source.database, now), opts.source.database);
    const { identity, keyStale } = picked;

    await mkdir(opts.outDir, { recursive: true });
    const moment = await takeMoment(opts.source, conn, { database: opts.source.database, exclude: opts.exclude, connections: opts.connections ?? DEFAULT_CONNECTIONS, betweenSnapshots: opts.betweenSnapshots, lockWaitSeconds: opts.lockWaitSeconds ?? DEFAULT_LOCK_WAIT_SECONDS, lockWindowSeconds: opts.lockWindowSeconds ?? DEFAULT_LOCK_WINDOW_SECONDS, signal: opts.signal });
    lanes = [...moment.conns.slice(1), ...moment.holders];
    if (moment.fallback) logger.info({ reason: moment.fallback }, 'the server cannot share one snapshot between connections; reading over one');
    const ver = (await selectOne<{ v: string }>(conn, 'SELECT VERSION() AS v'))!;
    // The held tables wait in a spool beside the file: about their size more, until the file is written.
    neededBytes = await expectedBackupBytes(conn, opts.outDir, opts.source.database, moment.held);
    const plan = await planDump(moment.conns, { database: opts.source.database, exclude: opts.exclude, createdAt: now, pieceBytes: opts.pieceBytes, rangeBytes: opts.rangeBytes, lanes: Math.max(moment.conns.length, moment.holders.length), heldBy: moment.holders[0] ? { conn: moment.holders[0], tables: new Set(moment.held) } : undefined });
    const held = await readHeld(moment, plan, opts, now);
    spool = held.spooled?.spool ?? null;
    const facts = momentFacts(moment, plan, held.writesHeldMs);
    tmpPath = join(opts.outDir, temporaryName(backupFileName(opts.source.database, now)));

    const dump = dumpDatabase(moment.conns, plan, { database: opts.source.database, pieceBytes: opts.pieceBytes, maxRateBytesPerSec: opts.maxRateBytesPerSec, signal: opts.signal, onProgress: opts.onProgress, spooled: held.spooled });
    stopDump = dump.stop;
    const writer = createEncryptingWriter({ database: opts.source.database, serverVersion: ver.v, producerVersion: VERSION, ...picked.writer, signingKey: store.signingKey, createdAt: now, chunkSize: opts.chunkSize, moment: facts });
    const fh = await open(tmpPath, 'wx', 0o600);
    try {
      makePrivate(tmpPath);
      const out = fileSink(fh);
      try {
        await pipeline(dump.stream, writer.stream, out.sink, { signal: opts.signal });
      } finally {
        await out.idle(); // no sync left running against a closing file
      }
      await out.synced();
    } finally {
      await fh.close();
    }
    const result = await dump.done;
    const file = await publishBackup(tmpPath, opts.outDir, opts.source.database, now);
    tmpPath = null;
    await syncDir(opts.outDir);
    await picked.remember();
    for (const c of moment.conns) await c.query('COMMIT');
    for (const c of lanes.splice(0)) await c.end().catch(() => c.destroy());
    finished = true;
    const out: BackupResult = { file, database: opts.source.database, admin: identity, recovery: picked.writer.recovery !== null, problems: picked.problems, tables: result.catalog.tables.length, rows: result.rows, bytes: writer.stats.fileBytes, uncompressedBytes: writer.stats.plaintextBytes, compressedBytes: writer.stats.compressedBytes, durationMs: Date.now() - started, keyStale, connections: moment.conns.length, ...facts, tablesHeld: moment.held };
    logger.info({ file, tables: out.tables, rows: out.rows, bytes: out.bytes, uncompressedBytes: out.uncompressedBytes, durationMs: out.durationMs, connections: out.connections, oneMoment: out.oneMoment, notOneMoment: out.notOneMoment, writesHeldMs: out.writesHeldMs, tablesHeld: moment.held.length }, 'backup written');
    return out;
  } catch (err) {
    if (err instanceof LrError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      if (tmpPath) await unlink(tmpPath).catch(() => {}); // first, so the free space said is what there will be
      tmpPath = null;
      throw new LrError('LR_IO', await diskFullLine(opts.outDir, neededBytes), { cause: err });
    }
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new LrError('LR_IO', `Cannot write to ${opts.outDir} (permission denied). Choose a folder this account may write to.`, { cause: err });
    if (opts.signal?.aborted) throw new LrError('LR_INTERRUPTED', 'The backup was stopped before it finished; no file was written.', { cause: err });
    if (isConnectionLost(err)) throw lostDuringBackup(err, opts.source);
    if (!isServerError(err)) throw err; // a bug, said as one (cli/internal-error.ts)
    throw new LrError('LR_DB', `The backup failed while reading the database (${code ?? (err as Error).message?.slice(0, 80)}). See the log for detail.`, { cause: err });
  } finally {
    if (tmpPath) await unlink(tmpPath).catch(() => {});
    await spool?.remove();
    if (finished) {
      await conn.end().catch(() => conn.destroy());
    } else {
      // After a failure (its sink, say) the dump may still be reading, a result set open on any connection,
      // paused or read by no one: end() would queue behind it, for ever on a paused one. Stop it, then drop them.
      stopDump();
      for (const c of [...lanes, conn]) dropConnection(c);
    }
  }
}

/**
 * Reads the tables the moment holds into a spool, unlocking as it goes
 * (held.ts), so the office waits only for that read and the header can say
 * how long it waited. Nothing to do when nothing is held (InnoDB only).
 */
async function readHeld(moment: Moment, plan: DumpPlan, opts: BackupOptions, now: Date): Promise<{ spooled?: Spooled; writesHeldMs: number }> {
  if (moment.holders.length === 0) return { writesHeldMs: moment.longestHoldMs };
  const spool = await Spool.create(join(opts.outDir, temporaryName(backupFileName(opts.source.database, now))));
  try {
    const heldNames = new Set(moment.held);
    const units = plan.units.map((unit, index) => ({ index, unit })).filter((u) => heldNames.has(u.unit.table.name));
    const tables = plan.catalog.tables.length;
    const r = await readHeldTables(moment.holders, units, spool, { heldSince: moment.heldSince, pieceBytes: opts.pieceBytes ?? DEFAULT_PIECE_BYTES, signal: opts.signal, onProgress: (p) => opts.onProgress?.({ table: p.table, tablesDone: 0, tables, rows: p.rows, bytes: p.bytes }) });
    for (const h of moment.holders) await h.end().catch(() => h.destroy());
    log('backup').info({ writesHeldMs: r.writesHeldMs, tables: moment.held.length, rows: r.rows, bytes: r.bytes }, 'the held tables are read; the office writes to them again');
    return { spooled: { spool, units: new Set(units.map((u) => u.index)), rows: r.rows, bytes: r.bytes }, writesHeldMs: Math.max(moment.longestHoldMs, r.writesHeldMs) };
  } catch (err) {
    await spool.remove();
    throw err;
  }
}

/** What the signed header says of the moment. A MyISAM/Aria table the moment did not hold (made as it began) was read at its own time. */
function momentFacts(moment: Moment, plan: DumpPlan, writesHeldMs: number): MomentFacts {
  let why = moment.notOneMoment;
  if (why === null && moment.holders.length > 0) {
    const held = new Set(moment.held);
    const late = plan.catalog.tables.find((t) => !isTransactional(t.engine) && !held.has(t.name));
    if (late) why = `the table ${safeText(late.name, 64)} was made as the backup began, so it was read at its own time`;
  }
  return { oneMoment: why === null, notOneMoment: why, writesHeldMs, tablesHeld: moment.held.length };
}

/** The source went away mid-backup: say so in plain words, never the driver's text. */
function lostDuringBackup(err: unknown, source: Dsn): LrError {
  const where = describeDsn(source);
  const stopped = (err as { code?: string }).code === SERVER_STOPPED;
  const what = stopped ? `stopped answering during the backup (nothing for ${dbTimeoutSeconds()} s or more)` : 'closed the connection during the backup';
  return new LrError('LR_DB_UNREACHABLE', `The database server at ${where} ${what}; no backup was written. Check that it is running, then try again.`, { cause: err });
}

const DEFAULT_CONNECTIONS = 2;
const SYNC_EVERY = 32 << 20;

/**
 * A Writable onto the open temporary file. It also asks the kernel to write
 * the file out every SYNC_EVERY bytes while the dump goes on, so the fsync
 * before the rename (synced()) finds little left to do instead of the whole
 * file (about 0.17 s for 385 MB here, all of it on the critical path).
 */
function fileSink(fh: Awaited<ReturnType<typeof open>>): { sink: Writable; idle: () => Promise<void>; synced: () => Promise<void> } {
  let unsynced = 0;
  let syncing: Promise<void> = Promise.resolve();
  let syncError: unknown = null;
  const wrote = (n: number) => {
    unsynced += n;
    if (unsynced < SYNC_EVERY) return;
    unsynced = 0;
    syncing = syncing.then(() => fh.datasync()).catch((err: unknown) => {
      syncError ??= err;
    });
  };
  const sink = new Writable({
    // The writer hands on ~1 MiB batches: let one wait while the previous is written.
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      if (syncError) return cb(syncError as Error);
      fh.write(chunk).then(() => {
        wrote(chunk.length);
        cb();
      }, cb);
    },
    writev(chunks, cb) {
      if (syncError) return cb(syncError as Error);
      const bufs = chunks.map((c) => c.chunk as Buffer);
      fh.writev(bufs).then(() => {
        wrote(bufs.reduce((n, b) => n + b.length, 0));
        cb();
      }, cb);
    },
  });
  const idle = () => syncing;
  const synced = async () => {
    await syncing;
    if (syncError) throw syncError;
    await fh.sync();
  };
  return { sink, idle, synced };
}

async function syncDir(dir: string): Promise<void> {
  // Windows cannot open a folder as a file; NTFS journals the rename itself.
  if (isWindows()) return;
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } catch {
    // Some filesystems (network shares) cannot fsync a folder; the rename is still atomic.
  } finally {
    await d.close();
  }
}
