/**
 * A backup from the store to a local file, streamed (memory flat whatever
 * its size), then checked without the password (every frame, both header
 * copies) by the same code as `check`; only a whole file takes its final
 * name, mode 0600, by rename, as src/service/atomic-file.ts writes.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, open, rename, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { LrError } from '../errors.js';
import { checkFile, type CheckResult } from '../identify/check.js';
import { describeSource, getRange, type RemoteSource } from './remote.js';

/** Streams `src` into `path` (created 0600, never over an existing file), synced to disk. */
export async function downloadTo(src: RemoteSource, path: string, signal?: AbortSignal): Promise<number> {
  const r = await getRange(src, 0, undefined, signal);
  try {
    await pipeline(r.body, createWriteStream(path, { flags: 'wx', mode: 0o600 }), { signal });
  } catch (err) {
    if (err instanceof LrError) throw err;
    throw new LrError('LR_IO', `The download of ${describeSource(src)} broke off (${(err as NodeJS.ErrnoException).code ?? 'error'}). Try again.`, { cause: err });
  }
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  const bytes = (await stat(path)).size;
  if (bytes !== r.total) throw new LrError('LR_IO', `The download of ${describeSource(src)} stopped at ${bytes} of ${r.total} bytes. Try again.`);
  return bytes;
}

export interface Fetched {
  path: string;
  bytes: number;
  check: CheckResult;
}

/**
 * Downloads to a temporary name in `outDir`, checks, and renames to `name`
 * only when whole; a damaged download is removed and its check returned.
 */
export async function fetchChecked(src: RemoteSource, outDir: string, name: string, signal?: AbortSignal): Promise<Fetched> {
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const final = join(outDir, basename(name));
  const tmp = join(dirname(final), `.${basename(final)}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const bytes = await downloadTo(src, tmp, signal);
    const check = await checkFile(tmp);
    if (!check.intact) {
      await unlink(tmp).catch(() => {});
      return { path: final, bytes, check };
    }
    await rename(tmp, final);
    return { path: final, bytes, check };
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/** `check` of a backup in the store: downloaded to a private temporary folder, checked, removed. */
export async function withDownloaded<T>(src: RemoteSource, use: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'lastresort-remote-'));
  try {
    const path = join(dir, 'backup.lrb');
    await downloadTo(src, path);
    return await use(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
