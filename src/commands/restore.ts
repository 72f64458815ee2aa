import { isLink, locateNamed } from '../open/index.js';
import type { LocatedHeader } from '../format/reader.js';
import { unlockLocated } from '../cli/password.js';
import { note, printJson, say, setResultCode } from '../cli/output.js';
import { jsonSafe, safeText } from '../text.js';
import { Progress } from '../cli/progress.js';
import { EXIT, isLrError, LrError } from '../errors.js';
import { restoreBackup } from '../restore/restore.js';
import { checkTargetArgument, resolveTarget } from '../restore/resolve-target.js';
import { headline, renderMarkdown } from '../report/restore-markdown.js';
import { describeRange, type RestoreReport } from '../restore/report.js';
import { onInterrupt } from '../cli/interrupt.js';
import { shellQuote } from '../shell-quote.js';
import { targetKind, writeFileAtomic } from '../system/atomic-file.js';

export interface RestoreCliOptions {
  target: string;
  dbPasswordFile?: string;
  passwordFile?: string;
  recoveryCodeFile?: string;
  tables?: string[];
  exclude?: string[];
  force?: boolean;
  resume?: boolean;
  keepDefiners?: boolean;
  report?: string;
  json?: boolean;
}

/** What restores from a link says before a command naming it: the link itself (a key) is never printed. */
export const NEW_LINK = 'with a new link from support';

/** `file` null: a link, shown as <LINK> (its signature is a key, and it may have expired by then). */
export function restoreCommands(file: string | null, targetArg: string, dbPasswordFile?: string): RestoreReport['commands'] {
  const q = shellQuote;
  const pw = dbPasswordFile ? ` --db-password-file ${q(dbPasswordFile)}` : '';
  const named = file === null ? '<LINK>' : q(file);
  return {
    resume: `lastresort restore ${named} --target ${q(targetArg)}${pw} --resume`,
    validate: `lastresort validate ${named} --target ${q(targetArg)}${pw}`,
  };
}

/** The one command that re-points the restored objects to an account IT chooses (definers.ts). */
export function repointCommand(targetArg: string, database: string, dbPasswordFile?: string): string {
  const pw = dbPasswordFile ? ` --db-password-file ${shellQuote(dbPasswordFile)}` : '';
  const db = targetArg.startsWith('sandbox') ? ` --database ${shellQuote(database)}` : '';
  return `lastresort definers --target ${shellQuote(targetArg)}${db}${pw} --to 'USER@HOST'`;
}

export async function writeReportFiles(path: string, report: RestoreReport, validation?: { ok: boolean; lines: string[] }): Promise<void> {
  // A new 0600 file each time: writing over an existing 0644 one would keep its mode.
  const intoStream = (await targetKind(path)) === 'stream';
  await writeFileAtomic(path, jsonSafe(JSON.stringify(report, null, 2)) + '\n');
  // A report sent to a device or pipe (--report /dev/stdout) has no folder of its own for a Markdown copy beside it.
  if (!intoStream) await writeFileAtomic(path.replace(/\.json$/i, '') + '.md', renderMarkdown(report, validation));
}

export function exitCodeForReport(r: RestoreReport): number {
  return r.outcome === 'complete' ? EXIT.ok : r.outcome === 'partial' ? EXIT.damaged : EXIT.failure;
}

/**
 * FILE may be s3://bucket/key or a link from `vendor share`: the backup is
 * read in place from the store with ranged GETs (offsite/remote-source.ts),
 * nothing is written to disk. Commands shown later name the link without
 * its signature: a link is a key and stays out of reports.
 */
export async function restoreCommand(file: string, o: RestoreCliOptions): Promise<void> {
  checkTargetArgument(o.target);
  // Every read of the store ends at once on Ctrl-C: a pending GET, a pause before resuming.
  const controller = new AbortController();
  const located = await locateNamed(file, controller.signal);
  if (isLink(file) && !o.json) note('Reading the backup straight from the store as it is restored (nothing is saved on this machine)…');
  // A link is shown as <LINK> (its signature is a key); s3://bucket/key by its name.
  const shownAs = !isLink(file) ? file : /^s3:/i.test(file.trim()) ? located.source.name : null;
  return restoreFrom(located, shownAs, o, controller);
}

/** `shownAs` null: a link (commands say <LINK>, to be used with a new link from support). */
async function restoreFrom(located: LocatedHeader, shownAs: string | null, o: RestoreCliOptions, controller: AbortController): Promise<void> {
  const opened = await unlockLocated(located, { ...o, onKeyDerivation: () => void (o.json || note('Opening the backup (deriving the key takes a moment)…')) });
  const target = await resolveTarget(o.target, located.header.database, { dbPasswordFile: o.dbPasswordFile });
  const progress = new Progress(!o.json || !!process.stderr.isTTY);
  // A second Ctrl-C or SIGTERM quits at once, still with the way to continue.
  const release = onInterrupt(() => controller.abort(), async () => {
    progress.done();
    note(`Quit before the restore finished: ${target.dsn.database} is marked as incomplete. To continue later${shownAs === null ? `, ${NEW_LINK}` : ''}: ${restoreCommands(shownAs, target.argument, o.dbPasswordFile).resume}`);
  });
  let report: RestoreReport;
  try {
    report = await restoreBackup({
      opened,
      dsn: target.dsn,
      tables: o.tables,
      exclude: o.exclude,
      force: o.force,
      keepDefiners: o.keepDefiners,
      resume: o.resume,
      signal: controller.signal,
      onProgress: (p) => progress.update({ done: p.bytes, total: p.totalBytes, label: `${p.tablesDone}/${p.tables} tables · ${p.rows.toLocaleString('en-US')} rows · ${safeText(p.table ?? '', 60)}` }),
    });
  } catch (err) {
    // It never reached a server: nothing is marked, and there is nothing to resume.
    if (isLrError(err) && err.detail?.neverReached) throw err;
    if (controller.signal.aborted) {
      progress.done();
      note(`Stopped. The database ${target.dsn.database} is marked as incomplete. To continue later${shownAs === null ? `, ${NEW_LINK}` : ''}: ${restoreCommands(shownAs, target.argument, o.dbPasswordFile).resume}`);
    }
    // The server, or the store, went away and did not come back in time: the way on is the resume command.
    if (isLrError(err, 'LR_DB_UNREACHABLE') || (isLrError(err) && err.detail?.diskFull) || (!located.source.local && isLrError(err, 'LR_IO') && !err.detail?.changed)) {
      const resume = `continue the restore${shownAs === null ? ` ${NEW_LINK}` : ''} with: ${restoreCommands(shownAs, target.argument, o.dbPasswordFile).resume}`;
      const line = / then try again\.$/.test(err.message) ? err.message.replace(/ then try again\.$/, ` then ${resume}`) : `${err.message} Then ${resume}`;
      throw new LrError(err.code, line, { cause: err.cause, detail: err.detail });
    }
    throw err;
  } finally {
    release();
    progress.done();
  }
  report.commands = { ...report.commands, ...restoreCommands(shownAs, target.argument, o.dbPasswordFile) };
  if (report.objectsRunAs) report.commands.repointDefiners = repointCommand(target.argument, target.dsn.database, o.dbPasswordFile);
  if (target.sandbox) report.sandbox = { dir: target.sandbox.dir, connectCommand: target.sandbox.connectCommand, stopCommand: target.sandbox.stopCommand };
  if (o.report) await writeReportFiles(o.report, report);
  setResultCode(exitCodeForReport(report));
  if (o.json) {
    printJson(report);
    return;
  }
  say(headline(report));
  for (const t of report.tables.filter((t) => t.status !== 'restored' && t.status !== 'skipped')) {
    const ranges = (t.lostKeyRanges ?? []).map(describeRange).join('; ');
    say(`  ${t.name}: ${t.status}, ${t.rowsRestored} of ${t.rowsExpected ?? '?'} rows${ranges ? ` (lost: ${ranges})` : ''}${t.error ? ` — ${t.error}` : ''}`);
  }
  for (const e of report.objectErrors) say(`  ${e.kind} ${e.name}: not restored (${e.error})`);
  if (report.objectsRunAs) {
    say(`  Views, routines, triggers and events run as ${report.objectsRunAs.account}: ${report.objectsRunAs.reason}${report.definersReplaced.length ? ` (${report.definersReplaced.length} had another definer in the backup)` : ''}.`);
    if (report.commands.repointDefiners) say(`  Once you have checked them, to let them run as another account: ${report.commands.repointDefiners}`);
  }
  for (const line of report.serverNotes ?? []) say(`  ${line}`);
  if (report.commands.enableEvents) say(`  Events were restored disabled. To let them run, run in the database: ${report.commands.enableEvents}`);
  if (report.resumable) say(`${target.dsn.database} keeps its progress record, so this restore can be finished once the problem is fixed${shownAs === null ? `, ${NEW_LINK}` : ''}: ${report.commands.resume}`);
  if (target.sandbox) {
    say(`The restored database ${target.dsn.database} is in the sandbox server, which keeps running.`);
    say(`  Look at it: ${target.sandbox.connectCommand} ${target.dsn.database}`);
    say(`  Stop it:    ${target.sandbox.stopCommand}`);
  }
  say(`Next: check it with  ${report.commands.validate}`);
  if (o.report) say(`Report saved to ${o.report} (and ${o.report.replace(/\.json$/i, '')}.md).`);
}
