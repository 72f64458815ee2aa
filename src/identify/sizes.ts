/**
 * A backup's sizes: the file, the payload as stored (version 3: the zstd
 * frames), and the payload (the tar) uncompressed. Without the password only
 * cleartext can be used: each chunk head's sealed length gives the stored
 * size, and in version 3 the head's span (bytes 17..19) the uncompressed
 * length of its chunk (a keyed reader checks the decompressed frame against
 * it). Chunks whose heads cannot be read are estimated: `exact` says which.
 */
import { parseHead, type FrameEvent } from '../format/chunks.js';
import { fileTagOf } from '../format/header.js';
import { AEAD_TAG_BYTES, CHUNK_CRC_BYTES, CHUNK_HEAD_BYTES, HEADER_FRAME_MAX, maxSealedOf, TRAILER_BYTES } from '../format/limits.js';
import type { LocatedHeader } from '../format/reader.js';
import { humanBytes } from '../text.js';

export interface PayloadSizes {
  fileBytes: number;
  /** The payload as stored, before sealing: version 3's zstd frames; the same as uncompressedBytes in version 2. */
  compressedBytes: number;
  /** The payload (the tar archive) before compression. */
  uncompressedBytes: number;
  /** uncompressedBytes / fileBytes: how many times smaller the file is than what it holds (1 or less in version 2). */
  ratio: number;
  /** Version 3: the payload is zstd-compressed. */
  compressed: boolean;
  /** Every chunk counted from its own head; false: the chunks below were estimated (damage, a cut). */
  exact: boolean;
  chunksCounted: number;
  chunksEstimated: number;
  /** The file is cut short: only the chunks before the cut are counted, what is missing is not (its size is unknown). */
  cut: boolean;
  /** What the figures rest on, in words. */
  basis: string;
}

/** uncompressed / file bytes, to two decimals: how many times smaller the file is than what it holds. */
export function ratioOf(uncompressedBytes: number, fileBytes: number): number {
  return fileBytes > 0 ? Math.round((uncompressedBytes / fileBytes) * 100) / 100 : 0;
}

/** Adds up chunk frames (and lost stretches) as a walk meets them. */
export class SizeTally {
  private compressed = 0;
  private uncompressed = 0;
  private counted = 0;
  private lostBytes = 0;
  private lostChunks = 0;

  /** Chunks counted so far. */
  get chunks(): number {
    return this.counted;
  }

  frame(f: Extract<FrameEvent, { type: 'frame' }>): void {
    this.compressed += f.sealedLength - AEAD_TAG_BYTES;
    this.uncompressed += f.span;
    this.counted++;
  }

  /** Chunks lost: `bytes` of payload, as the walker counts them (full spans, the final one as its head claimed). */
  hole(chunks: number, bytes: number): void {
    this.lostChunks += chunks;
    this.lostBytes += bytes;
  }

  result(located: LocatedHeader, basis: string, cut = false): PayloadSizes {
    const v3 = located.header.formatVersion === 3;
    // Lost chunks: their uncompressed length is known (full spans); their stored length is taken at the ratio of the rest.
    const perByte = this.uncompressed > 0 ? this.compressed / this.uncompressed : 1;
    const compressedBytes = this.compressed + Math.round(this.lostBytes * perByte);
    const uncompressedBytes = this.uncompressed + this.lostBytes;
    const fileBytes = located.fileBytes;
    return {
      fileBytes,
      compressedBytes,
      uncompressedBytes,
      ratio: ratioOf(uncompressedBytes, fileBytes),
      compressed: v3,
      exact: this.lostChunks === 0 && !cut,
      chunksCounted: this.counted,
      chunksEstimated: this.lostChunks,
      cut,
      basis,
    };
  }
}

const HEAD_READ_BYTES = CHUNK_HEAD_BYTES;
/** A chunk frame's bytes besides its compressed data: head, tag, body checksum. */
const FRAME_OVERHEAD = CHUNK_HEAD_BYTES + AEAD_TAG_BYTES + CHUNK_CRC_BYTES;

/**
 * Walks the chunk heads of a local file from the first frame, each head
 * giving the next one's place: one small read a chunk, no payload read. A
 * head that cannot be read where the one before says, or names another
 * chunk than the next, ends the walk; the
 * rest of the payload is then estimated from the bytes left (the header copy
 * and trailer at the end taken off) at the ratio of the chunks counted.
 */
export async function sizesFromHeads(located: LocatedHeader): Promise<PayloadSizes | null> {
  if (!located.source.local) return null; // in the store: one ranged read a chunk is too many for identify
  const { header } = located;
  const v3 = header.formatVersion === 3;
  const fileTag = fileTagOf(header);
  const maxSealed = maxSealedOf(header.formatVersion, header.chunkSize);
  const tally = new SizeTally();
  const reader = await located.source.openReader();
  const buf = Buffer.alloc(HEAD_READ_BYTES);
  let at = located.payloadOffset;
  let final = false;
  try {
    while (!final && at + CHUNK_HEAD_BYTES <= located.fileBytes) {
      const { bytesRead } = await reader.read(buf, 0, CHUNK_HEAD_BYTES, at);
      const head = bytesRead === CHUNK_HEAD_BYTES ? parseHead(buf, 0, fileTag, maxSealed, v3 ? header.chunkSize : undefined) : null;
      if (!head || head.index !== tally.chunks) break; // damage, or frames out of order (a copy, a swap): the rest is estimated
      tally.frame({ type: 'frame', index: head.index, final: head.final, sealed: Buffer.alloc(0), sealedLength: head.length, span: head.span, bodyIntact: true, bodyChecksum: null, fileOffset: at, frameLength: CHUNK_HEAD_BYTES + head.length + CHUNK_CRC_BYTES });
      at += CHUNK_HEAD_BYTES + head.length + CHUNK_CRC_BYTES;
      final = head.final;
    }
  } finally {
    await reader.close();
  }
  if (!final) {
    // What is left of the payload: the file's bytes from here to its end, less a header copy and the trailer.
    const left = Math.max(0, located.fileBytes - at - TRAILER_BYTES - Math.min(located.frame.frameLength, HEADER_FRAME_MAX));
    if (left === 0) return tally.result(located, HEADS_BASIS, true); // cut short: nothing after the last head to estimate
    const counted = tally.result(located, '');
    const perStored = counted.compressedBytes > 0 ? counted.uncompressedBytes / counted.compressedBytes : 1;
    const frameBytes = counted.chunksCounted > 0 ? counted.compressedBytes / counted.chunksCounted + FRAME_OVERHEAD : header.chunkSize + FRAME_OVERHEAD;
    tally.hole(Math.max(1, Math.ceil(left / frameBytes)), Math.round(left * perStored));
  }
  return tally.result(located, HEADS_BASIS);
}

const mb = humanBytes;

export const HEADS_BASIS = "counted from each chunk's head, which gives the chunk's stored length and uncompressed span in clear (not authenticated without the password)";
export const AUTHENTIC_BASIS = 'authenticated with the password (the decrypted payload and the chunks it came from)';

function howLine(s: PayloadSizes): string {
  if (s.exact) return `Exact, ${s.basis}.`;
  const cut = s.cut ? 'The file is cut short: only what is before the cut is counted, the missing rest is not.' : '';
  const lost = s.chunksEstimated > 0 ? `Estimated: ${s.chunksEstimated} chunk${s.chunksEstimated === 1 ? '' : 's'} could not be counted (damage), taken at the ratio of the ${s.chunksCounted} counted.` : '';
  return [lost, cut].filter(Boolean).join(' ');
}

/** One line of plain words for identify and check. */
export function sizesLine(s: PayloadSizes): string {
  const about = s.exact ? '' : 'about ';
  if (!s.compressed) return `Size: ${mb(s.fileBytes)} file, not compressed (format version 2), holding ${about}${mb(s.uncompressedBytes)} of data. ${howLine(s)}`;
  return `Size: ${mb(s.fileBytes)} file holding ${about}${mb(s.uncompressedBytes)} of data uncompressed (${about}${s.ratio.toFixed(2)} times smaller, zstd; ${about}${mb(s.compressedBytes)} of compressed chunks). ${howLine(s)}`;
}
