/**
 * Version 3's index frame (docs/format.md, section 4.2): where each chunk
 * frame lies, now that frames have the lengths zstd gave them. Written after
 * the final chunk, just before the header copy at the end:
 *
 *   "LRIX" | fileTag(4) | u32 count N | u32 sealed length S | u32 crc32(bytes 0..16)
 *   | sealed = AEAD(payloadKey, indexNonce, u64 offset of frame 0 | N x u32 frame length)
 *   | u32 crc32(sealed) | u32 length of this whole frame (28 + S)
 *
 * Its last 4 bytes say where it starts, counted back from the header copy
 * (whose start the trailer gives). Only random access uses it; reading in
 * order finds frames by their heads, so a lost index costs speed, no rows.
 */
import { crc32 } from 'node:zlib';
import { openIndex, sealIndex } from '../keys/crypto.js';
import { AEAD_TAG_BYTES, CHUNK_CRC_BYTES, CHUNK_HEAD_BYTES, INDEX_HEAD_BYTES, INDEX_MARKER, INDEX_TAIL_BYTES, TRAILER_BYTES } from './limits.js';

export function encodeIndexFrame(fileTag: Buffer, payloadKey: Buffer, firstFrameAt: number, frameLengths: readonly number[]): Buffer {
  const plain = Buffer.allocUnsafe(8 + 4 * frameLengths.length);
  plain.writeBigUInt64BE(BigInt(firstFrameAt), 0);
  frameLengths.forEach((n, i) => plain.writeUInt32BE(n, 8 + 4 * i));
  const sealed = sealIndex(payloadKey, plain);
  const head = Buffer.allocUnsafe(INDEX_HEAD_BYTES);
  INDEX_MARKER.copy(head, 0);
  fileTag.copy(head, 4);
  head.writeUInt32BE(frameLengths.length, 8);
  head.writeUInt32BE(sealed.length, 12);
  head.writeUInt32BE(crc32(head.subarray(0, 16)), 16);
  const tail = Buffer.allocUnsafe(INDEX_TAIL_BYTES);
  tail.writeUInt32BE(crc32(sealed), 0);
  tail.writeUInt32BE(INDEX_HEAD_BYTES + sealed.length + INDEX_TAIL_BYTES, 4);
  return Buffer.concat([head, sealed, tail]);
}

/** The smallest chunk frame: a frame can hold no fewer bytes, which bounds N by the file's size. */
const MIN_FRAME = CHUNK_HEAD_BYTES + AEAD_TAG_BYTES + CHUNK_CRC_BYTES;

export interface ChunkPlaces {
  /** File offset of chunk i's frame: offsets[i]; its length: offsets[i + 1] - offsets[i]. */
  offsets: number[];
}

/** The longest index frame a file of `fileBytes` can hold. */
export function indexFrameMax(fileBytes: number): number {
  return INDEX_HEAD_BYTES + 8 + 4 * Math.ceil(fileBytes / MIN_FRAME) + AEAD_TAG_BYTES + INDEX_TAIL_BYTES;
}

/**
 * The frame's length as its last 4 bytes say, or null when out of bounds
 * (`tail4` is the 4 bytes before the header copy at the end).
 */
export function indexFrameLength(tail4: Buffer, endsAt: number, fileBytes: number): number | null {
  if (tail4.length !== 4) return null;
  const n = tail4.readUInt32BE(0);
  return n >= INDEX_HEAD_BYTES + AEAD_TAG_BYTES + 8 + INDEX_TAIL_BYTES && n <= Math.min(endsAt, indexFrameMax(fileBytes)) ? n : null;
}

/** Without the key: `frame` is a whole index frame of this file for `chunks` chunks, both checksums holding. */
export function indexFrameIntact(frame: Buffer, fileTag: Buffer, chunks: number): boolean {
  if (frame.length < INDEX_HEAD_BYTES + INDEX_TAIL_BYTES || !frame.subarray(0, 4).equals(INDEX_MARKER) || !frame.subarray(4, 8).equals(fileTag)) return false;
  if (crc32(frame.subarray(0, 16)) !== frame.readUInt32BE(16) || frame.readUInt32BE(8) !== chunks) return false;
  const sealedLength = frame.readUInt32BE(12);
  if (sealedLength !== 8 + 4 * chunks + AEAD_TAG_BYTES || frame.length !== INDEX_HEAD_BYTES + sealedLength + INDEX_TAIL_BYTES) return false;
  const sealed = frame.subarray(INDEX_HEAD_BYTES, INDEX_HEAD_BYTES + sealedLength);
  return crc32(sealed) === frame.readUInt32BE(INDEX_HEAD_BYTES + sealedLength) && frame.readUInt32BE(frame.length - 4) === frame.length;
}

/**
 * The chunk places from an index frame (the whole frame, as read), or null
 * when it is damaged, not this file's, or does not authenticate. Every place
 * lies inside the file, and frames follow one another.
 */
export function parseIndexFrame(frame: Buffer, fileTag: Buffer, payloadKey: Buffer, fileBytes: number): ChunkPlaces | null {
  if (frame.length < INDEX_HEAD_BYTES + INDEX_TAIL_BYTES || !frame.subarray(0, 4).equals(INDEX_MARKER) || !frame.subarray(4, 8).equals(fileTag)) return null;
  if (crc32(frame.subarray(0, 16)) !== frame.readUInt32BE(16)) return null;
  const count = frame.readUInt32BE(8);
  const sealedLength = frame.readUInt32BE(12);
  if (sealedLength !== 8 + 4 * count + AEAD_TAG_BYTES || frame.length !== INDEX_HEAD_BYTES + sealedLength + INDEX_TAIL_BYTES || count === 0) return null;
  const plain = openIndex(payloadKey, frame.subarray(INDEX_HEAD_BYTES, INDEX_HEAD_BYTES + sealedLength));
  if (!plain) return null;
  const first = Number(plain.readBigUInt64BE(0));
  const offsets = [first];
  for (let i = 0; i < count; i++) {
    const length = plain.readUInt32BE(8 + 4 * i);
    if (length < MIN_FRAME) return null;
    offsets.push(offsets[i]! + length);
  }
  return offsets[count]! <= fileBytes ? { offsets } : null;
}

/**
 * The index frame's bytes, found back from the header copy at the end (the
 * trailer being the file's last 16 bytes, the copy `copyLength` long), or
 * null when its length field is out of bounds.
 */
export async function readIndexFrameBytes(readAt: (position: number, length: number) => Promise<Buffer>, fileBytes: number, copyLength: number): Promise<Buffer | null> {
  const copyAt = fileBytes - TRAILER_BYTES - copyLength;
  if (copyAt < 4) return null;
  const length = indexFrameLength(await readAt(copyAt - 4, 4), copyAt, fileBytes);
  if (length === null) return null;
  const frame = await readAt(copyAt - length, length);
  return frame.length === length ? frame : null;
}
