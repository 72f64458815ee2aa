/**
 * The shape a version 3 chunk's zstd frame must have (docs/format.md,
 * section 4.1), checked on the authenticated bytes before zstd sees them:
 * one frame with the single-segment flag (so its window is its content
 * size), its content size in the header and equal to the chunk's span, no
 * dictionary, reserved bit clear, blocks that fit the frame exactly and
 * nothing after its end (no second or skippable frame). zstd then decodes
 * into room for exactly the span (wasm.ts), so a crafted frame can neither
 * make the reader allocate past the span nor read outside its chunk.
 */
const MAGIC = 0xfd2fb528;
const BLOCK_MAX = 128 * 1024;

export type FrameProblem = 'not a zstd frame' | 'dictionary' | 'window' | 'reserved bit' | 'content size' | 'block' | 'length';

/** null when `frame` may be decoded as `span` bytes; else what is wrong with it. */
export function frameProblem(frame: Buffer, span: number): FrameProblem | null {
  if (frame.length < 6 || frame.readUInt32LE(0) !== MAGIC) return 'not a zstd frame';
  const fhd = frame[4]!;
  const fcsFlag = fhd >> 6;
  if ((fhd & 0x03) !== 0) return 'dictionary';
  if ((fhd & 0x20) === 0) return 'window'; // not single-segment: a window descriptor of its own
  if ((fhd & 0x08) !== 0) return 'reserved bit';
  const fcsBytes = [1, 2, 4, 8][fcsFlag]!;
  let at = 5;
  if (frame.length < at + fcsBytes) return 'length';
  const fcs = fcsBytes === 1 ? frame[at]! : fcsBytes === 2 ? frame.readUInt16LE(at) + 256 : fcsBytes === 4 ? frame.readUInt32LE(at) : Number(frame.readBigUInt64LE(at));
  if (fcs !== span) return 'content size';
  at += fcsBytes;
  const blockMax = Math.min(span, BLOCK_MAX);
  let plain = 0; // bytes of raw and RLE blocks: known before decoding
  for (;;) {
    if (at + 3 > frame.length) return 'length';
    const h = frame[at]! | (frame[at + 1]! << 8) | (frame[at + 2]! << 16);
    at += 3;
    const type = (h >> 1) & 3;
    const size = h >>> 3;
    if (type === 3 || size > blockMax) return 'block';
    at += type === 1 ? 1 : size; // RLE: one byte repeated `size` times
    if (type !== 2) plain += size;
    if (plain > span) return 'content size';
    if (h & 1) break;
  }
  if ((fhd & 0x04) !== 0) at += 4; // content checksum
  return at === frame.length ? null : 'length';
}

/**
 * A frame of raw blocks holding `data` as it is: what the writer stores when
 * zstd's own frame would not pass frameProblem (never seen; a guard). It is
 * at most data.length + 33 bytes for a span of at most 1 MiB.
 */
export function rawFrame(data: Buffer): Buffer {
  const n = data.length;
  const fcs = n < 256 ? Buffer.from([n]) : n < 65792 ? Buffer.alloc(2) : Buffer.alloc(4);
  if (n >= 256 && n < 65792) fcs.writeUInt16LE(n - 256, 0);
  else if (n >= 65792) fcs.writeUInt32LE(n, 0);
  const fhd = 0x20 | ((n < 256 ? 0 : n < 65792 ? 1 : 2) << 6);
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, fhd]), fcs];
  let at = 0;
  do {
    const size = Math.min(BLOCK_MAX, n - at);
    const last = at + size >= n ? 1 : 0;
    const h = last | (size << 3); // type 0: raw
    parts.push(Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]), data.subarray(at, at + size));
    at += size;
  } while (at < n);
  return Buffer.concat(parts);
}
