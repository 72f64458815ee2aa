/**
 * Steps 4 and 5: the restore with a progress bar, then the validation, and
 * the recovery report built from both. A restore that stops early (Ctrl-C, a
 * lost server) still yields a report, marked interrupted; the target keeps its
 * progress table, so it never looks complete and `--resume` can finish it.
 * A second Ctrl-C does not wait for the restore to unwind, but the report of
 * what is there is still written and the resume command still said.
 */
import { liveWidth } from '../cli/progress.js';
import { connect, quoteId } from '../db/connect.js';
import { describeDsn, type Dsn } from '../db/dsn.js';
import { LrError, isLrError } from '../errors.js';
import { log } from '../log.js';
import type { OpenedBackup } from '../decrypt/open.js';
import { restoreBackup, type ParsedBackup } from '../restore/restore.js';
import { takeRestoreLock } from '../restore/lock.js';
import { rowTotals, type RestoreReport } from '../restore/report.js';
import type { CheckResult } from '../identify/check.js';
import { validateAgainst, validateRestore, type ValidationReport } from '../validate/validate.js';
import { humanBytes } from '../text.js';
import { VERSION } from '../version.js';
import { exitCodeFor, resultHeadline, type RecoverReport } from '../report/recover-report.js';
import { saveReports, type SavedReports } from '../report/files.js';
import type { Ask } from './ask.js';
import { otherBackups } from './find-backup.js';
import { interruptedReport } from './interrupted.js';
import { describeWhere, recoverCommands, runWords, tablesIn, type RecoveryPlan } from './plan.js';
import { nextSteps, resultLines } from './result.js';

export interface RunResult {
  report: RecoverReport;
  saved: SavedReports;
  /** Other .lrb files beside the backup (for "ask support for an earlier backup"). */
  others: string[];
  /** Set when the restore did not finish: the error to end with once the report is saved. */
  stopped?: LrError;
}

/** Called on a second Ctrl-C: writes the report of what is there now and says what to do next. */
export type LastWords = () => Promise<void>;

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

/** Runs `fn` once; later calls share its result (the normal ending and a second Ctrl-C may both ask). */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | null = null;
  return () => (result ??= fn());
}

interface Checked {
  validation: ValidationReport | null;
  validationNote?: string;
}

function buildRecoverReport(plan: RecoveryPlan, restore: RestoreReport & { backupTables?: number | null }, checked: Checked, started: number, stopped: boolean, others: string[]): RecoverReport {
  const finished = Date.now();
  const h = plan.located.header;
  const validation = checked.validation;
  const base: Omit<RecoverReport, 'summary' | 'exitCode'> = {
    ...restore,
    kind: 'lastresort-recover-report',
    producerVersion: VERSION,
    interrupted: stopped ? true : restore.interrupted,
    backupTables: restore.backupTables ?? undefined,
    rows: rowTotals(restore.tables),
    backupFile: { path: plan.located.path, bytes: plan.located.fileBytes, database: h.database, serverVersion: h.serverVersion, ...fileState(plan.check, restore.damage) },
    place: { kind: plan.where.kind, server: describeWhere(plan.where), database: plan.database.name, mode: plan.database.mode, sandboxDir: plan.where.kind === 'sandbox' ? plan.where.sandbox.dir : undefined },
    validation: validation && { match: validation.match, tables: validation.tables, objects: validation.objects, differences: validation.differences, durationMs: validation.durationMs },
    validationNote: checked.validationNote,
    timings: { startedAt: new Date(started).toISOString(), finishedAt: new Date(finished).toISOString(), restoreMs: restore.durationMs, validationMs: validation ? validation.durationMs : null, totalMs: finished - started },
    commands: { ...recoverCommands(plan), enableEvents: restore.commands.enableEvents },
  };
  if (plan.where.kind === 'sandbox') {
    base.sandbox = { dir: plan.where.sandbox.dir, connectCommand: plan.where.sandbox.connectCommand, stopCommand: plan.where.sandbox.stopCommand };
  }
  const report: RecoverReport = { ...base, summary: resultHeadline(base), exitCode: exitCodeFor(base) };
  report.nextSteps = nextSteps(report, null, others);
  return report;
}

/** Whether the file was whole: from the check, or, when that read only the header copies (a link), from what the restore read. */
function fileState(check: CheckResult, damage: RestoreReport['damage']): { intact: boolean; chunks: number; damagedChunks: number; truncated: boolean } {
  if (check.partsChecked !== false) return { intact: check.intact, chunks: check.chunks, damagedChunks: check.damagedChunks, truncated: check.truncated };
  return { intact: check.intact && damage.damagedChunks === 0 && !damage.truncated, chunks: damage.chunks, damagedChunks: damage.damagedChunks, truncated: damage.truncated };
}

export async function runRecovery(ask: Ask, plan: RecoveryPlan, opened: OpenedBackup, signal: AbortSignal, setLastWords: (words: LastWords | null) => void = () => {}): Promise<RunResult> {
  const started = Date.now();
  const dsn: Dsn = { ...plan.where.dsn, database: plan.database.name };
  const others = plan.located.source.local ? await otherBackups(plan.located.path) : [];
  if (plan.database.mode === 'replace') {
    // Counted again right before the drop: a table added since the person said yes is not deleted unseen.
    const now = (await tablesIn(plan.where.dsn, plan.database.name)).length;
    if (now !== plan.database.tablesBefore) throw new LrError('LR_TARGET_NOT_EMPTY', `${plan.database.name} changed after you confirmed (it had ${plan.database.tablesBefore} tables, now ${now}): nothing was deleted. Run lastresort recover again to see what it holds now.`);
    log('recover').info({ tables: plan.database.tablesBefore }, 'replacing a database the person confirmed by name');
    await dropDatabase(plan.where.dsn, plan.database.name);
  }

  const reportStopped = once(async () => {
    const restore = await interruptedReport(opened, dsn, plan.check, describeWhere(plan.where), { started });
    const report = buildRecoverReport(plan, restore, { validation: null, validationNote: 'the restore did not finish' }, started, true, others);
    return { report, saved: await saveReports(plan.reportDir, report) };
  });
  const sayStopped = async (): Promise<void> => {
    const done = await reportStopped().catch((e) => {
      log('recover').warn({ code: (e as { code?: string }).code }, 'could not describe the stopped restore');
      return null;
    });
    const lines = done ? resultLines(done.report, done.saved, others, liveWidth(process.stderr)) : ['What to do next: the restore stopped before the end. To finish it, ' + runWords(recoverCommands(plan)), `  ${recoverCommands(plan).resume}`];
    for (const line of lines) ask.say(line);
  };

  ask.say(plan.database.mode === 'resume' ? 'Continuing the restore…' : 'Restoring…');
  const bar = ask.progress();
  setLastWords(async () => {
    bar.done();
    await sayStopped();
  });
  let restore: RestoreReport;
  let parsed: ParsedBackup | null = null;
  try {
    restore = await restoreBackup({
      opened,
      dsn,
      resume: plan.database.mode === 'resume',
      signal,
      onParsed: (p) => (parsed = p),
      onProgress: (p) => {
        if (signal.aborted) return; // the bar stays cleared once the person has asked to stop
        bar.update({ done: p.bytes, total: p.totalBytes, label: `${p.tablesDone}/${p.tables} tables · ${p.rows.toLocaleString('en-US')} rows · ${humanBytes(p.bytes)} of ${humanBytes(p.totalBytes)}` });
      },
    });
  } catch (err) {
    bar.done();
    const stopped = isLrError(err, 'LR_INTERRUPTED')
      ? new LrError('LR_INTERRUPTED', 'The restore was stopped before the end; the resume command above finishes it.')
      : isLrError(err) ? err : new LrError('LR_DB', 'The restore stopped on an unexpected error. See the log (--log-file) for detail.', { cause: err });
    log('recover').warn({ code: stopped.code }, 'restore stopped early');
    const { report, saved } = await reportStopped().catch(() => {
      throw stopped; // the reason it stopped matters more than the missing report
    });
    setLastWords(null);
    return { report, saved, others, stopped };
  }
  bar.done();

  const checked = await check(ask, parsed, opened, dsn, signal, () => {
    // A second Ctrl-C during the check: the restore is whole, only the check is missing.
    setLastWords(async () => {
      const report = buildRecoverReport(plan, restore, { validation: null, validationNote: 'the check was stopped' }, started, false, others);
      const saved = await saveReports(plan.reportDir, report);
      for (const line of resultLines(report, saved, others, liveWidth(process.stderr))) ask.say(line);
    });
  });
  setLastWords(null);
  const report = buildRecoverReport(plan, restore, checked, started, false, others);
  return { report, saved: await saveReports(plan.reportDir, report), others };
}

/** The validation, on what the restore parsed of the backup (the file is not read again), else on a read of the file. */
async function check(ask: Ask, parsed: ParsedBackup | null, opened: OpenedBackup, dsn: Dsn, signal: AbortSignal, starting: () => void): Promise<Checked> {
  ask.say('Checking every table against the backup…');
  starting();
  const vbar = ask.progress('items');
  try {
    const onTable = (_name: string, done: number, total: number) => {
      if (signal.aborted) throw new LrError('LR_INTERRUPTED', 'The check was stopped.');
      vbar.update({ done, total, label: `${done} of ${total} tables checked` });
    };
    const validation = parsed ? await validateAgainst(parsed, dsn, { onTable, file: opened }) : await validateRestore(opened, dsn, { onTable });
    return { validation };
  } catch (err) {
    log('recover').warn({ code: (err as { code?: string }).code }, 'validation did not finish');
    return { validation: null, validationNote: isLrError(err, 'LR_INTERRUPTED') ? 'the check was stopped' : `the check failed: ${isLrError(err) ? err.message : 'see the log'}` };
  } finally {
    vbar.done();
  }
}
