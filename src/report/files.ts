/**
 * Saving the recovery report: JSON (for tools), HTML (the one a person opens)
 * and Markdown, named after the restored database and the time, readable only
 * by their owner (they name tables and servers of a medical practice).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LrError } from '../errors.js';
import { writeFileAtomic } from '../service/atomic-file.js';
import { renderMarkdown } from '../restore/report-md.js';
import type { RestoreReport } from '../restore/report.js';
import { renderHtml } from './html.js';
import type { RecoverReport } from './recover-report.js';

export interface SavedReports {
  json: string;
  html: string;
  md: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `<database>-YYYYMMDD-HHMMSS`, local time, safe as a file name anywhere. */
export function reportBaseName(database: string, at: Date): string {
  const safe = database.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_') || 'restore';
  return `${safe}-${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}-${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}`;
}

export function renderReportMarkdown(r: RecoverReport): string {
  const validation = r.validation
    ? { ok: r.validation.match, lines: r.validation.match ? [`${r.validation.tables.length} tables and ${r.validation.objects.length} schema objects match.`] : r.validation.differences }
    : { ok: false, lines: [`Not done: ${r.validationNote ?? 'it did not run'}.`] };
  const md = renderMarkdown(r as unknown as RestoreReport, validation);
  const extra = ['## Result in plain words', '', r.summary, '', 'Do the whole recovery again (into a new database):', '', '```', r.commands.repeat, '```', ''];
  if (r.commands.note) extra.push(r.commands.note, '');
  return `${md}\n${extra.join('\n')}`;
}

/** Under a temporary name, then renamed: a full disk leaves no half report; a new file, so always 0600. */
const writePrivate = writeFileAtomic;

export async function saveReports(dir: string, report: RecoverReport, at = new Date()): Promise<SavedReports> {
  const folder = resolve(dir);
  try {
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const base = join(folder, reportBaseName(report.database, at));
    const saved = { json: `${base}.json`, html: `${base}.html`, md: `${base}.md` };
    await writePrivate(saved.json, JSON.stringify(report, null, 2) + '\n');
    await writePrivate(saved.html, renderHtml(report));
    await writePrivate(saved.md, renderReportMarkdown(report));
    return saved;
  } catch (err) {
    throw new LrError('LR_IO', `The report could not be saved in ${folder}. Choose another folder with --report-dir.`, { cause: err });
  }
}
