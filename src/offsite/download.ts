/**
 * A backup from the store to a local file, streamed (memory flat whatever
 * its size; resumed after a dropped connection), then checked without the password (every frame, both header
 * copies) by the same code as `check`; only a whole file takes its final
 * name, mode 0600, by rename, as src/system/atomic-file.ts writes.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, open, rename, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { LrError } from '../errors.js';
import { log } from '../log.js';
import { checkFile, type CheckResult } from '../identify/check.js';
import { describeSource, getRange, type RemoteSource } from './remote.js';

/** Pauses before resuming a broken download; then it gives up. */
export const RESUME_PAUSES_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000];

/**
 * Streams `src` into `path` (created 0600, never over an existing file),
 * synced to disk. A connection that breaks is resumed with a ranged GET from
 * the byte reached, so a dropped connection costs a pause, not the download.
 */
export async function downloadTo(src: RemoteSource, path: string, signal?: AbortSignal): Promise<number> {
  const fh = await open(path, 'wx', 0o600);
  let written = 0;
  let total: number | undefined;
  let failures = 0;
  try {
    while (total === undefined || written < total) {
      try {
        const r = await getRange(src, written, undefined, signal);
        total ??= r.total;
        if (r.total !== total) throw new LrError('LR_IO', `${describeSource(src)} changed while it was being downloaded. Try again.`);
        for await (const piece of r.body) {
          const b = piece as Buffer;
          // A store (or a hostile link) sending more than it announced is not followed.
          if (written + b.length > total) throw new LrError('LR_NOT_BACKUP', `${describeSource(src)} sent more bytes than it announced; it is not a file to trust.`);
          await fh.write(b, 0, b.length, written);
          written += b.length;
        }
        if (written < total) throw new Error('the answer ended early');
      } catch (err) {
        // Only a broken transfer is resumed; a refusal or a missing file is said at once.
        if (signal?.aborted || (err instanceof LrError && err.code !== 'LR_IO') || failures >= RESUME_PAUSES_MS.length) {
          if (err instanceof LrError) throw err;
          throw new LrError('LR_IO', `The download of ${describeSource(src)} broke off at ${written} bytes (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Try again.`, { cause: err });
        }
        log('offsite').warn({ source: describeSource(src), at: written, retryInMs: RESUME_PAUSES_MS[failures], error: (err as Error).message?.slice(0, 120) }, 'download broke off; resuming');
        await delay(RESUME_PAUSES_MS[failures++], undefined, { signal }).catch(() => {});
      }
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return written;
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
  // Object names were chosen by whoever uploaded them: only plain characters reach the disk.
  const final = join(outDir, basename(name).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_'));
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

/**
 * For the recovery wizard, which keeps the file until it ends: a private
 * temporary copy, removed when the process exits.
 */
export async function downloadForSession(src: RemoteSource): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lastresort-remote-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, basename(src.kind === 's3' ? src.key : src.url.pathname) || 'backup.lrb');
  await downloadTo(src, path);
  return path;
}
