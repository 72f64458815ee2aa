/**
 * One backup cycle: back up, verify, record, prune, copy, verify the copy,
 * prune there. Each step's outcome lands in the state file as soon as it is
 * known, so a crash in the copy still leaves the local success recorded.
 * Backup failures are returned, not thrown: the daemon decides whether to
 * retry. Only an unwritable state file throws (nothing could be recorded).
 */
import { mkdir, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LrError, isLrError } from '../errors.js';
import { log } from '../log.js';
import { runBackup, type BackupResult } from '../backup/index.js';
import type { Dsn } from '../db/dsn.js';
import { computeAlerts, type Alert } from './alerts.js';
import type { Clock } from '../system/clock.js';
import { resolveSource, type ServiceConfig } from './config.js';
import { recordLastComplete } from '../opendental/preference.js';
import { applyRetention } from './retention.js';
import { updateState, type BackupRecord, type CopyRecord } from './state.js';
import { takeServiceLock } from './lock.js';
import { removeLeftoverTemporaries } from '../backup/names.js';
import { setDbTimeout } from '../db/watchdog.js';
import { copyAndVerify, fingerprintBackup, type BackupFingerprint } from './verify-copy.js';
import { runOffsiteLeg, type OffsiteRecord } from './offsite-leg.js';

export type CycleOutcome = 'ok' | 'copy-failed' | 'offsite-failed' | 'failed' | 'interrupted' | 'disabled';

export interface CycleResult {
  outcome: CycleOutcome;
  backup?: BackupRecord;
  copy?: CopyRecord;
  offsite?: OffsiteRecord;
  error?: LrError;
  removed: string[];
  alerts: Alert[];
}

export interface CycleOptions {
  config: ServiceConfig;
  clock: Clock;
  signal?: AbortSignal;
}

/** Codes worth another try later in the same window: the server or a disk may come back. */
export const TRANSIENT_CODES = new Set(['LR_DB_UNREACHABLE', 'LR_DB', 'LR_IO']);

function asLrError(err: unknown): LrError {
  if (err instanceof LrError) return err;
  return new LrError('LR_IO', `The backup failed unexpectedly (${(err as Error)?.message?.split('\n')[0]?.slice(0, 100) ?? 'unknown'}). See the log.`, { cause: err });
}

function describeCause(err: LrError): Record<string, unknown> {
  const c = err.cause as (Error & { code?: string; errno?: number }) | undefined;
  return { code: err.code, detail: err.detail, cause: c ? { name: c.name, code: c.code, errno: c.errno, message: c.message?.slice(0, 200) } : undefined };
}

function stateFileError(config: ServiceConfig, err: unknown): LrError {
  return new LrError('LR_IO', `Cannot write the state file ${config.stateFile} (${(err as NodeJS.ErrnoException).code ?? 'error'}). Choose a place this account may write to: lastresort config set stateFile /path/state.json`, { cause: err });
}

/** One cycle under the settings' lock: a second run at the same time is refused (LR_BUSY) and touches nothing. */
export async function runCycle(opts: CycleOptions): Promise<CycleResult> {
  let lock;
  try {
    await mkdir(dirname(opts.config.stateFile), { recursive: true, mode: 0o700 });
    lock = await takeServiceLock(opts.config.stateFile);
  } catch (err) {
    throw isLrError(err) ? err : stateFileError(opts.config, err);
  }
  try {
    return await runCycleLocked(opts);
  } finally {
    await lock.release();
  }
}

async function runCycleLocked(opts: CycleOptions): Promise<CycleResult> {
  const { config, clock, signal } = opts;
  setDbTimeout(config.dbTimeout);
  const logger = log('service');
  const started = clock.now();
  const stamp = () => clock.now().toISOString();

  let state;
  try {
    state = await updateState(config.stateFile, (s) => {
      s.firstRunAt ??= started.toISOString();
    });
  } catch (err) {
    throw stateFileError(config, err);
  }
  if (!config.enabled) {
    logger.warn({ outcome: 'disabled' }, 'backups are disabled; nothing done');
    return { outcome: 'disabled', removed: [], alerts: computeAlerts(config, state, clock.now()) };
  }

  let source: Dsn;
  let result: BackupResult;
  let print: BackupFingerprint;
  try {
    source = await resolveSource(config);
    result = await runBackup({ source, outDir: config.outDir, exclude: config.exclude, maxRateBytesPerSec: config.maxRate ?? undefined, signal, now: started });
    // Read back what was just written before it may replace anything older.
    print = await fingerprintBackup(result.file);
    if (!print.whole) {
      await unlink(result.file).catch(() => {});
      throw new LrError('LR_IO', `The backup just written to ${config.outDir} did not read back whole, so it was removed (a failing disk?). Check the disk.`);
    }
  } catch (err) {
    const error = signal?.aborted ? new LrError('LR_INTERRUPTED', 'The backup was stopped before it finished; no file was written.', { cause: err }) : asLrError(err);
    const outcome = error.code === 'LR_INTERRUPTED' ? 'interrupted' : 'failed';
    state = await updateState(config.stateFile, (s) => {
      s.lastAttempt = { at: stamp(), outcome, code: error.code, message: error.message };
    });
    logger.error({ outcome, durationMs: clock.now().getTime() - started.getTime(), ...describeCause(error) }, error.message);
    return { outcome, error, removed: [], alerts: computeAlerts(config, state, clock.now()) };
  }

  const backup: BackupRecord = { at: started.toISOString(), file: result.file, bytes: result.bytes, uncompressedBytes: result.uncompressedBytes, compressedBytes: result.compressedBytes, rows: result.rows, tables: result.tables, durationMs: result.durationMs, admin: result.admin?.userName ?? 'recovery code only', keyStale: result.keyStale, oneMoment: result.oneMoment, notOneMoment: result.notOneMoment, writesHeldMs: result.writesHeldMs, tablesHeld: result.tablesHeld.length };
  await updateState(config.stateFile, (s) => {
    s.lastSuccess = backup;
  });
  await recordLastComplete(source, started).then(
    (updated) => updated || logger.warn({ pref: 'SupplementalBackupDateLastComplete' }, 'no such preference row; not recorded in the database'),
    (err) => logger.warn({ ...describeCause(asLrError(err)) }, 'could not record the backup time in the preference table'),
  );
  const removed = (await applyRetention(config.outDir, result.database, config.keep, result.file)).removed;

  let copy: CopyRecord | undefined;
  if (config.copyTo) {
    try {
      await removeLeftoverTemporaries(config.copyTo); // a killed copy's, after a day (its name carries no pid)
      const copied = await copyAndVerify(result.file, config.copyTo, { signal, original: print }); // compared with the fingerprint above, not a third read
      copy = { at: stamp(), ok: true, file: copied.file };
      removed.push(...(await applyRetention(config.copyTo, result.database, config.keep, copied.file)).removed);
    } catch (err) {
      const error = asLrError(err);
      copy = { at: stamp(), ok: false, code: error.code, message: error.message };
      logger.error({ step: 'copy', ...describeCause(error) }, error.message);
    }
  }

  // The verified local file goes offsite last: a failure there leaves everything local as it is.
  const offsite = config.offsite ? await runOffsiteLeg(config, { ...backup, database: result.database }, clock, signal) : undefined;

  const outcome: CycleOutcome = copy && !copy.ok ? 'copy-failed' : offsite && !offsite.ok ? 'offsite-failed' : 'ok';
  state = await updateState(config.stateFile, (s) => {
    s.lastAttempt = { at: stamp(), outcome: 'ok' };
    if (copy) s.lastCopy = copy;
    if (offsite) {
      s.offsiteSince ??= offsite.at;
      s.lastOffsite = offsite;
      if (offsite.ok) s.lastOffsiteSuccess = offsite;
    }
  });
  // The backup's own key problems (an admin to enroll, a stale or tampered key) are tonight's alerts too.
  const alerts = computeAlerts(config, state, clock.now(), { reachable: true, admin: null, problems: result.problems });
  // The one line per backup the issue asks for: outcome, duration, bytes, rows.
  logger.info({ outcome, file: backup.file, bytes: backup.bytes, rows: backup.rows, tables: backup.tables, durationMs: clock.now().getTime() - started.getTime(), admin: backup.admin, keyStale: backup.keyStale, oneMoment: backup.oneMoment, writesHeldMs: backup.writesHeldMs, copied: copy?.ok ?? null, offsite: offsite?.ok ?? null, removed: removed.length, alerts: alerts.map((a) => a.code) }, 'backup cycle finished');
  for (const a of alerts) logger.warn({ alert: a.code }, a.message);
  return { outcome, backup, copy, offsite, removed, alerts };
}
