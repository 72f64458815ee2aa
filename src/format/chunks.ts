/**
 * Chunk frames (docs/format.md, "Chunk frame"):
 *
 *   "LRCK" | fileTag(4) | u64 index | flags(1) | span(3) | u32 length | u32 crc32(bytes 0..23)
 *
 * (span: version 3's uncompressed bytes of the chunk; zero in version 2)
 *   | sealed(length) | u32 crc32(sealed)
 *
 * The head checksum lets a reader tell a real frame from bytes that merely
 * contain "LRCK", so it can resynchronise after deleted or inserted bytes;
 * the body checksum lets `check` verify a file without the password.
 *
 * scanFrames() is a small state machine over the file's bytes: at the
 * expected position it parses a frame; anywhere else it searches for the next
 * frame head whose checksum holds, and reports the skipped bytes as damage.
 */
import { crc32 } from 'node:zlib';
import { AEAD_TAG_BYTES, CHUNK_CRC_BYTES, CHUNK_HEAD_BYTES, CHUNK_MARKER, FLAG_FINAL, maxSealedOf } from './limits.js';
import { ByteQueue } from './byte-queue.js';

/** The 28-byte head of a chunk frame; `span` (version 3: the chunk's uncompressed bytes) fills bytes 17..19, zero in version 2. */
export function encodeChunkHead(fileTag: Buffer, index: number, final: boolean, sealedLength: number, span = 0): Buffer {
  const head = Buffer.allocUnsafe(CHUNK_HEAD_BYTES);
  CHUNK_MARKER.copy(head, 0);
  fileTag.copy(head, 4);
  head.writeUInt32BE(Math.floor(index / 2 ** 32), 8);
  head.writeUInt32BE(index >>> 0, 12);
  head[16] = final ? FLAG_FINAL : 0;
  head.writeUIntBE(span, 17, 3);
  head.writeUInt32BE(sealedLength, 20);
  head.writeUInt32BE(crc32(head.subarray(0, 24)), 24);
  return head;
}

export function encodeChunkFrame(fileTag: Buffer, index: number, final: boolean, sealed: Buffer, span = 0): Buffer {
  const crc = Buffer.allocUnsafe(CHUNK_CRC_BYTES);
  crc.writeUInt32BE(crc32(sealed), 0);
  return Buffer.concat([encodeChunkHead(fileTag, index, final, sealed.length, span), sealed, crc]);
}

export type FrameEvent =
  | {
      type: 'frame';
      index: number;
      final: boolean;
      /** The sealed bytes read; shorter than sealedLength when the frame was cut by damage. */
      sealed: Buffer;
      /** What the (checksummed) head says: plaintext length is sealedLength - 16. */
      sealedLength: number;
      /** Plaintext bytes the chunk stands for: sealedLength - 16 in version 2, the head's span in version 3. */
      span: number;
      bodyIntact: boolean;
      /** The stored body checksum; null when the frame was cut short before it. */
      bodyChecksum: number | null;
      fileOffset: number;
      frameLength: number;
    }
  /**
   * Bytes that belong to no frame: damage, inserted garbage, or what follows
   * the last chunk. `head`: their first 28 bytes (fewer at the end of the
   * file), a frame head damaged beyond parsing when a frame starts there.
   */
  | { type: 'garbage'; fileOffset: number; length: number; head: Buffer };

export interface FrameHead {
  index: number;
  final: boolean;
  length: number;
  span: number;
}

/**
 * A valid head at `at`, or null. With `v3ChunkSize` (a version 3 file), bytes
 * 17..19 are the chunk's span: the full chunk size for a non-final chunk, at
 * most that for the final one; version 2 ignores them.
 */
export function parseHead(buf: Buffer, at: number, fileTag: Buffer, maxSealed: number, v3ChunkSize?: number): FrameHead | null {
  if (buf.compare(CHUNK_MARKER, 0, 4, at, at + 4) !== 0 || buf.compare(fileTag, 0, 4, at + 4, at + 8) !== 0) return null;
  if (crc32(buf.subarray(at, at + 24)) !== buf.readUInt32BE(at + 24)) return null;
  const hi = buf.readUInt32BE(at + 8);
  if (hi >= 2 ** 16) return null;
  const flags = buf[at + 16];
  const length = buf.readUInt32BE(at + 20);
  if ((flags & ~FLAG_FINAL) !== 0 || length < AEAD_TAG_BYTES || length > maxSealed) return null;
  const final = (flags & FLAG_FINAL) !== 0;
  let span = length - AEAD_TAG_BYTES;
  if (v3ChunkSize !== undefined) {
    span = buf.readUIntBE(at + 17, 3);
    if (final ? span > v3ChunkSize : span !== v3ChunkSize) return null;
  }
  return { index: hi * 2 ** 32 + buf.readUInt32BE(at + 12), final, length, span };
}

/**
 * The span of a version 3 final chunk whose head `read` has one damaged byte
 * (so it no longer parses), when the rest of the file proves what the head
 * must say: this file's tag, chunk `index`, the final flag and `sealedLength`.
 * The damaged byte is found the way the head checksum allows: in a field
 * known here, in the head checksum (which then differs in that byte only), or
 * in the span itself (the one value a byte away that the checksum confirms).
 * Null when that does not single out one span of at most `chunkSize`.
 */
export function repairFinalSpan(read: Buffer, fileTag: Buffer, index: number, sealedLength: number, chunkSize: number): number | null {
  if (read.length < CHUNK_HEAD_BYTES) return null;
  const stored = read.readUInt32BE(24);
  const expect = (span: number) => encodeChunkHead(fileTag, index, true, sealedLength, span);
  const spanRead = read.readUIntBE(17, 3);
  const known = expect(spanRead);
  let differing = 0;
  for (let i = 0; i < 24; i++) if (known[i] !== read[i]) differing++;
  if (differing > 1) return null;
  const crcHolds = (span: number) => span <= chunkSize && expect(span).readUInt32BE(24) === stored;
  if (differing === 1) return crcHolds(spanRead) ? spanRead : null;
  const found = new Set<number>();
  const diff = (known.readUInt32BE(24) ^ stored) >>> 0;
  if (spanRead <= chunkSize && [24, 16, 8, 0].filter((shift) => (diff >>> shift) & 0xff).length <= 1) found.add(spanRead);
  for (let byte = 0; byte < 3; byte++) {
    for (let v = 0; v < 256; v++) {
      const span = (spanRead & ~(0xff << (8 * (2 - byte)))) | (v << (8 * (2 - byte)));
      if (span !== spanRead && crcHolds(span)) found.add(span);
    }
  }
  return found.size === 1 ? [...found][0]! : null;
}

function nextHeadWithin(frame: Buffer, fileTag: Buffer, maxSealed: number, v3?: number): number | null {
  for (let at = frame.indexOf(CHUNK_MARKER, 1); at >= 0 && at + CHUNK_HEAD_BYTES <= frame.length; at = frame.indexOf(CHUNK_MARKER, at + 1)) {
    if (parseHead(frame, at, fileTag, maxSealed, v3)) return at;
  }
  return null;
}

export interface ScanOptions {
  fileTag: Buffer;
  chunkSize: number;
  /** File offset of the first byte `source` yields. */
  startOffset: number;
  /** The file's format version (2 when not given). */
  version?: number;
}

/**
 * Yields every frame found in `source`, in file order, and the garbage between
 * them, to the end: which frames count, and where the payload ends, is the
 * walker's to decide (walker.ts). Memory is bounded by two frames whatever
 * the input.
 */
export async function* scanFrames(source: AsyncIterable<Buffer>, opts: ScanOptions): AsyncGenerator<FrameEvent> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    yield* scanFramesOf(iterator, opts);
  } finally {
    // A consumer stopping early (at the end of the payload) must still close the file.
    await iterator.return?.();
  }
}

async function* scanFramesOf(iterator: AsyncIterator<Buffer>, opts: ScanOptions): AsyncGenerator<FrameEvent> {
  const maxSealed = maxSealedOf(opts.version ?? 2, opts.chunkSize);
  const v3 = opts.version === 3 ? opts.chunkSize : undefined;
  const queue = new ByteQueue();
  let offset = opts.startOffset; // file offset of queue's first byte
  let garbageStart = -1;
  let garbageHead = Buffer.alloc(0);
  let ended = false;
  const startGarbage = () => {
    if (garbageStart >= 0) return;
    garbageStart = offset;
    garbageHead = Buffer.from(queue.peek(Math.min(queue.length, CHUNK_HEAD_BYTES)));
  };

  const fill = async (want: number): Promise<boolean> => {
    while (queue.length < want && !ended) {
      const r = await iterator.next();
      if (r.done) ended = true;
      else queue.push(r.value);
    }
    return queue.length >= want;
  };
  function* flushGarbage(): Generator<FrameEvent> {
    if (garbageStart >= 0 && offset > garbageStart) yield { type: 'garbage', fileOffset: garbageStart, length: offset - garbageStart, head: garbageHead };
    garbageStart = -1;
  }

  // After a frame cut short by the next head, look for a head before hashing the body:
  // otherwise a file of back-to-back heads costs a full-length checksum per 28 bytes.
  let lastWasCut = false;

  while (await fill(CHUNK_HEAD_BYTES)) {
    const view = queue.peek(CHUNK_HEAD_BYTES);
    const head = parseHead(view, 0, opts.fileTag, maxSealed, v3);
    if (head) {
      const frameLength = CHUNK_HEAD_BYTES + head.length + CHUNK_CRC_BYTES;
      if (await fill(frameLength)) {
        yield* flushGarbage();
        const framed = queue.peek(frameLength);
        const inner: number | null = lastWasCut ? nextHeadWithin(framed, opts.fileTag, maxSealed, v3) : null;
        const bodyIntact: boolean = inner === null && crc32(framed.subarray(CHUNK_HEAD_BYTES, CHUNK_HEAD_BYTES + head.length)) === framed.readUInt32BE(CHUNK_HEAD_BYTES + head.length);
        // A damaged body may hide the next frame's head (bytes deleted inside
        // this frame): consume only up to that head so the next frame survives.
        const consumed: number = bodyIntact ? frameLength : inner ?? (lastWasCut ? null : nextHeadWithin(framed, opts.fileTag, maxSealed, v3)) ?? frameLength;
        lastWasCut = consumed < frameLength;
        const frame = queue.take(consumed);
        const sealed = frame.subarray(CHUNK_HEAD_BYTES, Math.min(consumed, CHUNK_HEAD_BYTES + head.length));
        const bodyChecksum = consumed === frameLength ? frame.readUInt32BE(CHUNK_HEAD_BYTES + head.length) : null;
        yield { type: 'frame', index: head.index, final: head.final, sealed, sealedLength: head.length, span: head.span, bodyIntact, bodyChecksum, fileOffset: offset, frameLength: consumed };
        offset += consumed;
        continue;
      }
      // A frame cut short by the end of the file: what is left is garbage.
    }
    // Not at a frame: search for the next marker that starts a valid head.
    startGarbage();
    const scan = queue.peek(queue.length);
    let next = -1;
    for (let at = scan.indexOf(CHUNK_MARKER, 1); at >= 0; at = scan.indexOf(CHUNK_MARKER, at + 1)) {
      if (at + CHUNK_HEAD_BYTES > scan.length) { next = at; break; } // decide once more bytes arrive
      if (parseHead(scan, at, opts.fileTag, maxSealed, v3)) { next = at; break; }
    }
    if (next < 0) {
      // Keep the last few bytes: a marker may straddle the next read.
      const keep = Math.min(queue.length, CHUNK_HEAD_BYTES - 1);
      const drop = ended ? queue.length : queue.length - keep;
      queue.skip(drop);
      offset += drop;
      if (ended) break;
      await fill(queue.length + 1);
      continue;
    }
    queue.skip(next);
    offset += next;
  }
  if (queue.length > 0) {
    startGarbage();
    offset += queue.length;
    queue.skip(queue.length);
  }
  yield* flushGarbage();
}
