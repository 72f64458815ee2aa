/**
 * Step 1: find the backup file and say what it is, in plain words, with the
 * result of `check` (is the file whole?). Nothing here needs the password.
 */
import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { isLrError, LrError } from '../errors.js';
import { locateHeader, type LocatedHeader } from '../format/reader.js';
import { checkFile, type CheckResult } from '../identify/check.js';
import { humanBytes, humanDate, safeText } from '../cli/output.js';
import { cancelled, type Ask, type Choice } from './ask.js';

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

/** A path as people paste or drag it: quoted, with escaped spaces, or starting with ~. */
export function cleanTypedPath(text: string, cwd: string): string {
  let p = text.trim();
  if (p.length >= 2 && (p[0] === '"' || p[0] === "'") && p.at(-1) === p[0]) p = p.slice(1, -1);
  p = p.replace(/\\ /g, ' ');
  if (p === '~' || p.startsWith('~/')) p = join(homedir(), p.slice(1));
  return resolve(cwd, p);
}

const TYPE_PATH = ':type-a-path';

/** A link from support (`vendor share`) or s3://bucket/key, pasted or given instead of a path. */
const isRemote = (text: string) => /^(s3|https?):\/\//i.test(text.trim());

/**
 * The backup to restore: the one named on the command line, or a choice among
 * the .lrb files in `cwd`, or a typed path. A file that is not a readable
 * backup is explained and the person asked again (on a terminal).
 */
export async function findBackup(ask: Ask, opts: { file?: string; cwd: string }): Promise<LocatedHeader> {
  let problem: string | null = null;
  if (opts.file !== undefined) {
    const tried = await tryLocate(isRemote(opts.file) ? opts.file.trim() : resolve(opts.cwd, opts.file), ask.interactive, ask);
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

async function pickPath(ask: Ask, cwd: string, firstTime: boolean): Promise<string> {
  const files = await listBackups(cwd);
  if (files.length > 0) {
    const choices: Choice<string>[] = files.map((f) => ({
      title: `${safeText(basename(f.path), 80)}  (${humanBytes(f.bytes)}, saved ${humanDate(f.modified.toISOString())})`,
      value: f.path,
    }));
    choices.push({ title: 'Another file: type where it is', value: TYPE_PATH });
    const picked = await ask.choose({ message: 'Which backup file do you want to restore?', choices });
    if (picked !== TYPE_PATH) return picked;
  } else if (firstTime) {
    ask.say(`There is no backup file (.lrb) in this folder (${safeText(cwd, 120)}).`);
  }
  const typed = await ask.text({ message: 'Where is the backup file? Type its path (or drag the file here, or paste the link from support), then Enter' });
  if (typed.trim() === '') throw cancelled();
  return isRemote(typed) ? typed.trim() : cleanTypedPath(typed, cwd);
}

async function tryLocate(path: string, explain: boolean, ask: Ask): Promise<{ located: LocatedHeader } | { problem: string }> {
  try {
    if (isRemote(path)) {
      const { remoteSource } = await import('../offsite/remote.js');
      const { downloadForSession } = await import('../offsite/download.js');
      ask.say('Downloading the backup from the link (it is kept only until this program ends)…');
      path = await downloadForSession(remoteSource(path));
    }
    return { located: await locateHeader(path) };
  } catch (err) {
    if (!explain || !isLrError(err)) throw err;
    if (err.code === 'LR_INTERRUPTED') throw err;
    return { problem: err.message };
  }
}

/** `check`, with a progress bar on large files; stops between frames when the person presses Ctrl-C. */
export async function checkBackup(ask: Ask, located: LocatedHeader, signal?: AbortSignal): Promise<CheckResult> {
  const bar = ask.progress();
  try {
    return await checkFile(located.path, {
      located,
      onProgress: (offset, total) => {
        if (signal?.aborted) throw cancelled();
        bar.update({ done: offset, total, label: 'checking that the file is whole' });
      },
    });
  } finally {
    bar.done();
  }
}

/** What the file is, for a person: database, date, size, and whether it is whole. */
export function describeBackup(located: LocatedHeader, check: CheckResult): string[] {
  const h = located.header;
  const lines = [`This is a backup of the practice database "${safeText(h.database, 80)}", made ${humanDate(h.createdAt)} (${humanBytes(located.fileBytes)}, file ${safeText(basename(located.path), 80)}).`];
  if (check.intact) {
    lines.push(`The file is whole: all ${check.chunks} of its parts check out.`);
    return lines;
  }
  const parts: string[] = [];
  if (check.damagedChunks > 0) parts.push(`${check.damagedChunks} of its ${check.chunks} parts cannot be read (about ${humanBytes(check.damagedChunks * h.chunkSize)})`);
  if (check.truncated) parts.push(`it is cut short: the end of the backup is missing`);
  if (!check.firstHeaderIntact) parts.push('its first header is damaged (the spare copy at the end is used)');
  if (parts.length === 0) parts.push('the spare copy of its header at the end is damaged');
  lines.push(`The file is damaged: ${parts.join('; ')}.`);
  if (check.damagedChunks > 0 || check.truncated) lines.push('The restore will bring back everything that can be read and list exactly what is lost.');
  return lines;
}
