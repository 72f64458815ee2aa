/**
 * `check`: is the file whole? Without the password it can only use the
 * unkeyed checksums: every frame head and body, the chunk indexes in order,
 * and a final chunk at the end. A chunk that passes here can still fail
 * authentication if someone altered it on purpose; restore will say so.
 */
import { locateHeader, markDamaged, payloadFrames, readTailHeaderCopy, type LocatedHeader } from '../format/reader.js';

export interface CheckResult {
  intact: boolean;
  complete: boolean;
  chunks: number;
  damagedChunks: number;
  damagedRanges: [number, number][];
  truncated: boolean;
  headerCopyUsed: boolean;
  firstHeaderIntact: boolean;
  strayBytes: number;
  fileBytes: number;
  /** crc32 of each chunk's sealed bytes, for comparing a copy without the password. */
  chunkChecksums?: number[];
}

export async function checkFile(path: string, opts: { located?: LocatedHeader; onProgress?: (fileOffset: number, fileBytes: number) => void } = {}): Promise<CheckResult> {
  const located = opts.located ?? (await locateHeader(path));
  const result: CheckResult = {
    intact: false,
    complete: false,
    chunks: 0,
    damagedChunks: 0,
    damagedRanges: [],
    truncated: true,
    headerCopyUsed: located.headerCopyUsed,
    firstHeaderIntact: located.firstCopyIntact,
    strayBytes: 0,
    fileBytes: located.fileBytes,
  };
  let next = 0;
  let finalSeen = false;
  const damage = { damagedChunks: 0, damagedRanges: result.damagedRanges } as Parameters<typeof markDamaged>[0];
  for await (const ev of payloadFrames(located)) {
    if (ev.type === 'garbage') {
      result.strayBytes += ev.length;
      continue;
    }
    opts.onProgress?.(ev.fileOffset, located.fileBytes);
    if (ev.index < next) continue;
    if (ev.index > next) markDamaged(damage, next, ev.index - 1);
    if (!ev.bodyIntact) markDamaged(damage, ev.index, ev.index);
    next = ev.index + 1;
    if (ev.final) {
      finalSeen = true;
      break;
    }
  }
  result.chunks = next;
  result.damagedChunks = damage.damagedChunks;
  result.truncated = !finalSeen;
  result.complete = finalSeen;
  // The second header copy is part of being whole: without it, one bad sector in the first loses the file.
  result.intact = finalSeen && result.damagedChunks === 0 && located.firstCopyIntact && (await hasIntactTailCopy(located));
  return result;
}

async function hasIntactTailCopy(located: LocatedHeader): Promise<boolean> {
  if (located.headerCopyUsed) return true;
  return (await readTailHeaderCopy(located.path, located.fileBytes)) !== null;
}
