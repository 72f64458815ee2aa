/**
 * Saving the recovery report: JSON (for tools), HTML (the one a person opens)
 * and Markdown, named after the restored database and the time, readable only
 * by their owner (they name tables and servers of a medical practice).
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LrError } from '../errors.js';
import { jsonSafe } from '../text.js';
import { writeFileAtomic } from '../system/atomic-file.js';
import { renderHtml } from './html.js';
import { renderReportMarkdown } from './markdown.js';
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

export async function saveReports(dir: string, report: RecoverReport, at = new Date()): Promise<SavedReports> {
  const folder = resolve(dir);
  try {
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const base = join(folder, reportBaseName(report.database, at));
    const saved = { json: `${base}.json`, html: `${base}.html`, md: `${base}.md` };
    await writeFileAtomic(saved.json, jsonSafe(JSON.stringify(report, null, 2)) + '\n');
    await writeFileAtomic(saved.html, renderHtml(report));
    await writeFileAtomic(saved.md, renderReportMarkdown(report));
    return saved;
  } catch (err) {
    throw new LrError('LR_IO', `The report could not be saved in ${folder}. Choose another folder with --report-dir.`, { cause: err });
  }
}
