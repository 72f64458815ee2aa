/** The report for IT as Markdown: what was restored, what was lost, and the commands to go on. */
import { describeRange, type RestoreReport } from './report.js';
import { resumeAdvice } from './server-faults.js';

const n = (v: number | null) => (v === null ? '?' : v.toLocaleString('en-US'));

export function headline(r: RestoreReport): string {
  const tables = r.tables.filter((t) => t.status !== 'skipped');
  const bad = tables.filter((t) => t.status !== 'restored');
  if (r.interrupted) return `The restore was interrupted: ${tables.length - bad.length} of ${tables.length} tables were finished. Resume it with the command below.`;
  if (r.outcome === 'complete') return `All ${tables.length} tables restored.`;
  const advice = resumeAdvice(r);
  if (r.outcome === 'failed') return `The restore failed: no rows could be restored.${advice ? ` ${advice}` : ''}`;
  const lost = bad.reduce((s, t) => s + (t.rowsLost ?? 0), 0);
  return `Restored with losses: ${bad.length} of ${tables.length} tables are incomplete${lost > 0 ? `; ${n(lost)} rows are missing` : ''}.${advice ? ` ${advice}` : ''}`;
}

export function renderMarkdown(r: RestoreReport, validation?: { ok: boolean; lines: string[] }): string {
  const out: string[] = [];
  out.push(`# Restore report: ${r.database}`, '');
  out.push(`**${headline(r)}**`, '');
  out.push('| | |', '|---|---|');
  out.push(`| Backup file | \`${r.backup.file}\` |`);
  out.push(`| Backed up | ${r.backup.createdAt} |`);
  out.push(`| Opened with the password of | ${r.backup.admin.userName} (user #${r.backup.admin.userNum}) |`);
  out.push(`| Restored into | \`${r.target}\`, database \`${r.database}\` |`);
  out.push(`| Started | ${r.startedAt} |`);
  out.push(`| Took | ${(r.durationMs / 1000).toFixed(1)} s |`);
  out.push(`| Outcome | ${r.outcome}${r.interrupted ? ' (interrupted)' : ''} |`, '');

  const notWhole = r.tables.filter((t) => t.status !== 'restored' && t.status !== 'skipped');
  out.push('## Tables that are not complete', '');
  if (notWhole.length === 0) out.push('None.', '');
  else {
    out.push('| Table | Status | Rows expected | Rows restored | Rows lost | Which rows | Problem |', '|---|---|---:|---:|---:|---|---|');
    for (const t of notWhole) {
      const which = (t.lostKeyRanges ?? []).map(describeRange).join('; ');
      out.push(`| ${t.name} | ${t.status} | ${n(t.rowsExpected)} | ${n(t.rowsRestored)} | ${n(t.rowsLost)} | ${which} | ${t.error ?? ''} |`);
    }
    out.push('');
  }
  out.push('## Schema objects', '', '| Kind | Expected | Restored |', '|---|---:|---:|');
  for (const [k, v] of Object.entries(r.objects)) out.push(`| ${k} | ${v.expected} | ${v.restored} |`);
  for (const e of r.objectErrors) out.push('', `- ${e.kind} ${e.name} was not restored (${e.error}).`);
  out.push('', '## Damage found in the file', '');
  out.push(`- Chunks: ${r.damage.chunks}, damaged: ${r.damage.damagedChunks}${r.damage.damagedRanges.length ? ` (${r.damage.damagedRanges.map(([a, b]) => (a === b ? a : `${a}-${b}`)).join(', ')})` : ''}`);
  out.push(`- Bytes lost: ${n(r.damage.bytesLost)}; cut short: ${r.damage.truncated ? 'yes' : 'no'}; header copy used: ${r.damage.headerCopyUsed ? 'yes' : 'no'}`, '');
  if (validation) {
    out.push('## Validation', '', validation.ok ? 'The restored database matches the backup.' : 'The restored database differs from the backup:', '');
    for (const l of validation.lines) out.push(`- ${l}`);
    out.push('');
  }
  out.push('## All tables', '', '| Table | Status | Rows expected | Rows restored |', '|---|---|---:|---:|');
  for (const t of r.tables) out.push(`| ${t.name} | ${t.status} | ${n(t.rowsExpected)} | ${n(t.rowsRestored)} |`);
  out.push('', '## Commands', '', r.resumable ? 'Finish this restore (once the problem above is fixed):' : 'Resume an interrupted restore:', '', '```', r.commands.resume, '```', '', 'Validate the restored database against the backup:', '', '```', r.commands.validate, '```', '');
  return out.join('\n');
}
