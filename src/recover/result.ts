/**
 * Step 5's last words: the result in plain words first, then what is lost
 * (tables with some rows missing apart from tables that did not come back),
 * and last a "What to do next" block written for the office manager.
 */
import { basename } from 'node:path';
import { humanBytes, safeText } from '../text.js';
import { MAIN_TABLES } from '../opendental/main-tables.js';
import { expectedRows, lossGroups, mainFirst, missingRows, rowFigures, rowTotalsText, textTable, type RecoverReport } from '../report/recover-report.js';
import { countNotes } from '../report/content.js';
import { cutShortText } from '../report/words.js';
import type { SavedReports } from '../report/files.js';
import { describeLoss } from '../restore/report.js';
import { runWords } from './plan.js';

const MAX_ROWS_SHOWN = 25;
const MAIN_NAMES = Object.values(MAIN_TABLES).join(', ');

/** "userod (logins)": Open Dental's main tables say what they hold. */
export function tableLabel(name: string): string {
  const words = MAIN_TABLES[name];
  return words ? `${safeText(name, 40)} (${words})` : safeText(name, 40);
}

/**
 * How much of the file is lost, or null for a whole file. A cut gets no
 * size: the file does not record its length, and nothing read before the
 * cut proves how much followed it.
 */
export function fileLossLine(r: Pick<RecoverReport, 'damage'>): string | null {
  const d = r.damage;
  const said: string[] = [];
  if (d.truncated) said.push(`${cutShortText(d.chunks)}; how much is missing cannot be told (the file does not record its full length)`);
  if (d.damagedChunks > 0) said.push(`${d.damagedChunks} of its ${d.chunks} parts could not be read (${humanBytes(d.bytesLost)})`);
  return said.length ? `The backup file is damaged: ${said.join('; ')}.` : null;
}

/** Said when tables did not come back at all: Open Dental needs every one of its tables. */
export const WILL_NOT_START = 'Open Dental will not start on this database: tables it needs are missing entirely.';

function lossLines(r: RecoverReport, width: number): string[] {
  const out: string[] = [];
  const line = fileLossLine(r);
  if (line) out.push('', line);
  const { incomplete, absent } = lossGroups(r);
  const capped = <T>(rows: T[]) => rows.slice(0, MAX_ROWS_SHOWN);
  const more = (n: number) => (n > MAX_ROWS_SHOWN ? [`  … and ${n - MAX_ROWS_SHOWN} more: see the report.`] : []);
  const shown: { inBackup: string }[] = [];
  if (absent.length > 0) {
    // First: what a person most needs to know is what is not there at all, Open Dental's own tables at the top.
    out.push('', r.damage.truncated ? 'Tables missing entirely (the file ends before them):' : 'Tables missing entirely (they were in damaged parts of the file):');
    const body = capped(mainFirst(absent)).map((t) => [tableLabel(t.name), expectedRows(rowFigures(t))]);
    shown.push(...body.map(([, inBackup]) => ({ inBackup })));
    for (const l of textTable(['Table', 'Rows in backup'], body, { numeric: [1], maxWidth: 40, width: width - 2 })) out.push(`  ${l}`);
    out.push(...more(absent.length), WILL_NOT_START);
  }
  if (incomplete.length > 0) {
    out.push('', 'Tables with some rows missing:');
    const body = capped(mainFirst(incomplete)).map((t) => [tableLabel(t.name), expectedRows(rowFigures(t)), t.rowsRestored.toLocaleString('en-US'), missingRows(rowFigures(t))]);
    shown.push(...body.map(([, inBackup]) => ({ inBackup })));
    for (const l of textTable(['Table', 'Rows in backup', 'Restored', 'Missing'], body, { numeric: [1, 2, 3], maxWidth: 40, width: width - 2 })) out.push(`  ${l}`);
    out.push(...more(incomplete.length));
    const which = capped(mainFirst(incomplete)).filter((t) => t.lostKeyRanges?.length).map((t) => `  ${safeText(t.name, 40)}: missing ${describeLoss(t.name, t.lostKeyRanges)}`);
    if (which.length) out.push('Which rows are missing:', ...which);
  }
  if (absent.length + incomplete.length > 0) out.push(...countNotes(shown), '', rowTotalsText(r));
  return out;
}

/** Where the database is and how IT reaches it. */
function whereLines(r: RecoverReport): string[] {
  const db = safeText(r.place.database, 64);
  if (r.sandbox) {
    return [
      `  - The restored database ${db} is in the sandbox server on this computer (folder ${safeText(r.sandbox.dir, 120)}), which keeps running.`,
      `  - IT can open it with: ${r.sandbox.connectCommand} ${r.place.database}`,
      `  - When IT is done with it: ${r.sandbox.stopCommand}`,
      ...toServerLines(r),
    ];
  }
  return [
    `  - The restored database is ${db} on the server ${safeText(r.place.server, 120)}.`,
    `  - IT reaches it there with the server account used here. Open Dental can use ${db} once IT has checked it.`,
  ];
}

/** Open Dental cannot reach the sandbox: how IT puts the database on the real server. */
function toServerLines(r: RecoverReport): string[] {
  const t = r.commands.toServer;
  if (!t) return [];
  return [
    '  - Open Dental cannot use the sandbox: it is there to look at the data. To put the database on the real server, IT runs this, with the real server for SERVER and its account for USER (it restores the backup again, straight into that server):',
    `      ${t.again}`,
    '    or copies the sandbox\'s database there (the sandbox must be running; the first command makes an empty database and fails if one of that name exists):',
    `      ${t.create}`,
    `      ${t.copy}`,
  ];
}

/** Null `saved`: the block is going into the report itself, which needs no pointer to itself. */
function reportLine(saved: SavedReports | null, send = false): string[] {
  if (!saved) return send ? ['  - Send this report to IT.'] : [];
  return [send ? `  - Send this report to IT (it opens in a web browser): ${saved.html}` : `  - The report for IT (open it in a web browser): ${saved.html}`];
}

function earlierBackupLine(others: string[]): string {
  const named = others.slice(0, 5).map((p) => safeText(basename(p), 80));
  return named.length > 0
    ? `  - Ask support for an earlier backup. In the same folder there ${named.length === 1 ? 'is also' : 'are also'}: ${named.join(', ')}${others.length > 5 ? ` and ${others.length - 5} more` : ''}.`
    : '  - Ask support for an earlier backup: there is no other backup file (.lrb) in the same folder.';
}

/** The block every ending finishes with, for the office manager. */
export function nextSteps(r: RecoverReport, saved: SavedReports | null, others: string[]): string[] {
  const db = safeText(r.place.database, 64);
  if (r.interrupted) {
    return [`What to do next: ${db} is marked as not complete. To finish the restore where it stopped (what is restored so far is kept), ${runWords(r.commands)}`, `  ${r.commands.resume}`];
  }
  if (r.outcome === 'failed') {
    return ['What to do next:', `  - Nothing could be restored from this file: do not use ${db}.`, ...reportLine(saved, true), earlierBackupLine(others)];
  }
  if (r.exitCode === 0) return ['What to do next:', ...whereLines(r), ...reportLine(saved)];
  if (r.outcome === 'complete' && !r.validation) {
    return ['What to do next:', `  - Everything was restored, but not yet checked against the backup: do not use ${db} for daily work until it is. To check it, run:`, `    ${r.commands.validate}`, ...whereLines(r), ...reportLine(saved)];
  }
  const { incomplete, absent } = lossGroups(r);
  const mainOf = (list: typeof absent) => mainFirst(list).filter((t) => MAIN_TABLES[t.name]).map((t) => tableLabel(t.name));
  const [mainAbsent, mainIncomplete] = [mainOf(absent), mainOf(incomplete)];
  const differs = r.outcome === 'complete';
  return [
    'What to do next:',
    // A cut file is most often a copy or download that stopped: the whole file, sent again, is the way back.
    ...(r.damage.truncated ? [`  - Ask support to send the file again${r.commands.newLink ? ' (a new link to it)' : ''}: this copy is cut short, so part of the backup never arrived.`] : []),
    differs
      ? `  - Do not use ${db} for daily work until IT has read the report: the check found differences with the backup.`
      : `  - Do not use ${db} for daily work yet: part of the practice's data is not in it. Looking things up in it is safe.`,
    ...(absent.length > 0 ? [`  - ${WILL_NOT_START}${mainAbsent.length ? ` Among them: ${mainAbsent.join(', ')}.` : ''}`] : []),
    ...(mainIncomplete.length > 0 ? [`  - Open Dental's main tables with rows missing: ${mainIncomplete.join(', ')}.`] : []),
    ...(mainAbsent.length + mainIncomplete.length === 0 ? [`  - None of Open Dental's main tables (${MAIN_NAMES}) is affected.`] : []),
    ...whereLines(r).slice(0, 1),
    // A restore stopped by the server (its disk full, it went away) can be finished once that is fixed.
    ...(r.resumable ? [`  - ${db} keeps its progress record, so this restore can be finished once the problem is fixed. Then ${runWords(r.commands)}`, `    ${r.commands.resume}`] : []),
    ...reportLine(saved, true),
    earlierBackupLine(others),
  ];
}

/** `width`: the room a line has on the screen (liveWidth), so tables stack rather than break. */
export function resultLines(r: RecoverReport, saved: SavedReports | null, others: string[] = [], width = 97): string[] {
  const out = ['', r.summary];
  if (!r.interrupted) out.push(...lossLines(r, width));
  if (r.commands.note && !r.sandbox) out.push('', r.commands.note);
  // Differences of the target server (its default engine, collations it lacks): each a thing IT must know.
  if (r.serverNotes?.length) out.push('', ...r.serverNotes);
  if (r.commands.enableEvents) out.push('', `Scheduled jobs (events) in the backup were restored switched off, so nothing runs by itself until IT decides. To switch them on, IT runs in the database: ${r.commands.enableEvents}`);
  if (saved) out.push('', `Reports saved: ${saved.html}`, `  (also as JSON and Markdown: ${basename(saved.json)}, ${basename(saved.md)})`);
  out.push('', ...nextSteps(r, saved, others));
  return out;
}
