/**
 * The one in-order frame walker (docs/format.md, "Reading with damage"):
 * decrypt, restore, validate, check and the copy verification all read the
 * chunk frames through walkFrames. It decides which frames count, where the
 * holes are and where the payload ends; what "counts" is the caller's
 * acceptance rule: authentication with the key (acceptAuthentic), or without
 * it, the body checksum and an index the file's size makes plausible
 * (acceptByChecksum).
 *
 * Only accepted frames move the position or define a hole, so a frame whose
 * head was forged (only its CRC is needed) cannot declare a giant hole, and a
 * non-final frame is used only at the full chunk length, so chunk i always
 * starts at i * chunkSize.
 */
import { crc32 } from 'node:zlib';
import { openChunk } from '../keys/crypto.js';
import { AEAD_TAG_BYTES, CHUNK_CRC_BYTES, CHUNK_HEAD_BYTES } from './limits.js';
import { repairFinalSpan, type FrameEvent } from './chunks.js';
import { unpackChunk } from './zstd/chunk.js';
import { markDamaged, type DamageReport } from './damage.js';

/** How many accepted frames may wait for a missing one (chunks swapped in the file). */
export const REORDER_WINDOW = 8;

export type Frame = Extract<FrameEvent, { type: 'frame' }>;

/** What the walker needs to know of the file. */
export interface PayloadShape {
  chunkSize: number;
  /** The whole file's size: it bounds the chunk indexes a frame without authentication may claim. */
  fileBytes: number;
  /** The format version (2 when not given): version 3 chunks are zstd frames, of any sealed length. */
  version?: number;
  /** What the file's intact end proves; asked only when no final frame was found (reader.ts, provenEnd). */
  end?: () => Promise<ProvenEnd | null>;
}

/**
 * An intact end of the file (trailer, header copy, in version 3 the index
 * frame's checksummed head) proves the file whole in length: the chunk
 * frames end at `framesEnd`, and in version 3 there are `chunks` of them.
 */
export interface ProvenEnd {
  /** Where the first chunk frame starts (the scan start). */
  framesStart: number;
  /** Where the last chunk frame ends: the index frame's start (version 3), the header copy's (version 2). */
  framesEnd: number;
  /** Version 3: N, from the index frame's head; null in version 2. */
  chunks: number | null;
  fileTag: Buffer;
}

type Garbage = Extract<FrameEvent, { type: 'garbage' }>;

/**
 * The final chunk lost inside a file whole in length: its index and span, or
 * null when the end does not say. Version 3: chunk N - 1, its span from its
 * head repaired (one damaged byte) when the bytes before the index frame are
 * that one frame, else the most it can be (chunkSize). Version 2: every
 * frame but the last has the full length, so the bytes between the last
 * chunk used and the header copy give how many chunks follow and the last
 * one's length; null unless they fit that (bytes deleted or inserted).
 */
function lostFinalChunk(end: ProvenEnd, shape: PayloadShape, next: number, lastEnd: number | null, garbage: Garbage | null): { index: number; bytes: number } | null {
  const { chunkSize } = shape;
  if (end.chunks !== null) {
    const index = end.chunks - 1;
    if (index < next || !plausibleIndex(index, shape)) return null;
    const g = garbage && garbage.fileOffset < end.framesEnd && garbage.fileOffset + garbage.length >= end.framesEnd ? garbage : null;
    const sealedLength = g ? end.framesEnd - g.fileOffset - CHUNK_HEAD_BYTES - CHUNK_CRC_BYTES : 0;
    const span = g && sealedLength >= AEAD_TAG_BYTES ? repairFinalSpan(g.head, end.fileTag, index, sealedLength, chunkSize) : null;
    return { index, bytes: span ?? chunkSize };
  }
  const gap = end.framesEnd - (lastEnd ?? end.framesStart);
  const full = chunkSize + MIN_FRAME_BYTES;
  if (gap < MIN_FRAME_BYTES) return null;
  const following = Math.floor((gap - MIN_FRAME_BYTES) / full);
  const bytes = gap - MIN_FRAME_BYTES - following * full;
  const index = next + following;
  return bytes <= chunkSize && plausibleIndex(index, shape) ? { index, bytes } : null;
}

/** A frame's value when it is accepted (its plaintext, its checksum...), or null. Called only on usable frames. */
export type AcceptFrame<T> = (frame: Frame) => T | null;

export type WalkStep<T> =
  | { kind: 'chunk'; index: number; value: T; frame: Frame }
  /** Chunks from..to (inclusive) lost: `bytes` of plaintext, every chunk full but perhaps the final one. */
  | { kind: 'hole'; from: number; to: number; bytes: number };

/**
 * An index that a file of this size can hold: chunk i's plaintext starts at
 * i * chunkSize, and a whole version 2 file holds every plaintext byte plus
 * overhead, a version 3 file at least 48 bytes a chunk, so a genuine index
 * passes unless bytes were deleted from the file.
 */
export function plausibleIndex(index: number, shape: PayloadShape): boolean {
  // Version 3: a compressed span may take fewer file bytes than its span, but no frame is shorter than its 48 bytes of framing.
  return index * (shape.version === 3 ? MIN_FRAME_BYTES : shape.chunkSize) < shape.fileBytes;
}

/** A chunk frame's bytes besides its sealed plaintext: head, tag, body checksum. */
const MIN_FRAME_BYTES = CHUNK_HEAD_BYTES + AEAD_TAG_BYTES + CHUNK_CRC_BYTES;

/**
 * All sealed bytes present, and in version 2 a non-final frame at the full
 * chunk length. (Version 3's frames have any length: the head's span, which
 * a valid head has at the full chunk size for a non-final frame, and the
 * decompressed length checked against it stand in for the rule.)
 */
function usable(frame: Frame, shape: PayloadShape): boolean {
  if (frame.sealed.length !== frame.sealedLength) return false;
  return frame.final || shape.version === 3 || frame.sealedLength === shape.chunkSize + AEAD_TAG_BYTES;
}

/**
 * With the key: a frame counts when it authenticates; its value is the
 * plaintext. In version 3, also when the authenticated zstd frame has the
 * shape docs/format.md allows and decodes to exactly the head's span.
 */
export function acceptAuthentic(payloadKey: Buffer, version = 2): AcceptFrame<Buffer> {
  if (version !== 3) return (f) => openChunk(payloadKey, f.index, f.final, f.sealed);
  return (f) => {
    const frame = openChunk(payloadKey, f.index, f.final, f.sealed);
    return frame && unpackChunk(frame, f.span);
  };
}

/** Without the key, what a frame's checksum says of its sealed bytes. */
export interface ChecksummedChunk {
  /** crc32 of the sealed bytes read. */
  crc: number;
  /** The stored checksum matched exactly (not only up to one damaged byte of its own). */
  exact: boolean;
}

/**
 * Without the key: a frame counts when its index is plausible for the file's
 * size and its body checksum holds. A stored checksum that differs from the
 * computed one in a single byte also counts: the damage hit the checksum, not
 * the body (damage to the body changes more than one byte of its CRC-32 but
 * for about 1 in 4 million cases), which is what authentication would find.
 */
export function acceptByChecksum(shape: PayloadShape): AcceptFrame<ChecksummedChunk> {
  return (f) => {
    if (!plausibleIndex(f.index, shape) || f.bodyChecksum === null) return null;
    const crc = f.bodyIntact ? f.bodyChecksum : crc32(f.sealed);
    const diff = (crc ^ f.bodyChecksum) >>> 0;
    const bytesDiffering = [24, 16, 8, 0].filter((shift) => (diff >>> shift) & 0xff).length;
    return bytesDiffering <= 1 ? { crc, exact: bytesDiffering === 0 } : null;
  };
}

/**
 * Walks the frames in file order and yields chunks in index order, with a
 * hole step wherever chunks are lost. `damage` is filled in as it goes:
 * holes, stray bytes, dropped frames, and at the end the chunk count and
 * whether the file was cut short. Memory: at most REORDER_WINDOW frames held.
 */
export async function* walkFrames<T>(frames: AsyncIterable<FrameEvent>, shape: PayloadShape, accept: AcceptFrame<T>, damage: DamageReport): AsyncGenerator<WalkStep<T>> {
  const { chunkSize } = shape;
  let next = 0; // the first chunk not yet used or given up
  let finalIndex: number | null = null; // of the accepted final frame
  let claimedEnd: { index: number; bytes: number } | null = null; // the last final frame met that was not accepted
  let pastFinal = false; // what follows a final frame is the header copy and trailer, not damage
  let lastEnd: number | null = null; // file offset where the last chunk used ends
  let lastGarbage: Garbage | null = null;
  const held = new Map<number, { frame: Frame; value: T }>();

  /** Gives up chunks next..to: full chunks, but for `finalBytes` in chunk `to` when it is a lost final chunk. */
  function* lose(to: number, finalBytes = chunkSize): Generator<WalkStep<T>> {
    if (to < next) return;
    const bytes = (to - next) * chunkSize + finalBytes;
    markDamaged(damage, next, to);
    damage.bytesLost += bytes;
    yield { kind: 'hole', from: next, to, bytes };
    next = damage.chunks = to + 1;
  }
  function* use(frame: Frame, value: T): Generator<WalkStep<T>> {
    yield* lose(frame.index - 1);
    yield { kind: 'chunk', index: frame.index, value, frame };
    next = damage.chunks = frame.index + 1;
    lastEnd = frame.fileOffset + frame.frameLength;
  }
  /** Uses held frames in order; when the window is over-full (or `all`), skips over the missing chunk. */
  function* release(all: boolean): Generator<WalkStep<T>> {
    while (held.size > 0) {
      let index = next;
      if (!held.has(index)) {
        if (!all && held.size <= REORDER_WINDOW) return;
        index = Math.min(...held.keys());
      }
      const { frame, value } = held.get(index)!;
      held.delete(index);
      yield* use(frame, value);
    }
  }

  for await (const ev of frames) {
    if (ev.type === 'garbage') {
      if (!pastFinal) damage.strayBytes += ev.length;
      lastGarbage = ev;
      continue;
    }
    if (ev.index < next || held.has(ev.index) || (finalIndex !== null && ev.index > finalIndex)) {
      damage.misplacedChunks++; // already used or given up, a duplicate, or beyond the end
      continue;
    }
    const value = usable(ev, shape) ? accept(ev) : null;
    if (value === null) {
      // Not accepted: it moves nothing, but a final flag still says where the payload may end.
      if (ev.final && finalIndex === null && plausibleIndex(ev.index, shape)) {
        claimedEnd = { index: ev.index, bytes: ev.span };
        pastFinal = true;
      }
      continue;
    }
    if (ev.final) {
      finalIndex = ev.index;
      for (const i of held.keys()) if (i > ev.index) (held.delete(i), damage.misplacedChunks++);
    }
    pastFinal = finalIndex !== null;
    held.set(ev.index, { frame: ev, value });
    yield* release(false);
    if (finalIndex !== null && next > finalIndex) break;
  }
  yield* release(true);
  const endsAtClaim = finalIndex === null && claimedEnd !== null && claimedEnd.index >= next;
  if (endsAtClaim) yield* lose(claimedEnd!.index, claimedEnd!.bytes);
  // No final frame at all, yet the end of the file is intact: the final chunk is damaged, the file not cut.
  const end = finalIndex === null && !endsAtClaim ? await shape.end?.() : null;
  const lostFinal = end ? lostFinalChunk(end, shape, next, lastEnd, lastGarbage) : null;
  if (lostFinal) yield* lose(lostFinal.index, lostFinal.bytes);
  damage.chunks = next;
  damage.truncated = finalIndex === null && !endsAtClaim && lostFinal === null;
}
