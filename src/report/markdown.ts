/**
 * The recovery report as Markdown: the same sections and the same words as
 * the HTML page (both are built from content.ts), dates as people read them.
 */
import { humanDate, neutralise } from '../text.js';
import type { RecoverReport } from './recover-report.js';
import { allTableRows, backupFacts, commandList, countNotes, damageFacts, incompleteRows, placeFacts, validationText, type Fact, type TableRow } from './content.js';

/** A cell never breaks the table: pipes escaped, line breaks flattened. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');

function facts(rows: Fact[]): string[] {
  return ['| | |', '|---|---|', ...rows.map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`), ''];
}

function tableOf(header: string[], numeric: number[], rows: string[][]): string[] {
  const align = header.map((_, i) => (numeric.includes(i) ? '---:' : '---'));
  return [`| ${header.join(' | ')} |`, `|${align.join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`), ''];
}


export function renderReportMarkdown(r: RecoverReport): string {
  const out: string[] = [`# Restore report: ${r.database}`, '', `**${r.summary}**`, ''];
  if (r.nextSteps?.length) {
    const [head, ...rest] = r.nextSteps;
    const intro = head.replace(/^What to do next:\s*/, '');
    out.push('## What to do next', '', ...(intro ? [intro, ''] : []));
    for (const line of rest) out.push(line.trim().startsWith('- ') ? line.trim() : `    ${line.trim()}`);
    out.push('');
  }
  out.push('## The backup', '', ...facts(backupFacts(r)), '## Restored into', '', ...facts(placeFacts(r)));

  const incomplete = incompleteRows(r);
  out.push(`## Tables that are not complete${incomplete.length ? ` (${incomplete.length})` : ''}`, '');
  if (incomplete.length === 0) out.push('None: every table is complete.', '');
  else {
    // As on the page: columns that would be empty for every row are left out.
    const extra = [['Which rows are missing', (t: TableRow) => t.which], ['Problem', (t: TableRow) => t.problem]] as const;
    const shown = extra.filter(([, get]) => incomplete.some((t) => get(t)));
    out.push(...tableOf(['Table', 'State', 'Rows in backup', 'Rows restored', 'Rows missing', ...shown.map(([h]) => h)], [2, 3, 4], incomplete.map((t) => [t.name, t.state, t.inBackup, t.restored, t.missing, ...shown.map(([, get]) => get(t))])));
    for (const note of countNotes(incomplete)) out.push(note, '');
  }

  const v = validationText(r);
  out.push('## Check against the backup', '', v.head, '', ...v.differences.map((d) => `- ${cell(d)}`), ...(v.differences.length ? [''] : []));
  out.push('## Damage found in the file', '', ...facts(damageFacts(r)));

  const all = allTableRows(r);
  out.push(`## All tables (${all.length})`, '', ...tableOf(['Table', 'Restore', 'Rows in backup', 'Rows restored', 'Rows missing', 'Check', 'Which rows are missing'], [2, 3, 4], all.map((t) => [t.name, t.state, t.inBackup, t.restored, t.missing, t.check ?? '–', t.which])));

  out.push('## Views, triggers, routines and events', '', ...tableOf(['Kind', 'In the backup', 'Restored'], [1, 2], Object.entries(r.objects).map(([k, o]) => [k, String(o.expected), String(o.restored)])));
  for (const o of r.objectErrors) out.push(`- ${o.kind} ${cell(o.name)} was not restored (${cell(o.error)})`);
  if (r.objectsRunAs) out.push(`- Views, routines, triggers and events run as ${cell(r.objectsRunAs.account)}: ${cell(r.objectsRunAs.reason)}`);
  for (const d of r.definersReplaced ?? []) out.push(`- ${d.kind} ${cell(d.name)} had the definer ${cell(d.definer)} in the backup`);
  if (r.commands.enableEvents) out.push(`- Events are restored disabled (${r.eventsDisabled.map(cell).join(', ')}). To let them run on their schedule, run in the database: \`${cell(r.commands.enableEvents)}\``);
  for (const l of r.serverNotes ?? []) out.push(`- ${cell(l)}`);
  if (r.objectErrors.length || r.definersReplaced?.length || r.commands.enableEvents || r.serverNotes?.length) out.push('');

  out.push('## Commands (for IT)', '', 'The backup password is asked for when a command runs; it is never written here.', '');
  for (const [label, cmd] of commandList(r)) out.push(label, '', '```', cmd, '```', '');
  if (r.commands.note) out.push(r.commands.note, '');
  out.push(`Made by lastresort ${r.producerVersion} on ${humanDate(r.timings.finishedAt)}. This report holds no passwords and no patient records: only table names, counts and key numbers.`, '');
  // Names and messages come from the backup: control characters are shown, never obeyed.
  return out.join('\n').split('\n').map(neutralise).join('\n');
}
