/**
 * The recovery report: the restore's own report (per-table outcomes, damage,
 * timings) plus what the wizard knows around it: the file's check, where the
 * database went, the validation, the plain-words result and the commands.
 * Written as JSON for tools and as HTML/Markdown for people. No secrets.
 */
import type { RestoreReport, TableOutcome } from '../restore/report.js';
import type { ValidationReport } from '../validate/validate.js';
import { EXIT } from '../errors.js';
import { describeLoss } from '../restore/report.js';
import { resumeAdvice } from '../restore/server-faults.js';
import { rowTotals } from '../restore/report.js';
import { MAIN_TABLES } from '../opendental/main-tables.js';

export interface RecoverReport extends Omit<RestoreReport, 'commands'> {
  kind: 'lastresort-recover-report';
  producerVersion: string;
  backupFile: {
    path: string;
    bytes: number;
    database: string;
    serverVersion: string;
    intact: boolean;
    chunks: number;
    damagedChunks: number;
    truncated: boolean;
  };
  /** Tables the backup holds (from its catalog); known even when the restore stopped early. */
  backupTables?: number;
  place: { kind: 'server' | 'sandbox'; server: string; database: string; mode: 'fresh' | 'resume' | 'replace'; sandboxDir?: string };
  validation: Pick<ValidationReport, 'match' | 'tables' | 'objects' | 'differences' | 'durationMs'> | null;
  /** Why there is no validation (interrupted, or it failed). */
  validationNote?: string;
  timings: { startedAt: string; finishedAt: string; restoreMs: number; validationMs: number | null; totalMs: number };
  /** The result in plain words, as the wizard said it. */
  summary: string;
  /** The "What to do next" block, as the wizard said it (for the office manager). */
  nextSteps?: string[];
  exitCode: number;
  commands: { resume: string; validate: string; repeat: string; note?: string; enableEvents?: string; newLink?: boolean; toServer?: { again: string; create: string; copy: string } };
}

const count = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, one: string, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;

const considered = (r: Pick<RecoverReport, 'tables'>) => r.tables.filter((t) => t.status !== 'skipped');

/** Tables with some rows missing, and tables that did not come back at all: said apart, never summed. */
export function lossGroups(r: Pick<RecoverReport, 'tables'>): { incomplete: TableOutcome[]; absent: TableOutcome[] } {
  const bad = considered(r).filter((t) => t.status !== 'restored');
  return { incomplete: bad.filter((t) => t.status !== 'missing'), absent: bad.filter((t) => t.status === 'missing') };
}

/** The one sentence a person reads first. */
export function resultHeadline(r: Omit<RecoverReport, 'summary' | 'exitCode'>): string {
  const tables = considered(r);
  const bad = tables.filter((t) => t.status !== 'restored');
  if (r.interrupted) {
    const finished = tables.length - bad.length;
    return `The restore was interrupted: ${count(finished)} of ${plural(r.backupTables ?? tables.length, 'table')} ${finished === 1 ? 'was' : 'were'} finished. Nothing restored so far is lost: continue with the resume command.`;
  }
  const advice = resumeAdvice(r)?.replace('the command below', 'the resume command');
  if (r.outcome === 'failed') return `The restore failed: no rows could be restored.${advice ? ` ${advice}` : ''}`;
  if (r.outcome === 'complete') {
    if (r.validation?.match) return `All ${plural(tables.length, 'table')} restored and verified: every row matches the backup.`;
    if (r.validation) return `All ${plural(tables.length, 'table')} restored, but the check found ${plural(r.validation.differences.length, 'difference')} with the backup.`;
    return `All ${plural(tables.length, 'table')} restored, but not verified (${r.validationNote ?? 'the check did not run'}).`;
  }
  if (advice) return `Restored only in part: ${count(bad.length)} of ${plural(tables.length, 'table')} ${bad.length === 1 ? 'is' : 'are'} incomplete. ${advice}`;
  const { incomplete, absent } = lossGroups(r);
  const said: string[] = [];
  if (incomplete.length > 0) said.push(`${count(incomplete.length)} of ${plural(tables.length, 'table')} ${incomplete.length === 1 ? 'is' : 'are'} incomplete`);
  if (absent.length > 0) {
    const how = r.damage.truncated ? 'missing entirely (the file ends before them)' : 'missing entirely (they were in damaged parts of the file)';
    said.push(`${incomplete.length > 0 ? count(absent.length) : `${count(absent.length)} of ${count(tables.length)}`} ${absent.length === 1 ? 'table is' : 'tables are'} ${how}`);
  }
  if (said.length === 0) return 'Restored with losses: some views, triggers, routines or events could not be restored.';
  const lost = incomplete.reduce((s, t) => s + (t.rowsLost ?? 0), 0);
  if (incomplete.length === 1 && absent.length === 0 && lost > 0) {
    const t = incomplete[0];
    const which = describeLoss(t.name, t.lostKeyRanges);
    return `Restored with losses: ${said[0]}; ${plural(lost, `${t.name} row`)} ${lost === 1 ? 'is' : 'are'} missing${which ? ` (${which})` : ''}.`;
  }
  return `Restored with losses: ${said.join(', and ')}.`;
}

export function exitCodeFor(r: Pick<RecoverReport, 'interrupted' | 'outcome' | 'validation'>): number {
  if (r.interrupted || r.outcome === 'failed') return EXIT.failure;
  if (r.outcome === 'partial') return EXIT.damaged;
  if (!r.validation) return EXIT.failure; // restored but never verified: not a success
  return r.validation.match ? EXIT.ok : EXIT.damaged;
}

export interface IncompleteRow {
  name: string;
  /** In plain words: incomplete, not restored, missing, differs from the backup, cannot be checked. */
  state: string;
  expected: number | null;
  restored: number | null;
  lost: number | null;
  /** The catalog's estimate where the exact count was lost. */
  estimate?: number;
  which: string;
  problem: string;
}

const STATE: Record<TableOutcome['status'], string> = {
  restored: 'complete',
  partial: 'incomplete',
  failed: 'not restored',
  missing: 'missing',
  skipped: 'left out',
};

/**
 * A table's restore state in plain words. A table that did not come back at
 * all was "not started yet" (interrupted), or is "missing entirely" (the
 * file ends before it, or it was in damaged parts).
 */
export function tableState(r: Pick<RecoverReport, 'interrupted'> & { damage?: { truncated: boolean } }, t: TableOutcome): string {
  if (t.status !== 'missing') return STATE[t.status];
  return r.interrupted ? 'not started yet' : 'missing entirely';
}

/** Tables that are not whole, from the restore and from the validation, once each. */
export function incompleteTables(r: Pick<RecoverReport, 'tables' | 'validation' | 'interrupted'> & { damage?: { truncated: boolean } }): IncompleteRow[] {
  const rows: IncompleteRow[] = [];
  const listed = new Set<string>();
  for (const t of r.tables) {
    if (t.status === 'restored' || t.status === 'skipped') continue;
    listed.add(t.name);
    rows.push({
      name: t.name,
      state: tableState(r, t),
      expected: t.rowsExpected,
      restored: t.rowsRestored,
      lost: t.rowsLost,
      estimate: t.rowsEstimate,
      which: describeLoss(t.name, t.lostKeyRanges),
      problem: t.error ?? '',
    });
  }
  for (const v of r.validation?.tables ?? []) {
    if (v.status === 'match' || listed.has(v.name)) continue;
    rows.push({
      name: v.name,
      state: v.status === 'differs' ? 'differs from the backup' : v.status === 'missing' ? 'missing' : 'cannot be checked',
      expected: v.rowsExpected,
      restored: v.rowsFound,
      lost: v.rowsExpected !== null && v.rowsFound !== null ? Math.max(0, v.rowsExpected - v.rowsFound) : null,
      which: '',
      problem: v.detail ?? (v.checksumMatch === false && v.rowsExpected === v.rowsFound ? 'same number of rows, different content' : ''),
    });
  }
  return rows;
}

/**
 * A plain-text table for the terminal, columns padded to fit. With `width`
 * (the room a line has), a table wider than that is stacked instead: each
 * row's first cell on a line, then its other cells as "Label: value" pairs
 * packed into indented lines, so nothing is broken apart by the terminal.
 */
export function textTable(header: string[], rows: string[][], opts: { numeric?: number[]; maxWidth?: number; width?: number } = {}): string[] {
  const lines = columnTable(header, rows, opts);
  if (opts.width === undefined || lines.every((l) => l.length <= opts.width!)) return lines;
  return rows.flatMap((r) => [r[0], ...packFields(r.slice(1).map((c, i) => `${header[i + 1]}: ${c}`), opts.width! - 2).map((l) => `  ${l}`)]);
}

/** "A: 1 · B: 2" pairs packed into lines of at most `width`, a pair never split. */
function packFields(fields: string[], width: number): string[] {
  const out: string[] = [];
  for (const f of fields) {
    const last = out.length - 1;
    if (last >= 0 && out[last].length + 3 + f.length <= width) out[last] += ` · ${f}`;
    else out.push(f);
  }
  return out;
}

function columnTable(header: string[], rows: string[][], opts: { numeric?: number[]; maxWidth?: number }): string[] {
  const maxWidth = opts.maxWidth ?? 60;
  const cut = (s: string) => (s.length > maxWidth ? s.slice(0, maxWidth - 1) + '…' : s);
  const all = [header, ...rows].map((r) => r.map(cut));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]?.length ?? 0)));
  const numeric = new Set(opts.numeric ?? []);
  const cell = (c: string, i: number, last: boolean) => (numeric.has(i) ? c.padStart(widths[i]) : last ? c : c.padEnd(widths[i]));
  const line = (r: string[]) => r.map((c, i) => cell(c, i, i === r.length - 1)).join('  ').trimEnd();
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)];
}

/**
 * Rows in the backup: exact; else at least the rows that came back (the
 * catalog's estimate can be lower than that, and is then no help); else,
 * for a table of which nothing came back, the estimate said as one.
 */
export function expectedRows(t: { expected: number | null; restored?: number | null; estimate?: number }): string {
  if (t.expected !== null) return count(t.expected);
  if ((t.restored ?? 0) > 0) return `at least ${count(t.restored!)}`;
  return t.estimate ? `about ${count(t.estimate)}` : 'unknown';
}

/** Rows missing: exact; "all" of a table of which nothing came back; else unknown, never a guess that could be low. */
export function missingRows(t: { expected: number | null; restored: number | null; lost: number | null; estimate?: number }): string {
  if (t.lost !== null) return count(t.lost);
  return t.restored === 0 ? 'all' : 'unknown';
}

/** Where the counts that were lost were: said with the totals and under the tables. */
const lostWhere = (r: { damage?: { truncated: boolean } }) => (r.damage?.truncated ? 'in the missing end of the file' : 'in damaged parts of the file');

/** The totals in words: "9,745" restored, "255" lost, or why the loss is unknown. */
export function rowTotalsWords(r: Pick<RecoverReport, 'tables'> & { damage?: { truncated: boolean } }): { restored: string; lost: string } {
  const t = rowTotals(r.tables);
  if (t.lost !== null) return { restored: count(t.restored), lost: count(t.lost) };
  const known = t.lostCounted > 0 ? `; ${plural(t.lostCounted, 'row')} ${t.lostCounted === 1 ? 'is' : 'are'} known to be lost in the other tables` : '';
  return { restored: count(t.restored), lost: `unknown: the exact counts of ${plural(t.uncountedTables, 'table')} were ${lostWhere(r)}${known}` };
}

/** "Rows restored: 9,745. Rows lost: 255." */
export function rowTotalsText(r: Pick<RecoverReport, 'tables'> & { damage?: { truncated: boolean } }): string {
  const w = rowTotalsWords(r);
  return `Rows restored: ${w.restored}. Rows lost: ${w.lost}.`;
}

/** Open Dental's main tables first (in MAIN_TABLES' order), then the others in the backup's order. */
export function mainFirst<T extends { name: string }>(tables: T[]): T[] {
  const rank = (name: string) => {
    const i = MAIN_ORDER.indexOf(name);
    return i < 0 ? MAIN_ORDER.length : i;
  };
  return tables.map((t, i) => ({ t, i })).sort((a, b) => rank(a.t.name) - rank(b.t.name) || a.i - b.i).map((x) => x.t);
}
const MAIN_ORDER = Object.keys(MAIN_TABLES);

/** A TableOutcome in the shape the two helpers above read. */
export const rowFigures = (t: TableOutcome) => ({ expected: t.rowsExpected, restored: t.rowsRestored as number | null, lost: t.rowsLost, estimate: t.rowsEstimate });
