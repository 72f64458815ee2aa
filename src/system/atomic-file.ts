/**
 * Files the tool writes (settings, state, reports, decrypted output), written
 * so that a crash or a full disk leaves either the old file or the new one,
 * never half of each: temporary name, fsync, rename. The result is always a
 * new file of mode 0600, whatever the mode of a file it replaces: settings may
 * hold a database password, and reports and output name a practice's tables
 * or hold its patients' rows.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LrError } from '../errors.js';
import { makePrivate } from './private-file.js';

export interface AtomicWriteOptions {
  /** false: refuse (LR_USAGE) when `path` already exists, checked at the moment the file is put in place. */
  replace?: boolean;
}

/** Fills a new 0600 file beside `path` through `fill`, syncs it, and moves it into place. */
export async function writeAtomic(path: string, fill: (fh: FileHandle) => Promise<void>, opts: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', 0o600);
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
  }
}

export async function writeFileAtomic(path: string, text: string, opts: AtomicWriteOptions = {}): Promise<void> {
  await writeAtomic(path, (fh) => fh.writeFile(text, 'utf8'), opts);
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
