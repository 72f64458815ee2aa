/**
 * Step 1: find the backup file and say what it is, in plain words, with the
 * result of `check` (is the file whole?). Nothing here needs the password.
 */
import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { isLrError, LrError } from '../errors.js';
import { locateHeader, readTailHeaderCopy, type LocatedHeader } from '../format/reader.js';
import { isLink, locateNamed, maskLink } from '../open/index.js';
import { checkFile, checkHeaderCopies, type CheckResult } from '../identify/check.js';
import { humanBytes, humanDate, safeText } from '../text.js';
import { cutShortText, damagedPartsText, WHOLE_TEXT } from '../report/words.js';
import { textTable } from '../report/recover-report.js';
import { cancelled, type Ask, type Choice } from './ask.js';
import { whoOpens } from '../format/header.js';

export interface BackupCandidate {
  path: string;
  bytes: number;
  modified: Date;
}

/** The .lrb files in a folder, newest first. */
export async function listBackups(dir: string): Promise<BackupCandidate[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const found: BackupCandidate[] = [];
  for (const name of names.filter((n) => n.toLowerCase().endsWith('.lrb'))) {
    const path = join(dir, name);
    const s = await stat(path).catch(() => null);
    if (s?.isFile()) found.push({ path, bytes: s.size, modified: s.mtime });
  }
  return found.sort((a, b) => b.modified.getTime() - a.modified.getTime());
}

/** The other .lrb files beside `path`, newest first: where an earlier backup may be. */
export async function otherBackups(path: string): Promise<string[]> {
  return (await listBackups(dirname(path))).map((f) => f.path).filter((p) => resolve(p) !== resolve(path));
}

/** A path as people paste or drag it: quoted, with escaped spaces, or starting with ~. */
export function cleanTypedPath(text: string, cwd: string): string {
  let p = text.trim();
  if (p.length >= 2 && (p[0] === '"' || p[0] === "'") && p.at(-1) === p[0]) p = p.slice(1, -1);
  p = p.replace(/\\ /g, ' ');
  if (p === '~' || p.startsWith('~/')) p = join(homedir(), p.slice(1));
  return resolve(cwd, p);
}

const TYPE_PATH = ':type-a-path';

/**
 * The backup to restore: the one named on the command line, or a choice among
 * the .lrb files in `cwd`, or a typed path. A file that is not a readable
 * backup is explained and the person asked again (on a terminal).
 */
export async function findBackup(ask: Ask, opts: { file?: string; cwd: string }): Promise<LocatedHeader> {
  let problem: string | null = null;
  if (opts.file !== undefined) {
    const tried = await tryLocate(isLink(opts.file) ? opts.file.trim() : resolve(opts.cwd, opts.file), ask.interactive, ask);
    if ('located' in tried) return tried.located;
    problem = tried.problem;
    ask.say(problem);
  } else if (!ask.interactive) {
    throw new LrError('LR_USAGE', 'Name the backup file: lastresort recover FILE.lrb (there is no terminal here to choose one in).');
  }
  for (;;) {
    const path = await pickPath(ask, opts.cwd, problem === null);
    const tried = await tryLocate(path, true, ask);
    if ('located' in tried) return tried.located;
    problem = tried.problem;
    ask.say(problem);
  }
}

/** What the file list says about one file: read from its header, without the password. */
export interface FileSummary {
  path: string;
  bytes: number;
  /** Null: not a readable backup. */
  located: LocatedHeader | null;
  /** Quick check: both header copies are there, so the file has its end. The full check follows the choice. */
  looksWhole: boolean;
}

export async function summarizeBackups(files: BackupCandidate[]): Promise<FileSummary[]> {
  const out: FileSummary[] = [];
  for (const f of files) {
    const located = await locateHeader(f.path).catch(() => null);
    const looksWhole = !!located && located.firstCopyIntact && !located.headerCopyUsed && (await readTailHeaderCopy(f.path, located.fileBytes).catch(() => null)) !== null;
    out.push({ path: f.path, bytes: f.bytes, located, looksWhole });
  }
  const time = (s: FileSummary) => (s.located ? Date.parse(s.located.header.createdAt) || 0 : -1);
  // Newest whole backup first (it is the one offered), then the rest newest first, then what is not a backup.
  const newestWhole = out.filter((s) => s.looksWhole).sort((a, b) => time(b) - time(a))[0];
  return out.sort((a, b) => Number(b === newestWhole) - Number(a === newestWhole) || time(b) - time(a));
}

/** The file list as a table that fits 80 columns: backup date, database, size, quick check, whose password. */
export function fileListLines(files: FileSummary[]): string[] {
  const rows = files.map((f, n) => {
    if (!f.located) return [`${n + 1}`, safeText(basename(f.path), 18), 'not a backup', humanBytes(f.bytes), '', ''];
    const h = f.located.header;
    return [`${n + 1}`, humanDate(h.createdAt), safeText(h.database, 14), humanBytes(f.bytes), f.looksWhole ? 'looks whole' : 'DAMAGED', safeText(whoOpens(h).userName, 10)];
  });
  return textTable(['', 'Backup made', 'Database', 'Size', 'Quick check', 'Password of'], rows, { numeric: [0, 3], maxWidth: 19 }).map((l) => `  ${l}`);
}

/** A short title for the choice (the table above has the rest): the answer line must fit the terminal. */
function fileChoiceTitle(f: FileSummary, n: number): string {
  if (!f.located) return `${n + 1}. ${safeText(basename(f.path), 30)} (not a backup)`;
  return `${n + 1}. ${humanDate(f.located.header.createdAt)}, ${f.looksWhole ? 'looks whole' : 'DAMAGED'}`;
}

async function pickPath(ask: Ask, cwd: string, firstTime: boolean): Promise<string> {
  const files = await summarizeBackups(await listBackups(cwd));
  if (files.length > 0) {
    ask.say(`Backups in this folder, the newest whole one first (the file is checked fully once chosen):`);
    for (const line of fileListLines(files)) ask.say(line);
    const choices: Choice<string>[] = files.map((f, n) => ({ title: fileChoiceTitle(f, n), value: f.path }));
    choices.push({ title: 'Another file: type where it is', value: TYPE_PATH });
    const picked = await ask.choose({ message: 'Which backup do you want to restore?', choices });
    if (picked !== TYPE_PATH) return picked;
  } else if (firstTime) {
    ask.say(`There is no backup file (.lrb) in this folder (${safeText(cwd, 120)}).`);
  }
  // The question stays short, so its line fits a narrow terminal; what to type is said above it.
  ask.say('Type the path of the backup file (or drag the file here, or paste the link from support), then press Enter.');
  const typed = await ask.text({ message: 'Where is the backup file?', shownAs: (answer) => (isLink(answer) ? maskLink(answer) : null) });
  if (typed.trim() === '') throw cancelled();
  return isLink(typed) ? typed.trim() : cleanTypedPath(typed, cwd);
}

async function tryLocate(path: string, explain: boolean, ask: Ask): Promise<{ located: LocatedHeader } | { problem: string }> {
  try {
    // A link is read in place from the store, like restore LINK: nothing is saved on this machine.
    if (isLink(path)) ask.say('Reading the backup straight from the link (nothing is saved on this machine)…');
    // The wizard's Ctrl-C (ask.signal) ends a pending GET or a pause before resuming, here and in every later read.
    return { located: await locateNamed(path, ask.signal) };
  } catch (err) {
    if (ask.signal?.aborted) throw cancelled();
    if (!explain || !isLrError(err)) throw err;
    if (err.code === 'LR_INTERRUPTED') throw err;
    return { problem: err.message };
  }
}

/**
 * `check`, with a progress bar on large files; stops between frames when the
 * person presses Ctrl-C. A backup read from the store (a link) has only its
 * header copies checked here: its parts are checked as the restore reads
 * them, so it crosses the office's line once, not twice.
 */
export async function checkBackup(ask: Ask, located: LocatedHeader, signal?: AbortSignal): Promise<CheckResult> {
  if (!located.source.local) return checkHeaderCopies(located);
  const bar = ask.progress();
  try {
    return await checkFile(located.source, {
      located,
      onProgress: (offset, total) => {
        if (signal?.aborted) throw cancelled();
        bar.update({ done: offset, total, label: 'checking that the file is whole' });
      },
    });
  } catch (err) {
    // Ctrl-C during a link's read ends the GET: said as any stop before the restore is.
    throw signal?.aborted ? cancelled() : err;
  } finally {
    bar.done();
  }
}

/** What the file is, for a person: database, date, size, and whether it is whole. */
export function describeBackup(located: LocatedHeader, check: CheckResult): string[] {
  const h = located.header;
  const lines = [`This is a backup of the practice database "${safeText(h.database, 80)}", made ${humanDate(h.createdAt)} (${humanBytes(located.fileBytes)}, file ${safeText(basename(located.path), 80)}).`];
  if (check.partsChecked === false && check.intact) {
    lines.push('Both copies of its header check out; every part is checked as it is restored (the file is read from the store once).');
    return lines;
  }
  if (check.intact) {
    lines.push(`The file is whole: ${WHOLE_TEXT(check.chunks)}.`);
    return lines;
  }
  const said: string[] = [];
  if (check.damagedChunks > 0) said.push(`${damagedPartsText(check.damagedChunks, check.chunks, check.damagedRanges)} (about ${humanBytes(check.damagedChunks * h.chunkSize)})`);
  if (check.truncated) said.push(cutShortText(check.chunks));
  if (!check.firstHeaderIntact) said.push('its first header is damaged (the spare copy at the end is used)');
  if (said.length === 0) said.push('the spare copy of its header at the end is damaged');
  lines.push(`The file is damaged: ${said.join('; ')}.`);
  if (check.damagedChunks > 0 || check.truncated) lines.push('The restore will bring back everything that can be read and list exactly what is lost.');
  return lines;
}
