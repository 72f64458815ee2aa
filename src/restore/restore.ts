/**
 * The restore: one pass over the backup, from file to server.
 *
 *   file -> frames -> decrypt (holes for lost chunks) -> tar entries -> rows -> LOAD DATA
 *
 * Everything is pulled one entry at a time (entries.ts), so the server's
 * pace sets the pace of reading and memory stays flat. When the file is
 * intact enough to be mapped from its headers, two lanes (lanes.ts) take
 * tables from one queue, read each from its place in the file and load it
 * over their own connection, then add its secondary indexes; otherwise one
 * lane reads the whole file in order while another connection adds each
 * table's indexes behind it. Each table's outcome comes from the server's own
 * counts; damage is reported, never guessed over.
 *
 * The parts: run.ts (the pass's state and connections), entries.ts (the tar
 * entries, each to its part), table-loader.ts (create a table, load its
 * pieces), index-builder.ts (indexes and foreign keys), objects.ts (views,
 * routines, triggers, events), outcome.ts (the report). A dropped
 * connection is retried here by resuming from the progress record.
 */
import { isLrError, LrError } from '../errors.js';
import { connect, isServerError, translateDbError, type Connection } from '../db/connect.js';
import { describeDsn, type Dsn } from '../db/dsn.js';
import { log } from '../log.js';
import { newDamageReport, type DamageReport } from '../format/reader.js';
import { PayloadReader } from '../format/random-access.js';
import { skimArchive } from '../archive/skim.js';
import { payloadOf } from '../decrypt/open.js';
import { planLanes, takeFrom } from './lanes.js';
import { createObjects, type ObjectOutcome } from './objects.js';
import { planDefiners, type ObjectsRunAs } from './definers.js';
import { grantDatabase } from './isolation.js';
import { fileDefiner } from '../sql/create-object.js';
import { dropProgressTable, isProgressTableName } from './progress-table.js';
import { checkTargetSafety, inspectTarget } from './target.js';
import { buildReport, type RestoreReport } from './outcome.js';
import { consume } from './entries.js';
import { RETRY_LOCK_WAIT_S, takeRestoreLock } from './lock.js';
import { recountFromServer } from './recount.js';
import { engineNote } from './server-notes.js';
import { tellPerson } from '../db/watchdog.js';
import { IndexBuilder } from './index-builder.js';
import { isConnectionLost, RestoreRun, type MappedFile } from './run.js';
import type { ParsedBackup, RestoreOptions } from './options.js';

export type { ParsedBackup, RestoreOptions, RestoreProgress } from './options.js';
export type { TableState } from './table-state.js';

export async function restoreBackup(opts: RestoreOptions): Promise<RestoreReport> {
  const started = Date.now();
  const retries = opts.retries ?? 3;
  let resume = !!opts.resume;
  for (let attempt = 0; ; attempt++) {
    try {
      return await restorePass({ ...opts, resume }, started, attempt > 0);
    } catch (err) {
      if (isLrError(err) && err.detail?.neverReached) throw err;
      if (!isConnectionLost(err) || attempt >= retries || opts.signal?.aborted) throw err instanceof LrError || !isServerError(err) ? err : translateDbError(err, opts.dsn);
      log('restore').warn({ attempt, code: (err as { code?: string }).code }, 'connection lost; resuming');
      tellPerson(`The connection to the target server was lost; waiting for it to answer, then continuing where the restore stopped…`);
      await waitForServer(opts.dsn, 60_000);
      resume = true;
    }
  }
}

/** Codes of a connection that never opened: nothing listens, no such host, no route. */
const NOT_REACHED = new Set(['ECONNREFUSED', 'ENOENT', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const causeCode = (err: unknown) => String((err as { cause?: { code?: unknown } }).cause?.code ?? (err as { code?: unknown }).code ?? '');

/**
 * The first connection of a restore. A server that refuses it is tried a
 * few more times within about two seconds (one that is starting up), then
 * the restore ends with one line: it never reached a server, so nothing was
 * marked and there is nothing to resume (never the minute-long wait for a
 * server that went away mid-restore).
 */
async function reachTarget(dsn: Dsn, signal?: AbortSignal): Promise<Connection> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await connect(dsn, { noDatabase: true });
    } catch (err) {
      const code = causeCode(err);
      if (!NOT_REACHED.has(code)) throw err;
      if (code !== 'ECONNREFUSED' || attempt >= 3 || signal?.aborted) {
        const message = code === 'ECONNREFUSED' || code === 'ENOENT' ? `Nothing answers at ${describeDsn({ ...dsn, database: '' })}: check that MySQL/MariaDB is running there and that the address and port are right. Nothing was changed on any server.` : `${(err as Error).message} Nothing was changed on any server.`;
        throw new LrError('LR_DB_UNREACHABLE', message, { cause: (err as { cause?: unknown }).cause ?? err, detail: { code, neverReached: true } });
      }
      await new Promise((r) => setTimeout(r, 500));
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
  const { located } = opts.opened;
  const run = new RestoreRun(opts, retrying ? await connect(opts.dsn, { noDatabase: true }) : await reachTarget(opts.dsn, opts.signal));
  const { database, where } = run;
  const indexes = new IndexBuilder(run);
  try {
    // One restore per target database: taken before anything is looked at, dropped or created.
    await takeRestoreLock(run.admin, database, where, retrying ? RETRY_LOCK_WAIT_S : 0);
    const state = await inspectTarget(run.admin, database);
    const mode = retrying ? 'resume' : checkTargetSafety(state, { database, backupDatabase: located.header.database, fileId: located.header.fileId, force: opts.force, resume: opts.resume, where });
    run.logger.info({ mode, tables: state.tables }, 'target checked');

    const damage = await readPayload(run, indexes, opts.lanes ?? 2);
    await run.ensureDatabase();
    await indexes.drain();
    if (opts.signal?.aborted) throw new LrError('LR_INTERRUPTED', 'The restore was stopped.');

    // Foreign keys once every table is there; then the objects, triggers last.
    await indexes.addForeignKeys();
    const subset = !!(opts.tables || opts.exclude);
    const { outcomes: objectOutcomes, runAs: objectsRunAs } = subset ? { outcomes: [], runAs: null } : await restoreObjects(run);
    await recountFromServer(run.index!, run.tables);
    const engine = await engineNote(run.admin, run.catalog);
    const report = buildReport({ opened: opts.opened, database, where, catalog: run.catalog, manifest: run.manifest, summaries: run.summaries, tables: run.tables, objects: run.objects, objectOutcomes, objectsRunAs, damage, started, subset, engineNote: engine, names: run.names });
    if (!report.resumable) await dropProgressTable(run.main.conn!); // kept: --resume finishes the work once the cause is fixed
    opts.onParsed?.(parsedBackup(run, damage));
    return report;
  } finally {
    await run.close();
  }
}

/**
 * Views, routines, triggers and events, defined by an account that holds
 * rights on the target only (definers.ts), never by the restoring account
 * when it has more.
 */
async function restoreObjects(run: RestoreRun): Promise<{ outcomes: ObjectOutcome[]; runAs: ObjectsRunAs | null }> {
  if (run.objects.length === 0) return { outcomes: [], runAs: null };
  const definers = run.objects.map(fileDefiner).filter((d): d is string => d !== null);
  const plan = await planDefiners(run.admin, run.database, grantDatabase(run.database), run.account!, definers, !!run.opts.keepDefiners);
  // A trigger on the progress table's name is on a table that was not restored.
  const tables = [...run.tables.values()].map((t) => t.name).filter((name) => !isProgressTableName(name));
  const ctx = { tables: new Set(tables), foreign: run.foreign, definer: plan.definer, keep: plan.keep };
  return { outcomes: await createObjects(run.index!, run.objects, ctx, run.names), runAs: plan.runAs };
}

/** The catalog, summaries (in the file's table order), objects and manifest the pass read, for a validation to reuse. */
function parsedBackup(run: RestoreRun, damage: DamageReport): ParsedBackup {
  const summaries = [...run.summaries.entries()].sort(([a], [b]) => a - b).map(([, summary]) => summary);
  return { catalog: run.catalog, summaries, objects: [...run.objects], manifest: run.manifest, damage: { damagedChunks: damage.damagedChunks, truncated: damage.truncated } };
}

/**
 * The payload into the target: mapped into lanes when its layout allows
 * (catalog first, then tables from one queue, then objects and manifest),
 * else read in order on one lane. Returns what was found damaged.
 */
async function readPayload(run: RestoreRun, indexes: IndexBuilder, laneCount: number): Promise<DamageReport> {
  const { located } = run.opts.opened;
  run.mapped = laneCount > 1 ? await mapLanes(run.opts) : null;
  if (!run.mapped) {
    const payload = payloadOf(run.opts.opened);
    await consume(run, indexes, payload.segments, run.main);
    return payload.damage;
  }
  const { reader, plan, end } = run.mapped;
  const damage = newDamageReport(located.headerCopyUsed);
  damage.chunks = Math.ceil(end / located.header.chunkSize);
  await consume(run, indexes, reader.spans(plan.head, damage), run.main);
  const queue = [...plan.tables];
  const ends = await Promise.allSettled(
    Array.from({ length: laneCount }, (_, k) =>
      consume(run, indexes, reader.spans(takeFrom(queue), damage), k === 0 ? run.main : run.newLane()).catch((err: unknown) => {
        run.stopped ??= err;
        throw err;
      }),
    ),
  );
  const failed = ends.find((e) => e.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  await consume(run, indexes, reader.spans(plan.tail, damage), run.main);
  return damage;
}

/** The file mapped into table spans, or null when it must be read in order (a layout that did not map). */
async function mapLanes(opts: RestoreOptions): Promise<MappedFile | null> {
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

export { orphanOwner } from './entries.js';
