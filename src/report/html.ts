/**
 * The recovery report as one self-contained HTML page: inline styles, no
 * scripts, no external resources, so it opens the same anywhere and can be
 * mailed or printed. Every value from the backup or the server is escaped.
 */
import { humanDate } from '../text.js';
import type { RecoverReport } from './recover-report.js';
import { allTableRows, backupFacts, commandList, damageFacts, countNotes, duration, fileCheckText, incompleteRows, placeFacts, validationText, type Fact, type TableRow } from './content.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const e = escapeHtml;

function tone(r: RecoverReport): 'ok' | 'warn' | 'bad' {
  if (r.exitCode === 0) return 'ok';
  return r.outcome === 'failed' || r.interrupted ? 'bad' : 'warn';
}

const STYLE = `
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1d2430;font:15px/1.5 -apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif}
main{max-width:1040px;margin:0 auto;padding:32px 28px 48px}
.brand{color:#5b6577;font-size:13px;letter-spacing:.04em;text-transform:uppercase}
h1{font-size:26px;margin:4px 0 18px;word-break:break-all}
h2{font-size:17px;margin:0 0 12px}
.banner{border-radius:10px;padding:16px 20px;font-size:18px;font-weight:600;margin-bottom:22px;border:1px solid}
.banner.ok{background:#e7f6ec;border-color:#9fd8b1;color:#14532d}
.banner.warn{background:#fff6e0;border-color:#f0cf7a;color:#6b4500}
.banner.bad{background:#fdecec;border-color:#f1a9a9;color:#7f1d1d}
.card.next{border-color:#9db4d8;background:#f5f8fd}
.card.next ul{margin-top:4px}.card.next li{margin:3px 0}
.card{background:#fff;border:1px solid #dde1e7;border-radius:10px;padding:18px 20px;margin-bottom:18px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:18px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:6px 16px;margin:0}
dt{color:#5b6577}
dd{margin:0;word-break:break-word}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid #eceef2;vertical-align:top}
th{background:#f7f8fa;color:#3c4555;font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.pill{display:inline-block;padding:1px 9px;border-radius:999px;font-size:12.5px;font-weight:600;white-space:nowrap}
.pill.ok{background:#e7f6ec;color:#14532d}.pill.warn{background:#fff2cc;color:#6b4500}.pill.bad{background:#fde2e2;color:#7f1d1d}.pill.quiet{background:#eef0f3;color:#4a5363}
pre{background:#1f2430;color:#e8ecf3;padding:10px 14px;border-radius:8px;overflow-x:auto;font:13px/1.45 ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-all;margin:4px 0 12px}
.muted{color:#5b6577}
ul{margin:6px 0 0;padding-left:20px}
details summary{cursor:pointer;font-weight:600;font-size:17px}
footer{color:#5b6577;font-size:13px;margin-top:26px}
@media print{body{background:#fff}.card{break-inside:avoid}pre{background:#f2f2f2;color:#000}}
`;

function pill(status: string): string {
  const cls = /^(complete|restored|match|whole)$/.test(status) ? 'ok' : /^(left out|not started yet)$/.test(status) ? 'quiet' : /incomplete|partial|differs|cannot/.test(status) ? 'warn' : 'bad';
  return `<span class="pill ${cls}">${e(status)}</span>`;
}

function facts(rows: Fact[], html: Partial<Record<string, string>> = {}): string {
  return `<dl>${rows.map(([k, v]) => `<dt>${e(k)}</dt><dd>${html[k] ?? e(v)}</dd>`).join('')}</dl>`;
}

const estimateNote = (rows: TableRow[]) => countNotes(rows).map((n) => `<p class="muted">${e(n)}</p>`).join('');

function nextStepsSection(r: RecoverReport): string {
  const lines = r.nextSteps ?? [];
  if (lines.length === 0) return '';
  const [head, ...rest] = lines;
  const items = rest.map((l) => l.trim()).filter(Boolean);
  const body = items.every((l) => l.startsWith('- ')) ? `<ul>${items.map((l) => `<li>${e(l.slice(2))}</li>`).join('')}</ul>` : items.map((l) => `<pre>${e(l)}</pre>`).join('');
  return `<section class="card next"><h2>What to do next</h2><p>${e(head.replace(/^What to do next:\s*/, ''))}</p>${body}</section>`;
}

function incompleteSection(r: RecoverReport): string {
  const rows = incompleteRows(r);
  if (rows.length === 0) return `<section class="card"><h2>Tables that are not complete</h2><p>None: every table is complete.</p></section>`;
  // Columns that would be empty for every row are left out.
  const withWhich = rows.some((t) => t.which);
  const withProblem = rows.some((t) => t.problem);
  const body = rows.map((t) => `<tr><td>${e(t.name)}</td><td>${pill(t.state)}</td><td class="n">${e(t.inBackup)}</td><td class="n">${e(t.restored)}</td><td class="n">${e(t.missing)}</td>${withWhich ? `<td>${e(t.which)}</td>` : ''}${withProblem ? `<td>${e(t.problem)}</td>` : ''}</tr>`).join('');
  const head = `<th>Table</th><th>State</th><th class="n">Rows in backup</th><th class="n">Rows restored</th><th class="n">Rows missing</th>${withWhich ? '<th>Which rows are missing</th>' : ''}${withProblem ? '<th>Problem</th>' : ''}`;
  return `<section class="card"><h2>Tables that are not complete (${rows.length})</h2>
<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>${estimateNote(rows)}</section>`;
}

function validationSection(r: RecoverReport): string {
  const { head, differences } = validationText(r);
  const list = differences.slice(0, 100).map((d) => `<li>${e(d)}</li>`).join('');
  const more = differences.length > 100 ? `<li>… and ${differences.length - 100} more (see the JSON report)</li>` : '';
  const took = r.validation ? `<p class="muted">Took ${duration(r.validation.durationMs)}.</p>` : '';
  return `<section class="card"><h2>Check against the backup</h2><p>${e(head)}</p>${list ? `<ul>${list}${more}</ul>` : ''}${took}</section>`;
}

function allTablesSection(r: RecoverReport): string {
  const rows = allTableRows(r);
  const body = rows.map((t) => `<tr><td>${e(t.name)}</td><td>${pill(t.state)}</td><td class="n">${e(t.inBackup)}</td><td class="n">${e(t.restored)}</td><td class="n">${e(t.missing)}</td><td>${t.check ? pill(t.check) : '<span class="muted">–</span>'}</td><td>${e(t.which)}</td></tr>`).join('');
  return `<section class="card"><details${r.tables.length <= 60 ? ' open' : ''}><summary>All tables (${r.tables.length})</summary>
<table style="margin-top:10px"><thead><tr><th>Table</th><th>Restore</th><th class="n">Rows in backup</th><th class="n">Rows restored</th><th class="n">Rows missing</th><th>Check</th><th>Which rows are missing</th></tr></thead><tbody>${body}</tbody></table>${estimateNote(rows)}</details></section>`;
}

function objectsSection(r: RecoverReport): string {
  const rows = Object.entries(r.objects).map(([k, v]) => `<tr><td>${e(k)}</td><td class="n">${v.expected}</td><td class="n">${v.restored}</td></tr>`).join('');
  const errors = [
    ...r.objectErrors.map((o) => `<li>${e(o.kind)} ${e(o.name)} was not restored (${e(o.error)})</li>`),
    ...(r.definersReplaced ?? []).map((d) => `<li>${e(d.kind)} ${e(d.name)} is defined by the restoring account instead of ${e(d.definer)}</li>`),
    ...(r.serverNotes ?? []).map((l) => `<li>${e(l)}</li>`),
    ...(r.commands.enableEvents ? [`<li>Events were restored disabled. To let them run: <code>${e(r.commands.enableEvents)}</code></li>`] : []),
  ].join('');
  return `<section class="card"><h2>Views, triggers, routines and events</h2><table><thead><tr><th>Kind</th><th class="n">In the backup</th><th class="n">Restored</th></tr></thead><tbody>${rows}</tbody></table>${errors ? `<ul>${errors}</ul>` : ''}</section>`;
}

function commandsSection(r: RecoverReport): string {
  const parts = commandList(r).map(([label, cmd]) => `<div>${e(label)}</div><pre>${e(cmd)}</pre>`);
  const note = r.commands.note ? `<p class="muted">${e(r.commands.note)}</p>` : '';
  return `<section class="card"><h2>Commands (for IT)</h2><p class="muted">The backup password is asked for when a command runs; it is never written here.</p>${parts.join('')}${note}</section>`;
}

export function renderHtml(r: RecoverReport): string {
  const backup = facts(backupFacts(r), { 'File check': pill(fileCheckText(r)) });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Restore report: ${e(r.database)}</title><style>${STYLE}</style></head>
<body><main>
<div class="brand">lastresort · restore report</div>
<h1>${e(r.database)}</h1>
<div class="banner ${tone(r)}" id="outcome">${e(r.summary)}</div>
${nextStepsSection(r)}
<div class="grid"><section class="card"><h2>The backup</h2>${backup}</section><section class="card"><h2>Restored into</h2>${facts(placeFacts(r))}</section></div>
${incompleteSection(r)}
${validationSection(r)}
<section class="card"><h2>Damage found in the file</h2>${facts(damageFacts(r))}</section>
${allTablesSection(r)}
${objectsSection(r)}
${commandsSection(r)}
<footer>Made by lastresort ${e(r.producerVersion)} on ${e(humanDate(r.timings.finishedAt))}. This report holds no passwords and no patient records: only table names, counts and key numbers.</footer>
</main></body></html>
`;
}
