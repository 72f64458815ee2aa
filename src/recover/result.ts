/**
 * Step 5's last words: the result in plain words first, then the tables that
 * are not complete, then what to do next and where the reports are.
 */
import { PROGRESS_TABLE } from '../restore/progress-table.js';
import { safeText } from '../cli/output.js';
import { formatCount, incompleteTables, textTable, type RecoverReport } from '../report/recover-report.js';
import type { SavedReports } from '../report/files.js';

const MAX_ROWS_SHOWN = 25;

export function resultLines(r: RecoverReport, saved: SavedReports | null): string[] {
  const out = ['', r.summary];
  const rows = incompleteTables(r);
  if (r.interrupted) {
    out.push(`The database ${safeText(r.place.database, 64)} is marked as not complete: it keeps a table named ${PROGRESS_TABLE} until the restore is finished.`);
    out.push('To continue where it stopped, run:', `  ${r.commands.resume}`);
  } else if (rows.length > 0) {
    out.push('', 'Tables that are not complete:');
    const body = rows.slice(0, MAX_ROWS_SHOWN).map((t) => [safeText(t.name, 40), t.state, formatCount(t.expected), formatCount(t.restored), formatCount(t.lost), t.which || t.problem]);
    for (const line of textTable(['Table', 'State', 'In backup', 'Restored', 'Missing', 'Which rows'], body, { numeric: [2, 3, 4] })) out.push(`  ${line}`);
    if (rows.length > MAX_ROWS_SHOWN) out.push(`  … and ${rows.length - MAX_ROWS_SHOWN} more: see the report.`);
    if (r.resumable) {
      out.push('', `The database ${safeText(r.place.database, 64)} keeps its progress record (the table ${PROGRESS_TABLE}), so the restore can be finished. Once the problem is fixed, run:`, `  ${r.commands.resume}`);
    }
  }
  if (r.sandbox && !r.interrupted) {
    out.push('', `The restored database ${safeText(r.database, 64)} is in the sandbox server, which keeps running.`);
    out.push(`  Look at it: ${r.sandbox.connectCommand} ${r.database}`, `  Stop it:    ${r.sandbox.stopCommand}`);
  }
  if (r.commands.note) out.push(r.commands.note);
  if (saved) {
    out.push('', 'Reports saved:', `  ${saved.html}   (open this one in a web browser)`, `  ${saved.json}`, `  ${saved.md}`);
  }
  return out;
}
