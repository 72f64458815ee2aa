/**
 * Steps 4 and 5: the restore with a progress bar, then the validation, and
 * the recovery report built from both. A restore that stops early (Ctrl-C, a
 * lost server) still yields a report, marked interrupted; the target keeps its
 * progress table, so it never looks complete and `--resume` can finish it.
 */
import { connect, quoteId } from '../db/connect.js';
import { describeDsn, type Dsn } from '../db/dsn.js';
import { LrError, isLrError } from '../errors.js';
import { log } from '../log.js';
import type { OpenedBackup } from '../decrypt/open.js';
import { restoreBackup } from '../restore/restore.js';
import { takeRestoreLock } from '../restore/lock.js';
import type { RestoreReport } from '../restore/report.js';
import { validateRestore, type ValidationReport } from '../validate/validate.js';
import { humanBytes } from '../cli/output.js';
import { VERSION } from '../version.js';
import { exitCodeFor, resultHeadline, type RecoverReport } from '../report/recover-report.js';
import type { Ask } from './ask.js';
import { interruptedReport } from './interrupted.js';
import { describeWhere, recoverCommands, type RecoveryPlan } from './plan.js';

export interface RunResult {
  report: RecoverReport;
  /** Set when the restore did not finish: the error to end with once the report is saved. */
  stopped?: LrError;
}

async function dropDatabase(dsn: Dsn, name: string): Promise<void> {
  const conn = await connect({ ...dsn, database: '' }, { noDatabase: true });
  try {
    // Not while a restore writes into it: the same lock the restore holds (released when this connection ends).
    await takeRestoreLock(conn, name, describeDsn({ ...dsn, database: '' }));
    await conn.query(`DROP DATABASE IF EXISTS ${quoteId(name)}`);
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

export async function runRecovery(ask: Ask, plan: RecoveryPlan, opened: OpenedBackup, signal: AbortSignal): Promise<RunResult> {
  const started = Date.now();
  const dsn: Dsn = { ...plan.where.dsn, database: plan.database.name };
  const where = describeWhere(plan.where);
  if (plan.database.mode === 'replace') {
    log('recover').info({ tables: plan.database.tablesBefore }, 'replacing a database the person confirmed by name');
    await dropDatabase(plan.where.dsn, plan.database.name);
  }

  ask.say(plan.database.mode === 'resume' ? 'Continuing the restore…' : 'Restoring…');
  const bar = ask.progress();
  let restore: RestoreReport & { backupTables?: number | null };
  let stopped: LrError | undefined;
  try {
    restore = await restoreBackup({
      opened,
      dsn,
      resume: plan.database.mode === 'resume',
      signal,
      onProgress: (p) => {
        bar.update({ done: p.bytes, total: p.totalBytes, label: `${p.tablesDone}/${p.tables} tables · ${p.rows.toLocaleString('en-US')} rows · ${humanBytes(p.bytes)} of ${humanBytes(p.totalBytes)} · ${p.table ?? ''}` });
      },
    });
  } catch (err) {
    bar.done();
    stopped = isLrError(err, 'LR_INTERRUPTED')
      ? new LrError('LR_INTERRUPTED', `The restore was stopped before the end; the resume command above finishes it.`)
      : isLrError(err) ? err : new LrError('LR_DB', 'The restore stopped on an unexpected error. See the log (--log-file) for detail.', { cause: err });
    log('recover').warn({ code: stopped.code }, 'restore stopped early');
    const cause = stopped;
    restore = await interruptedReport(opened, dsn, plan.check, where, { started }).catch((e) => {
      log('recover').warn({ code: (e as { code?: string }).code }, 'could not describe the stopped restore');
      throw cause; // the reason it stopped matters more than the missing report
    });
  } finally {
    bar.done();
  }
  const restoreMs = Date.now() - started;

  let validation: ValidationReport | null = null;
  let validationNote: string | undefined;
  if (stopped) validationNote = 'the restore did not finish';
  else {
    ask.say('Checking every table against the backup…');
    const vbar = ask.progress('items');
    try {
      validation = await validateRestore(opened, dsn, {
        onTable: (name, done, total) => {
          if (signal.aborted) throw new LrError('LR_INTERRUPTED', 'The check was stopped.');
          vbar.update({ done, total, label: `checking ${name}` });
        },
      });
    } catch (err) {
      validationNote = isLrError(err, 'LR_INTERRUPTED') ? 'the check was stopped' : `the check failed: ${isLrError(err) ? err.message : 'see the log'}`;
      log('recover').warn({ code: (err as { code?: string }).code }, 'validation did not finish');
    } finally {
      vbar.done();
    }
  }

  const finished = Date.now();
  const h = plan.located.header;
  const base: Omit<RecoverReport, 'summary' | 'exitCode'> = {
    ...restore,
    kind: 'lastresort-recover-report',
    producerVersion: VERSION,
    interrupted: stopped ? true : restore.interrupted,
    backupTables: restore.backupTables ?? undefined,
    backupFile: { path: plan.located.path, bytes: plan.located.fileBytes, database: h.database, serverVersion: h.serverVersion, intact: plan.check.intact, chunks: plan.check.chunks, damagedChunks: plan.check.damagedChunks, truncated: plan.check.truncated },
    place: { kind: plan.where.kind, server: where, database: plan.database.name, mode: plan.database.mode, sandboxDir: plan.where.kind === 'sandbox' ? plan.where.sandbox.dir : undefined },
    validation: validation && { match: validation.match, tables: validation.tables, objects: validation.objects, differences: validation.differences, durationMs: validation.durationMs },
    validationNote,
    timings: { startedAt: new Date(started).toISOString(), finishedAt: new Date(finished).toISOString(), restoreMs, validationMs: validation ? validation.durationMs : null, totalMs: finished - started },
    commands: recoverCommands(plan),
  };
  if (plan.where.kind === 'sandbox') {
    base.sandbox = { dir: plan.where.sandbox.dir, connectCommand: plan.where.sandbox.connectCommand, stopCommand: plan.where.sandbox.stopCommand };
  }
  const report: RecoverReport = { ...base, summary: resultHeadline(base), exitCode: exitCodeFor(base) };
  return { report, stopped };
}
