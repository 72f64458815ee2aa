/**
 * The recovery report as one self-contained HTML page: inline styles, no
 * scripts, no external resources, so it opens the same anywhere and can be
 * mailed or printed. Every value from the backup or the server is escaped.
 */
import { basename } from 'node:path';
import { describeRange } from '../restore/report.js';
import { humanBytes, humanDate } from '../cli/output.js';
import { formatCount, incompleteTables, tableState, type RecoverReport } from './recover-report.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const e = escapeHtml;
const seconds = (ms: number | null) => (ms === null ? 'not run' : ms < 1000 ? `${ms} ms` : ms < 90_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`);

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

function facts(rows: [string, string][]): string {
  return `<dl>${rows.map(([k, v]) => `<dt>${e(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

function incompleteSection(r: RecoverReport): string {
  const rows = incompleteTables(r);
  if (rows.length === 0) return `<section class="card"><h2>Tables that are not complete</h2><p>None: every table is complete.</p></section>`;
  // Columns that would be empty for every row are left out.
  const withWhich = rows.some((t) => t.which);
  const withProblem = rows.some((t) => t.problem);
  const body = rows.map((t) => `<tr><td>${e(t.name)}</td><td>${pill(t.state)}</td><td class="n">${formatCount(t.expected)}</td><td class="n">${formatCount(t.restored)}</td><td class="n">${formatCount(t.lost)}</td>${withWhich ? `<td>${e(t.which)}</td>` : ''}${withProblem ? `<td>${e(t.problem)}</td>` : ''}</tr>`).join('');
  const head = `<th>Table</th><th>State</th><th class="n">Rows in backup</th><th class="n">Rows restored</th><th class="n">Rows missing</th>${withWhich ? '<th>Which rows are missing</th>' : ''}${withProblem ? '<th>Problem</th>' : ''}`;
  return `<section class="card"><h2>Tables that are not complete (${rows.length})</h2>
<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table></section>`;
}

function validationSection(r: RecoverReport): string {
  const v = r.validation;
  if (!v) return `<section class="card"><h2>Check against the backup</h2><p>Not done: ${e(r.validationNote ?? 'it did not run')}.</p></section>`;
  const matched = v.tables.filter((t) => t.status === 'match').length;
  const objects = v.objects.filter((o) => o.present).length;
  const head = v.match
    ? `All ${matched} tables match the backup, row by row (row counts and content checksums)${objects > 0 ? `, and so do its ${objects} views, triggers, routines and events` : ''}.`
    : `${matched} of ${v.tables.length} tables match the backup. Differences found:`;
  const list = v.differences.slice(0, 100).map((d) => `<li>${e(d)}</li>`).join('');
  const more = v.differences.length > 100 ? `<li>… and ${v.differences.length - 100} more (see the JSON report)</li>` : '';
  return `<section class="card"><h2>Check against the backup</h2><p>${e(head)}</p>${list ? `<ul>${list}${more}</ul>` : ''}<p class="muted">Took ${seconds(v.durationMs)}.</p></section>`;
}

function damageSection(r: RecoverReport): string {
  const d = r.damage;
  const ranges = d.damagedRanges.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(', ');
  const rows: [string, string][] = [
    ['Parts in the file', formatCount(d.chunks)],
    ['Damaged parts', d.damagedChunks === 0 ? 'none' : `${formatCount(d.damagedChunks)}${ranges ? ` (numbers ${e(ranges)})` : ''}`],
    ['Bytes lost', d.bytesLost ? humanBytes(d.bytesLost) : 'none'],
    ['Cut short', d.truncated ? 'yes: the end of the file is missing' : 'no'],
    ['Spare header used', d.headerCopyUsed ? 'yes: the first header was damaged' : 'no'],
  ];
  return `<section class="card"><h2>Damage found in the file</h2>${facts(rows)}</section>`;
}

function allTablesSection(r: RecoverReport): string {
  const check = new Map((r.validation?.tables ?? []).map((t) => [t.name, t.status]));
  const body = r.tables.map((t) => {
    const state = tableState(r, t);
    const ranges = (t.lostKeyRanges ?? []).map(describeRange).join('; ');
    return `<tr><td>${e(t.name)}</td><td>${pill(state)}</td><td class="n">${formatCount(t.rowsExpected)}</td><td class="n">${formatCount(t.rowsRestored)}</td><td>${check.has(t.name) ? pill(check.get(t.name)!) : '<span class="muted">–</span>'}</td><td>${e(ranges)}</td></tr>`;
  }).join('');
  return `<section class="card"><details${r.tables.length <= 60 ? ' open' : ''}><summary>All tables (${r.tables.length})</summary>
<table style="margin-top:10px"><thead><tr><th>Table</th><th>Restore</th><th class="n">Rows in backup</th><th class="n">Rows restored</th><th>Check</th><th>Which rows are missing</th></tr></thead><tbody>${body}</tbody></table></details></section>`;
}

function objectsSection(r: RecoverReport): string {
  const rows = Object.entries(r.objects).map(([k, v]) => `<tr><td>${e(k)}</td><td class="n">${v.expected}</td><td class="n">${v.restored}</td></tr>`).join('');
  const errors = r.objectErrors.map((o) => `<li>${e(o.kind)} ${e(o.name)} was not restored (${e(o.error)})</li>`).join('');
  return `<section class="card"><h2>Views, triggers, routines and events</h2><table><thead><tr><th>Kind</th><th class="n">In the backup</th><th class="n">Restored</th></tr></thead><tbody>${rows}</tbody></table>${errors ? `<ul>${errors}</ul>` : ''}</section>`;
}

function commandsSection(r: RecoverReport): string {
  const block = (label: string, cmd: string) => `<div>${e(label)}</div><pre>${e(cmd)}</pre>`;
  const parts = [
    r.interrupted || r.resumable ? block('Continue this restore where it stopped:', r.commands.resume) : block('Continue the restore if it is ever interrupted:', r.commands.resume),
    block('Check the restored database against the backup again:', r.commands.validate),
    block('Do the whole recovery again (into a new database):', r.commands.repeat),
  ];
  if (r.sandbox) parts.push(block('Look at the restored database in the sandbox server:', `${r.sandbox.connectCommand} ${r.database}`), block('Stop the sandbox server:', r.sandbox.stopCommand));
  const note = r.commands.note ? `<p class="muted">${e(r.commands.note)}</p>` : '';
  return `<section class="card"><h2>Commands</h2><p class="muted">The backup password is asked for when a command runs; it is never written here.</p>${parts.join('')}${note}</section>`;
}

export function renderHtml(r: RecoverReport): string {
  const admin = r.backup.admin;
  const file = r.backupFile;
  const how = r.place.mode === 'resume' ? 'continued an interrupted restore' : r.place.mode === 'replace' ? 'replaced an existing database (confirmed by name)' : 'new database';
  const backupFacts = facts([
    ['File', `${e(basename(file.path))}<div class="muted">${e(file.path)}</div>`],
    ['Practice database', e(file.database)],
    ['Made', e(humanDate(r.backup.createdAt))],
    ['Size', e(humanBytes(file.bytes))],
    ['File check', file.intact ? pill('whole') : pill(`damaged: ${file.damagedChunks} of ${file.chunks} parts${file.truncated ? ', cut short' : ''}`)],
    ['Opened with', `the password of ${e(admin.userName)} <span class="muted">(user #${admin.userNum}${admin.lastLoginAt ? `, last logged on ${e(humanDate(admin.lastLoginAt))}` : ''})</span>`],
  ]);
  const targetFacts = facts([
    ['Database', e(r.place.database)],
    ['Server', e(r.place.server)],
    ['How', e(how)],
    ['Started', e(humanDate(r.timings.startedAt))],
    ['Restore took', e(seconds(r.timings.restoreMs))],
    ['Check took', e(seconds(r.timings.validationMs))],
  ]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Restore report: ${e(r.database)}</title><style>${STYLE}</style></head>
<body><main>
<div class="brand">lastresort · restore report</div>
<h1>${e(r.database)}</h1>
<div class="banner ${tone(r)}">${e(r.summary)}</div>
<div class="grid"><section class="card"><h2>The backup</h2>${backupFacts}</section><section class="card"><h2>Restored into</h2>${targetFacts}</section></div>
${incompleteSection(r)}
${validationSection(r)}
${damageSection(r)}
${allTablesSection(r)}
${objectsSection(r)}
${commandsSection(r)}
<footer>Made by lastresort ${e(r.producerVersion)} on ${e(humanDate(r.timings.finishedAt))}. This report holds no passwords and no patient records: only table names, counts and key numbers.</footer>
</main></body></html>
`;
}
