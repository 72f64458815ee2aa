/**
 * Files the tool writes (settings, state, reports, decrypted output), written
 * so that a crash or a full disk leaves either the old file or the new one,
 * never half of each: temporary name, fsync, rename. The result is always a
 * new file of mode 0600, whatever the mode of a file it replaces: settings may
 * hold a database password, and reports and output name a practice's tables
 * or hold its patients' rows.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LrError } from '../errors.js';
import { makePrivate } from './private-file.js';
import { isAlive } from './process.js';

export interface AtomicWriteOptions {
  /** false: refuse (LR_USAGE) when `path` already exists, checked at the moment the file is put in place. */
  replace?: boolean;
  /** Told the temporary file's name once it exists, and null once it is gone or in place (for cleanup on a signal). */
  onTemp?: (tmp: string | null) => void;
  /** false: refuse a device or FIFO instead of writing into it (a key or settings file must be readable back). */
  intoStream?: boolean;
}

/** What stands at a name now: nothing, a regular file, a device or FIFO that can be written into, or something else. */
export type TargetKind = 'missing' | 'regular' | 'stream' | 'other';

export async function targetKind(path: string): Promise<TargetKind> {
  try {
    return kindOf(await stat(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
}

function kindOf(st: { isFile(): boolean; isCharacterDevice(): boolean; isFIFO(): boolean }): TargetKind {
  if (st.isFile()) return 'regular';
  return st.isCharacterDevice() || st.isFIFO() ? 'stream' : 'other';
}

/** Fills a new 0600 file beside `path` through `fill`, syncs it, and moves it into place. */
export async function writeAtomic(path: string, fill: (fh: FileHandle) => Promise<void>, opts: AtomicWriteOptions = {}): Promise<void> {
  const kind = await targetKind(path);
  if (kind === 'other' || (kind === 'stream' && opts.intoStream === false)) throw notAFile(path);
  if (kind === 'stream') return writeInPlace(path, fill);
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // The pid in the name lets a later run tell a dead writer's leftover from a live one's (removeStaleTemps).
  const tmp = join(dir, `.${basename(path)}.${randomBytes(4).toString('hex')}.${process.pid}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o600);
    opts.onTemp?.(tmp);
    try {
      makePrivate(tmp); // Windows: the ACL, before anything is written
      await fill(fh);
      await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.replace === false) await placeWithoutReplacing(tmp, path);
    else await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  } finally {
    opts.onTemp?.(null);
  }
}

/** Without a pid in the name (older versions), a leftover counts as stale after this long. */
const STALE_UNNAMED_MS = 3_600_000;

/**
 * Removes what writeAtomic left beside `path` when its process was killed
 * outright (SIGKILL, a power cut): such a file can hold a whole decrypted
 * backup. Only temporaries of this very name whose writer is gone are removed.
 */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const dir = dirname(path);
  const base = basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^\\.${base}\\.[0-9a-f]{8}(?:\\.(\\d+))?\\.tmp$`);
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const m = pattern.exec(name);
    if (!m) continue;
    const full = join(dir, name);
    const stale = m[1] !== undefined ? Number(m[1]) !== process.pid && !isAlive(Number(m[1])) : Date.now() - (await stat(full).then((st) => st.mtimeMs, () => Date.now())) > STALE_UNNAMED_MS;
    if (stale && (await unlink(full).then(() => true, () => false))) removed.push(full);
  }
  return removed;
}

export async function writeFileAtomic(path: string, text: string, opts: AtomicWriteOptions = {}): Promise<void> {
  await writeAtomic(path, (fh) => fh.writeFile(text, 'utf8'), opts);
}

/**
 * Writes into a device or FIFO where it stands: opened without O_CREAT or
 * O_TRUNC, so nothing is made, cut or replaced, and checked again once open
 * (a regular file put there meanwhile is left alone). No fsync: a device or
 * pipe has nothing to sync, and some refuse the call.
 */
async function writeInPlace(path: string, fill: (fh: FileHandle) => Promise<void>): Promise<void> {
  const fh = await open(path, constants.O_WRONLY | constants.O_NOCTTY);
  try {
    if (kindOf(await fh.stat()) !== 'stream') throw notAFile(path);
    await fill(fh);
  } finally {
    await fh.close();
  }
}

/**
 * Said before any work (a password asked, a backup read) for an output name
 * that cannot be used: an existing regular file without `force`, or a folder,
 * socket or disk. A device or FIFO is fine: it is written into.
 */
export async function refuseUnusableOutput(path: string, force: boolean): Promise<void> {
  const kind = await targetKind(path);
  if (kind === 'regular' && !force) throw alreadyExists(path);
  if (kind === 'other') throw notAFile(path);
}

export function notAFile(path: string): LrError {
  return new LrError('LR_USAGE', `${path} is not a regular file, and lastresort never writes over one. Choose a file name.`);
}

export function alreadyExists(path: string): LrError {
  return new LrError('LR_USAGE', `${path} already exists. Choose another name, or add --force to replace it.`);
}

/** A hard link fails if the name is taken, so nothing is replaced even if the file appeared meanwhile. */
async function placeWithoutReplacing(tmp: string, path: string): Promise<void> {
  try {
    await link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyExists(path);
    throw err;
  }
  await unlink(tmp);
}
