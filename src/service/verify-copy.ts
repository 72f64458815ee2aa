/**
 * The network copy: copied under a temporary name, fsynced, renamed, then
 * read back and compared with the original without the password: same size
 * and the same crc32 for every chunk's sealed bytes, and the copy itself
 * whole (read by the same frame walker as check and restore, every frame in
 * its place with its exact checksum, both header copies). A copy that does not
 * match is removed, so a bad copy never counts as a backup.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { LrError } from '../errors.js';
import { TRAILER_BYTES } from '../format/limits.js';
import { fileTagOf } from '../format/header.js';
import { indexFrameIntact } from '../format/index-frame.js';
import { locateHeader, newDamageReport, payloadFrames, readTailHeaderCopy, shapeOf } from '../format/reader.js';
import { acceptByChecksum, walkFrames } from '../format/walker.js';
import { makePrivate } from '../system/private-file.js';
import { targetKind } from '../system/atomic-file.js';

export interface BackupFingerprint {
  fileBytes: number;
  /** crc32 of each chunk's sealed bytes, by chunk index. */
  chunkCrcs: number[];
  /** Every chunk present, in order, checksums good, final chunk seen, both header copies intact. */
  whole: boolean;
}

export async function fingerprintBackup(path: string): Promise<BackupFingerprint> {
  const located = await locateHeader(path);
  const shape = shapeOf(located);
  const damage = newDamageReport(located.headerCopyUsed);
  const chunkCrcs: number[] = [];
  // A good copy has every frame in its place (the walker forgives swaps; a copy must not need it) with its exact checksum:
  // each frame starts where the one before it ends (version 2's frames all have one length but the last).
  let inPlace = true;
  let expectedAt = located.payloadOffset;
  let framesEnd = expectedAt;
  for await (const step of walkFrames(payloadFrames(located), shape, acceptByChecksum(shape), damage)) {
    if (step.kind === 'hole') continue;
    inPlace &&= step.value.exact && step.frame.fileOffset === expectedAt;
    expectedAt += step.frame.frameLength;
    framesEnd = expectedAt;
    chunkCrcs[step.index] = step.value.crc;
  }
  const whole = inPlace && located.firstCopyIntact && !damage.truncated && damage.damagedChunks === 0 && damage.strayBytes === 0 && damage.misplacedChunks === 0;
  return { fileBytes: located.fileBytes, chunkCrcs, whole: whole && (await tailIntact(located, framesEnd, chunkCrcs.length)) };
}

/** The header copy at the end, and in version 3 the index frame between the final chunk and it, whole. */
async function tailIntact(located: Awaited<ReturnType<typeof locateHeader>>, framesEnd: number, chunks: number): Promise<boolean> {
  if ((await readTailHeaderCopy(located.source, located.fileBytes)) === null) return false;
  if (located.header.formatVersion !== 3) return true;
  const copyAt = located.fileBytes - TRAILER_BYTES - located.frame.frameLength;
  return indexFrameIntact(await located.source.readAt(framesEnd, copyAt - framesEnd), fileTagOf(located.header), chunks);
}

/** The first difference between two fingerprints, or null when the copy matches. */
export function compareFingerprints(original: BackupFingerprint, copy: BackupFingerprint): string | null {
  if (copy.fileBytes !== original.fileBytes) return `its size is ${copy.fileBytes} bytes, not ${original.fileBytes}`;
  if (!copy.whole) return 'it does not read back whole';
  const n = Math.max(original.chunkCrcs.length, copy.chunkCrcs.length);
  for (let i = 0; i < n; i++) if (original.chunkCrcs[i] !== copy.chunkCrcs[i]) return `chunk ${i} differs`;
  return null;
}

function copyError(dir: string, err: unknown): LrError {
  if (err instanceof LrError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const kept = 'The local backup is kept.';
  switch (code) {
    case 'ENOENT':
      return new LrError('LR_IO', `The copy folder ${dir} does not exist (is the network share mounted?). ${kept} Mount it or change copyTo.`, { cause: err });
    case 'ENOTDIR':
      return new LrError('LR_IO', `The copy path ${dir} is not a folder. ${kept} Set copyTo to a folder.`, { cause: err });
    case 'ENOSPC':
    case 'EDQUOT':
      return new LrError('LR_IO', `The copy folder ${dir} is full; no copy was left there. ${kept} Free some space there.`, { cause: err });
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new LrError('LR_IO', `Cannot write to the copy folder ${dir} (${code === 'EROFS' ? 'read-only' : 'permission denied'}). ${kept} Let this account write there.`, { cause: err });
    default:
      return new LrError('LR_IO', `Copying to ${dir} failed (${code ?? (err as Error)?.message?.slice(0, 80) ?? 'unknown'}). ${kept} Check the network share.`, { cause: err });
  }
}

/**
 * Copies `file` into `dir` (which must exist: creating a missing mount point
 * would put the "network" copy on the local disk) and verifies it. Returns
 * the copy's path; throws LR_IO with a plain line otherwise.
 */
export async function copyAndVerify(file: string, dir: string, opts: { signal?: AbortSignal; original?: BackupFingerprint } = {}): Promise<{ file: string; bytes: number }> {
  const name = basename(file);
  const dest = join(dir, name);
  const tmp = join(dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
  let leftover: string | null = null;
  try {
    const s = await stat(dir);
    if (!s.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    // A copy must read back, and a rename over a device or FIFO would take it from everything else using it.
    if (!['missing', 'regular'].includes(await targetKind(dest))) throw new LrError('LR_IO', `${dest} is not a regular file, so no copy was put there. The local backup is kept. Remove it or change copyTo.`);
    leftover = tmp;
    const sink = createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
    // Windows: the ACL as soon as the file exists, before the backup's bytes reach it.
    sink.once('open', () => makePrivate(tmp));
    await pipeline(createReadStream(file), sink, { signal: opts.signal });
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, dest);
    leftover = dest;
    const original = opts.original ?? (await fingerprintBackup(file));
    const copyPrint = await fingerprintBackup(dest).catch(() => null);
    const difference = copyPrint ? compareFingerprints(original, copyPrint) : 'its header does not read back';
    if (difference) throw new LrError('LR_IO', `The copy in ${dir} did not match the backup (${difference}); it was removed. The local backup is kept. Check the network share.`);
    leftover = null;
    return { file: dest, bytes: original.fileBytes };
  } catch (err) {
    if (leftover) await unlink(leftover).catch(() => {});
    if (opts.signal?.aborted) throw new LrError('LR_INTERRUPTED', 'The copy was stopped before it finished; no partial copy was left.', { cause: err });
    throw copyError(dir, err);
  }
}
