/**
 * Reading a .lrb file: locate an intact header copy (first, else the one at
 * the end), then turn the chunk frames into plaintext segments. Damage is
 * data: a chunk that is missing or fails authentication becomes a hole of
 * known position and length, and the counts land in DamageReport.
 */
import { crc32 } from 'node:zlib';
import { LrError } from '../errors.js';
import { scanFrames, type FrameEvent } from './chunks.js';
import { acceptAuthentic, walkFrames, type PayloadShape, type ProvenEnd } from './walker.js';
import { readIndexFrameBytes } from './index-frame.js';
import { newDamageReport, type DamageReport } from './damage.js';
import { fileTagOf, probeHeaderFrame, type BackupHeader, type HeaderFrame } from './header.js';
import { AEAD_TAG_BYTES, FORMAT_VERSIONS, HEADER_FRAME_MAX, INDEX_HEAD_BYTES, INDEX_MARKER, INDEX_TAIL_BYTES, MAGIC_LINE, MAGIC_MAX, MAGIC_PREFIX, TRAILER_BYTES, TRAILER_MARKER } from './limits.js';
import type { Segment } from '../archive/segment.js';
import { localSource, type ByteSource } from './source.js';

export type { ByteSource } from './source.js';

export interface LocatedHeader {
  /** The file's path, or a link without its signature (source.name). */
  path: string;
  /** Where its bytes are read from: the file, or the object in the store. */
  source: ByteSource;
  frame: HeaderFrame;
  header: BackupHeader;
  fileBytes: number;
  /** Where the chunk frames begin (just after the first header copy, or the magic line when that copy is damaged). */
  payloadOffset: number;
  firstCopyIntact: boolean;
  /** The header was read from the copy at the end of the file. */
  headerCopyUsed: boolean;
}

function notBackup(): LrError {
  return new LrError('LR_NOT_BACKUP', 'This file is not a lastresort backup (.lrb). Check that you picked the right file.');
}

/** Reads the magic line: returns its length, or throws for a foreign file or another version. */
function readMagic(start: Buffer, trailerLooksValid: boolean): number {
  const text = start.subarray(0, MAGIC_MAX).toString('latin1');
  const m = /^lastresort-backup v(\d{1,6})\n/.exec(text);
  if (m && FORMAT_VERSIONS.includes(Number(m[1])) && m[1] === String(Number(m[1]))) return m[0].length;
  if (m) {
    throw new LrError('LR_UNSUPPORTED_VERSION', `This backup uses format version ${m[1]}, which this version of lastresort cannot read. Install a newer lastresort.`);
  }
  // A damaged first line is survivable when the rest still says "lastresort".
  if (trailerLooksValid || text.startsWith(MAGIC_PREFIX.slice(0, 8))) return MAGIC_LINE.length;
  throw notBackup();
}

function parseTrailer(tail: Buffer): number | null {
  if (tail.length !== TRAILER_BYTES || !tail.subarray(0, 8).equals(TRAILER_MARKER)) return null;
  if (crc32(tail.subarray(0, 12)) !== tail.readUInt32BE(12)) return null;
  return tail.readUInt32BE(8);
}

/** The header copy at the end of the file, or null when it is missing or damaged. */
export async function readTailHeaderCopy(file: string | ByteSource, fileBytes: number, tail?: Buffer): Promise<HeaderFrame | null> {
  const source = typeof file === 'string' ? await localSource(file) : file;
  const trailer = tail ?? (fileBytes >= TRAILER_BYTES ? await source.readAt(fileBytes - TRAILER_BYTES, TRAILER_BYTES) : Buffer.alloc(0));
  return headerCopyBefore(source, fileBytes, trailer);
}

/** The header copy that ends just before the trailer `trailer`, which ends at file offset `trailerEnd`. */
async function headerCopyBefore(source: ByteSource, trailerEnd: number, trailer: Buffer): Promise<HeaderFrame | null> {
  const copyLength = parseTrailer(trailer);
  if (copyLength === null || copyLength > HEADER_FRAME_MAX || copyLength + TRAILER_BYTES > trailerEnd) return null;
  try {
    const probe = probeHeaderFrame(await source.readAt(trailerEnd - TRAILER_BYTES - copyLength, copyLength));
    return probe.kind === 'ok' ? probe.frame : null;
  } catch {
    return null;
  }
}

/** Bytes read at a time when searching backwards for a trailer. */
const TRAILER_SEARCH_BLOCK = 1 << 20;
/** Trailers whose checksum holds but whose header copy does not: past this many the file is crafted, and the search ends. */
const TRAILER_CANDIDATES_MAX = 16;

/**
 * When bytes follow the trailer (appended garbage), the last trailer in the
 * file whose checksum holds and whose header copy is intact: searched
 * backwards from the end, a block at a time, so memory stays bounded.
 */
async function searchHeaderCopy(source: ByteSource, fileBytes: number): Promise<HeaderFrame | null> {
  let candidates = 0;
  for (let end = fileBytes; end >= TRAILER_BYTES; end -= TRAILER_SEARCH_BLOCK) {
    // Blocks overlap by a trailer's length, so a trailer across two blocks is found whole.
    const start = Math.max(0, end - TRAILER_SEARCH_BLOCK - TRAILER_BYTES);
    const block = await source.readAt(start, end - start);
    for (let at = block.lastIndexOf(TRAILER_MARKER); at >= 0; at = at > 0 ? block.lastIndexOf(TRAILER_MARKER, at - 1) : -1) {
      const trailer = block.subarray(at, at + TRAILER_BYTES);
      if (parseTrailer(trailer) === null) continue;
      const found = await headerCopyBefore(source, start + at + TRAILER_BYTES, trailer);
      if (found || ++candidates >= TRAILER_CANDIDATES_MAX) return found;
    }
  }
  return null;
}

/** Reads only the start of the file (and its end if the first copy is damaged); `file` is a path or a source. */
export async function locateHeader(file: string | ByteSource): Promise<LocatedHeader> {
  const source = typeof file === 'string' ? await localSource(file) : file;
  const { name: path, size: fileBytes } = source;
  if (fileBytes === 0) throw new LrError('LR_NOT_BACKUP', `${path} is empty: it is not a backup, or the copy failed. Ask for the file again.`);

  const start = await source.readAt(0, Math.min(fileBytes, MAGIC_MAX + HEADER_FRAME_MAX));
  const tail = fileBytes >= TRAILER_BYTES ? await source.readAt(fileBytes - TRAILER_BYTES, TRAILER_BYTES) : Buffer.alloc(0);
  const copyLength = parseTrailer(tail);
  const magicLength = readMagic(start, copyLength !== null);

  let firstProblem = 'the header is cut short';
  const probe = probeHeaderFrame(start.subarray(magicLength));
  if (probe.kind === 'ok') {
    return { path, source, frame: probe.frame, header: probe.frame.header, fileBytes, payloadOffset: magicLength + probe.frame.frameLength, firstCopyIntact: true, headerCopyUsed: false };
  }
  if (probe.kind === 'bad') firstProblem = probe.reason;

  const second = (await readTailHeaderCopy(source, fileBytes, tail)) ?? (await searchHeaderCopy(source, fileBytes));
  if (second) return { path, source, frame: second, header: second.header, fileBytes, payloadOffset: magicLength, firstCopyIntact: false, headerCopyUsed: true };
  if (fileBytes < magicLength + 64 && probe.kind === 'need') {
    throw new LrError('LR_HEADER_DAMAGED', 'This backup is cut short inside its header: nothing in it can be recovered. Ask support for a complete copy.');
  }
  throw new LrError('LR_HEADER_DAMAGED', `Both copies of this backup's header are damaged (${firstProblem}), so the key to open it is lost. Ask support for another copy of the file.`);
}

export { markDamaged, newDamageReport, type DamageReport } from './damage.js';

/** Plaintext in file order, as the tar reader takes it (holes where chunks were lost). */
export type { Segment };

export interface UnlockedBackup {
  located: LocatedHeader;
  payloadKey: Buffer;
}

// Opening the key (password or recovery code, then the producer's signature) lives in unlock.ts.
export { unlockBackup, type Secret } from './unlock.js';

/** The chunk frames of the payload, read in order with bounded memory, to the end of the file. */
export function payloadFrames(located: LocatedHeader, bytes: AsyncIterable<Buffer> = located.source.stream(located.payloadOffset)): AsyncGenerator<FrameEvent> {
  return scanFrames(bytes, { fileTag: fileTagOf(located.header), chunkSize: located.header.chunkSize, startOffset: located.payloadOffset, version: located.header.formatVersion });
}

/** What the walker needs of a located file. */
export function shapeOf(located: LocatedHeader): PayloadShape {
  return { chunkSize: located.header.chunkSize, fileBytes: located.fileBytes, version: located.header.formatVersion, end: () => provenEnd(located) };
}

/**
 * What the end of the file proves (docs/format.md, "Reading with damage"):
 * with the trailer as its last 16 bytes and the header copy before it intact,
 * the file is whole in length, and its chunk frames end where the copy starts
 * (version 2) or where the index frame does (version 3, whose head, checksum
 * holding, gives the chunk count N). Null when the end is damaged or missing.
 */
export async function provenEnd(located: LocatedHeader): Promise<ProvenEnd | null> {
  const { source, fileBytes } = located;
  const copy = await readTailHeaderCopy(source, fileBytes);
  if (copy === null || !copy.signature.equals(located.frame.signature)) return null;
  const copyAt = fileBytes - TRAILER_BYTES - copy.frameLength;
  const fileTag = fileTagOf(located.header);
  const framesStart = located.payloadOffset;
  if (located.header.formatVersion !== 3) return copyAt >= framesStart ? { framesStart, framesEnd: copyAt, chunks: null, fileTag } : null;
  const index = await readIndexFrameBytes((at, n) => source.readAt(at, n), fileBytes, copy.frameLength);
  if (index === null || index.length < INDEX_HEAD_BYTES + INDEX_TAIL_BYTES || !index.subarray(0, 4).equals(INDEX_MARKER) || !index.subarray(4, 8).equals(fileTag)) return null;
  if (crc32(index.subarray(0, 16)) !== index.readUInt32BE(16)) return null;
  const chunks = index.readUInt32BE(8);
  const framesEnd = copyAt - index.length;
  const fits = chunks > 0 && index.readUInt32BE(12) === 8 + 4 * chunks + AEAD_TAG_BYTES && index.length === INDEX_HEAD_BYTES + index.readUInt32BE(12) + INDEX_TAIL_BYTES;
  return fits && framesEnd >= framesStart ? { framesStart, framesEnd, chunks, fileTag } : null;
}

/**
 * Frames -> plaintext segments, through the one frame walker with
 * authentication as the judge. Chunk i's plaintext starts at i * chunkSize,
 * so every hole has an exact position even when file bytes were deleted or
 * inserted. Only authenticated bytes are ever yielded as data.
 */
export async function* decryptFrames(frames: AsyncIterable<FrameEvent>, payloadKey: Buffer, shape: PayloadShape, damage: DamageReport): AsyncGenerator<Segment> {
  const { chunkSize } = shape;
  for await (const step of walkFrames(frames, shape, acceptAuthentic(payloadKey, shape.version), damage)) {
    if (step.kind === 'hole') {
      if (step.bytes > 0) yield { offset: step.from * chunkSize, hole: step.bytes };
    } else if (step.value.length > 0) {
      yield { offset: step.index * chunkSize, data: step.value };
    }
  }
}

/** Opens the payload of an unlocked backup as segments; `damage` fills in as it is read. */
export function readPayload(unlocked: UnlockedBackup, damage: DamageReport = newDamageReport(unlocked.located.headerCopyUsed)): { segments: AsyncGenerator<Segment>; damage: DamageReport } {
  const { located, payloadKey } = unlocked;
  return { segments: decryptFrames(payloadFrames(located), payloadKey, shapeOf(located), damage), damage };
}
