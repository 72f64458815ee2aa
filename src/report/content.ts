/**
 * What the HTML and the Markdown report say, as plain text, built once so
 * the two formats (and the wizard's screen) use the same words: facts as
 * label/value pairs, table rows with their counts, the commands.
 */
import { basename } from 'node:path';
import { humanBytes, humanDate, safeText } from '../text.js';
import { describeLoss } from '../restore/report.js';
import { cutShortText, damagedPartsText, momentText, partNumbers } from './words.js';
import { expectedRows, incompleteTables, missingRows, rowFigures, rowTotalsWords, tableState, type RecoverReport } from './recover-report.js';

export type Fact = [label: string, value: string];

export const duration = (ms: number | null) => (ms === null ? 'not run' : ms < 1000 ? `${ms} ms` : ms < 90_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`);

/** "whole", or what is wrong with the file, in the wizard's words. */
export function fileCheckText(r: RecoverReport): string {
  const f = r.backupFile;
  if (f.intact) return 'whole';
  const said: string[] = [];
  if (f.damagedChunks > 0) said.push(damagedPartsText(f.damagedChunks, f.chunks, r.damage.damagedRanges).replace('of its', 'of'));
  if (f.truncated) said.push('cut short');
  return `damaged: ${said.length ? said.join(', ') : 'a header copy is damaged'}`;
}

export function backupFacts(r: RecoverReport): Fact[] {
  const a = r.backup.admin;
  return [
    ['File', basename(r.backupFile.path)],
    ['Folder', r.backupFile.path.slice(0, r.backupFile.path.length - basename(r.backupFile.path).length) || '.'],
    ['Practice database', r.backupFile.database],
    ['Made', humanDate(r.backup.createdAt)],
    ['Size', humanBytes(r.backupFile.bytes)],
    ['File check', fileCheckText(r)],
    ...(momentText(r.backup.moment, (s) => safeText(s, 300)) ? [['One moment?', momentText(r.backup.moment, (s) => safeText(s, 300))!] as Fact] : []),
    ['Opened with', `the Open Dental password of ${a.userName} (user #${a.userNum}${a.lastLoginAt ? `, last logged on ${humanDate(a.lastLoginAt)}` : ''})`],
  ];
}

export function placeFacts(r: RecoverReport): Fact[] {
  const how = r.place.mode === 'resume' ? 'continued an interrupted restore' : r.place.mode === 'replace' ? 'replaced an existing database (confirmed by name)' : 'new database';
  return [
    ['Database', r.place.database],
    ['Server', r.place.server],
    ['How', how],
    ['Started', humanDate(r.timings.startedAt)],
    ['Restore took', duration(r.timings.restoreMs)],
    ['Check took', duration(r.timings.validationMs)],
    ...rowFacts(r),
  ];
}

/** The totals, as two facts: "Rows restored", "Rows lost". */
function rowFacts(r: RecoverReport): Fact[] {
  if (r.interrupted) return [];
  const w = rowTotalsWords(r);
  return [['Rows restored', w.restored], ['Rows lost', w.lost]];
}

export function damageFacts(r: RecoverReport): Fact[] {
  const d = r.damage;
  const cutAlso = d.truncated ? ', and the end of the file (how much cannot be told)' : '';
  return [
    ['Parts in the file', d.truncated ? `${d.chunks.toLocaleString('en-US')} read before the cut` : d.chunks.toLocaleString('en-US')],
    ['Damaged parts', d.damagedChunks === 0 ? 'none' : `${d.damagedChunks.toLocaleString('en-US')} ${partNumbers(d.damagedRanges)} (${humanBytes(d.bytesLost)})`],
    ['Cut short', d.truncated ? `yes: ${cutShortText(d.chunks).replace(/^it is cut short: /, '')}; how much is missing cannot be told (the file does not record its full length)` : 'no'],
    ['Missing from the file in all', d.bytesLost > 0 ? `${humanBytes(d.bytesLost)}${cutAlso}` : d.truncated ? 'the end of the file (how much cannot be told)' : 'nothing'],
    ['Header', d.headerCopyUsed ? 'the first copy was damaged: the spare copy at the end was used' : 'whole'],
  ];
}

export interface TableRow {
  name: string;
  state: string;
  inBackup: string;
  restored: string;
  missing: string;
  check: string | null;
  which: string;
  problem: string;
}

/** Every table, in the backup's order. */
export function allTableRows(r: RecoverReport): TableRow[] {
  const check = new Map((r.validation?.tables ?? []).map((t) => [t.name, t.status]));
  return r.tables.map((t) => ({
    name: t.name,
    state: tableState(r, t),
    inBackup: expectedRows(rowFigures(t)),
    restored: t.rowsRestored.toLocaleString('en-US'),
    missing: t.status === 'restored' ? '0' : missingRows(rowFigures(t)),
    check: check.get(t.name) ?? null,
    which: describeLoss(t.name, t.lostKeyRanges),
    problem: t.error ?? '',
  }));
}

/** The tables that are not whole, from the restore and from the check. */
export function incompleteRows(r: RecoverReport): TableRow[] {
  return incompleteTables(r).map((t) => ({
    name: t.name,
    state: t.state,
    inBackup: expectedRows(t),
    restored: t.restored === null ? 'unknown' : t.restored.toLocaleString('en-US'),
    missing: missingRows(t),
    check: null,
    which: t.which,
    problem: t.problem,
  }));
}

/** Said under a table that shows an estimate or a lower bound. */
export const ESTIMATE_NOTE = '"about": the exact count was in the lost part of the file; the backup\'s own estimate (from the server\'s statistics) is shown instead.';
export const AT_LEAST_NOTE = '"at least": the exact count was in the lost part of the file; the table held at least the rows that were restored.';

/** The notes that the rows shown need. */
export function countNotes(rows: { inBackup: string }[]): string[] {
  const notes: string[] = [];
  if (rows.some((t) => /^about /.test(t.inBackup))) notes.push(ESTIMATE_NOTE);
  if (rows.some((t) => /^at least /.test(t.inBackup))) notes.push(AT_LEAST_NOTE);
  return notes;
}

export function validationText(r: RecoverReport): { head: string; differences: string[] } {
  const v = r.validation;
  if (!v) return { head: `Not done: ${r.validationNote ?? 'it did not run'}.`, differences: [] };
  const matched = v.tables.filter((t) => t.status === 'match').length;
  const objects = v.objects.filter((o) => o.present).length;
  return v.match
    ? { head: `All ${matched} tables match the backup, row by row (row counts and content checksums)${objects > 0 ? `, and so do its ${objects} views, triggers, routines and events` : ''}.`, differences: [] }
    : { head: `${matched} of ${v.tables.length} tables match the backup. Differences found:`, differences: v.differences };
}

export function commandList(r: RecoverReport): Fact[] {
  const list: Fact[] = [
    [r.interrupted || r.resumable ? 'Continue this restore where it stopped:' : 'Continue the restore if it is ever interrupted:', r.commands.resume],
    ['Check the restored database against the backup again:', r.commands.validate],
    ['Do the whole recovery again (into a new database):', r.commands.repeat],
  ];
  if (r.sandbox) list.push(['Look at the restored database in the sandbox server:', `${r.sandbox.connectCommand} ${r.database}`], ['Stop the sandbox server:', r.sandbox.stopCommand]);
  return list;
}
