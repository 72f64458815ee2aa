/** The report for IT as Markdown: what was restored, what was lost, and the commands to go on. */
import { humanDate, neutralise } from '../text.js';
import { momentText, partNumbers } from './words.js';
import { describeLoss, rowTotals, type RestoreReport } from '../restore/report.js';
import { resumeAdvice } from '../restore/server-faults.js';

/**
 * Text from the backup (table and object names, the admin, errors quoting
 * them) as inert Markdown: no control characters, and no character that
 * would end a table cell or start markup.
 */
export function mdText(text: string | number): string {
  return neutralise(String(text)).replace(/[\\`*_[\]<>|#]/g, '\\$&');
}

const n = (v: number | null) => (v === null ? 'unknown' : v.toLocaleString('en-US'));

export function headline(r: RestoreReport): string {
  const tables = r.tables.filter((t) => t.status !== 'skipped');
  const bad = tables.filter((t) => t.status !== 'restored');
  if (r.interrupted) return `The restore was interrupted: ${tables.length - bad.length} of ${tables.length} tables were finished. Resume it with the command below.`;
  if (r.outcome === 'complete') return `All ${tables.length} tables restored.`;
  const advice = resumeAdvice(r);
  if (r.outcome === 'failed') return `The restore failed: no rows could be restored.${advice ? ` ${advice}` : ''}`;
  // A loss summed only over the tables whose counts survived would be low: it is said as unknown instead.
  const t = rowTotals(r.tables);
  const lost = t.lost === null ? `; ${n(t.restored)} rows restored, how many are missing is unknown` : t.lost > 0 ? `; ${n(t.restored)} rows restored, ${n(t.lost)} missing` : '';
  return `Restored with losses: ${bad.length} of ${tables.length} tables are incomplete${lost}.${advice ? ` ${advice}` : ''}`;
}

export function renderMarkdown(r: RestoreReport, validation?: { ok: boolean; lines: string[] }): string {
  const out: string[] = [];
  out.push(`# Restore report: ${mdText(r.database)}`, '');
  out.push(`**${mdText(headline(r))}**`, '');
  out.push('| | |', '|---|---|');
  out.push(`| Backup file | ${mdText(r.backup.file)} |`);
  out.push(`| Backed up | ${humanDate(r.backup.createdAt)} |`);
  const moment = momentText(r.backup.moment, (s) => s);
  if (moment) out.push(`| One moment? | ${mdText(moment)} |`);
  out.push(`| Opened with the password of | ${mdText(r.backup.admin.userName)} (user #${r.backup.admin.userNum}) |`);
  out.push(`| Restored into | ${mdText(r.target)}, database ${mdText(r.database)} |`);
  out.push(`| Started | ${humanDate(r.startedAt)} |`);
  out.push(`| Took | ${(r.durationMs / 1000).toFixed(1)} s |`);
  out.push(`| Outcome | ${r.outcome}${r.interrupted ? ' (interrupted)' : ''} |`, '');

  const notWhole = r.tables.filter((t) => t.status !== 'restored' && t.status !== 'skipped');
  out.push('## Tables that are not complete', '');
  if (notWhole.length === 0) out.push('None.', '');
  else {
    out.push('| Table | Status | Rows expected | Rows restored | Rows lost | Which rows | Problem |', '|---|---|---:|---:|---:|---|---|');
    for (const t of notWhole) {
      const which = mdText(describeLoss(t.name, t.lostKeyRanges));
      out.push(`| ${mdText(t.name)} | ${t.status} | ${n(t.rowsExpected)} | ${n(t.rowsRestored)} | ${n(t.rowsLost)} | ${which} | ${mdText(t.error ?? '')} |`);
    }
    out.push('');
  }
  out.push('## Schema objects', '', '| Kind | Expected | Restored |', '|---|---:|---:|');
  for (const [k, v] of Object.entries(r.objects)) out.push(`| ${k} | ${v.expected} | ${v.restored} |`);
  for (const e of r.objectErrors) out.push('', `- ${mdText(e.kind)} ${mdText(e.name)} was not restored (${mdText(e.error)}).`);
  if (r.objectsRunAs) out.push('', `- Views, routines, triggers and events run as ${mdText(r.objectsRunAs.account)}: ${mdText(r.objectsRunAs.reason)}.${r.commands.repointDefiners ? ` Once you have checked them, to let them run as another account: \`${mdText(r.commands.repointDefiners)}\`` : ''}`);
  for (const d of r.definersReplaced ?? []) out.push('', `- ${mdText(d.kind)} ${mdText(d.name)} had the definer ${mdText(d.definer)} in the backup.`);
  if (r.commands.enableEvents) out.push('', `- Events are restored disabled (${r.eventsDisabled.map(mdText).join(', ')}). To let them run on their schedule, run in the database: \`${mdText(r.commands.enableEvents)}\``);
  const notes = r.serverNotes ?? [];
  if (notes.length) out.push('', '## The target server', '', ...notes.map((l) => `- ${mdText(l)}`));
  out.push('', '## Damage found in the file', '');
  out.push(`- Parts: ${r.damage.chunks}, damaged: ${r.damage.damagedChunks}${r.damage.damagedRanges.length ? ` ${partNumbers(r.damage.damagedRanges)}` : ''}`);
  out.push(`- Bytes missing in damaged parts: ${n(r.damage.bytesLost)}; cut short: ${r.damage.truncated ? 'yes (how much is missing at the end cannot be told: the file does not record its full length)' : 'no'}; spare header copy used: ${r.damage.headerCopyUsed ? 'yes' : 'no'}`, '');
  if (validation) {
    out.push('## Validation', '', validation.ok ? 'The restored database matches the backup.' : 'The restored database differs from the backup:', '');
    for (const l of validation.lines) out.push(`- ${mdText(l)}`);
    out.push('');
  }
  out.push('## All tables', '', '| Table | Status | Rows expected | Rows restored |', '|---|---|---:|---:|');
  for (const t of r.tables) out.push(`| ${mdText(t.name)} | ${t.status} | ${n(t.rowsExpected)} | ${n(t.rowsRestored)} |`);
  out.push('', '## Commands', '', r.resumable ? 'Finish this restore (once the problem above is fixed):' : 'Resume an interrupted restore:', '', '```', neutralise(r.commands.resume), '```', '', 'Validate the restored database against the backup:', '', '```', neutralise(r.commands.validate), '```', '');
  return out.join('\n');
}
