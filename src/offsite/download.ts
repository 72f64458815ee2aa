/**
 * `vendor fetch`: a backup from the store to a local file in one streamed
 * pass (memory flat whatever its size; resumed after a dropped connection,
 * remote-source.ts). The bytes are checked as they arrive, without the
 * password, by the same walker as `check`: every frame, then both header
 * copies; a damaged object stops the download at the damage. Only a whole
 * file takes its final name, mode 0600, by rename.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LrError } from '../errors.js';
import { checkFrames, type CheckResult } from '../identify/check.js';
import { locateHeader, payloadFrames, type ByteSource } from '../format/reader.js';
import { localSource } from '../format/source.js';
import { openRemote } from './remote-source.js';
import type { RemoteSource } from './remote.js';
import { makePrivate } from '../system/private-file.js';
import { notAFile, targetKind } from '../system/atomic-file.js';

export interface Fetched {
  path: string;
  bytes: number;
  check: CheckResult;
}

/**
 * Downloads to a temporary name in `outDir`, checking on the way, and
 * renames to `name` only when whole; a damaged download is removed and its
 * check returned.
 */
export async function fetchChecked(src: RemoteSource, outDir: string, name: string, signal?: AbortSignal): Promise<Fetched> {
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  // Object names were chosen by whoever uploaded them: only plain characters reach the disk.
  const final = join(outDir, basename(name).replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_'));
  const tmp = join(dirname(final), `.${basename(final)}.${randomBytes(4).toString('hex')}.tmp`);
  // The download is read back (check, recover): a device or FIFO of that name is refused, never renamed over.
  if (!['missing', 'regular'].includes(await targetKind(final))) throw notAFile(final);
  const source = await openRemote(src, signal);
  const fh = await open(tmp, 'wx', 0o600);
  makePrivate(tmp);
  let whole = false;
  try {
    const { check, bytes } = await writeChecked(source, fh, tmp);
    await fh.sync();
    whole = check.intact;
    return { path: final, bytes, check };
  } finally {
    await fh.close();
    if (whole) await rename(tmp, final);
    else await unlink(tmp).catch(() => {});
  }
}

/** Writes the object to `fh` while its frames go through the check; the bytes after the last frame are written too. */
async function writeChecked(source: ByteSource, fh: FileHandle, path: string): Promise<{ check: CheckResult; bytes: number }> {
  const located = await locateHeader(source);
  const input = source.stream(0)[Symbol.asyncIterator]();
  let written = 0;
  const pull = async (): Promise<Buffer | null> => {
    const r = await input.next();
    if (r.done) return null;
    await fh.write(r.value, 0, r.value.length, written);
    written += r.value.length;
    return r.value;
  };
  // Frames start after the first header copy: the bytes before it are written, not scanned.
  async function* payload(): AsyncGenerator<Buffer> {
    for (let piece = await pull(); piece; piece = await pull()) {
      const skip = Math.max(0, located.payloadOffset - (written - piece.length));
      if (skip < piece.length) yield piece.subarray(skip);
    }
  }
  // The header copy at the end is read from the written file, once the rest of the bytes are in.
  const tailFrom = async (): Promise<ByteSource> => {
    while (await pull());
    if (written !== source.size) throw new LrError('LR_IO', `${source.name} ended after ${written} of ${source.size} bytes. Try again.`);
    return localSource(path);
  };
  try {
    // A damaged first header copy fails the check at once: nothing more is downloaded.
    const frames = located.firstCopyIntact ? payload() : (async function* () {})();
    const check = await checkFrames(located, payloadFrames(located, frames), { stopAtDamage: true, tailFrom });
    return { check, bytes: written };
  } finally {
    await input.return?.();
  }
}
