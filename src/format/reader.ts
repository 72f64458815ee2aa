/**
 * Reading a .lrb file: locate an intact header copy (first, else the one at
 * the end), then turn the chunk frames into plaintext segments. Damage is
 * data: a chunk that is missing or fails authentication becomes a hole of
 * known position and length, and the counts land in DamageReport.
 */
import { open, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { crc32 } from 'node:zlib';
import { LrError } from '../errors.js';
import { openChunk } from '../keys/crypto.js';
import { scanFrames, type FrameEvent } from './chunks.js';
import { fileTagOf, probeHeaderFrame, type BackupHeader, type HeaderFrame } from './header.js';
import { AEAD_TAG_BYTES, HEADER_FRAME_MAX, MAGIC_LINE, MAGIC_MAX, MAGIC_PREFIX, TRAILER_BYTES, TRAILER_MARKER } from './limits.js';

export interface LocatedHeader {
  path: string;
  frame: HeaderFrame;
  header: BackupHeader;
  fileBytes: number;
  /** Where the chunk frames begin (just after the first header copy, or the magic line when that copy is damaged). */
  payloadOffset: number;
  firstCopyIntact: boolean;
  /** The header was read from the copy at the end of the file. */
  headerCopyUsed: boolean;
}

async function readAt(path: string, position: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function notBackup(): LrError {
  return new LrError('LR_NOT_BACKUP', 'This file is not a lastresort backup (.lrb). Check that you picked the right file.');
}

/** Reads the magic line: returns its length, or throws for a foreign file or another version. */
function readMagic(start: Buffer, trailerLooksValid: boolean): number {
  const text = start.subarray(0, MAGIC_MAX).toString('latin1');
  if (text.startsWith(MAGIC_LINE)) return MAGIC_LINE.length;
  const m = /^lastresort-backup v(\d{1,6})\n/.exec(text);
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
export async function readTailHeaderCopy(path: string, fileBytes: number, tail?: Buffer): Promise<HeaderFrame | null> {
  const trailer = tail ?? (fileBytes >= TRAILER_BYTES ? await readAt(path, fileBytes - TRAILER_BYTES, TRAILER_BYTES) : Buffer.alloc(0));
  const copyLength = parseTrailer(trailer);
  if (copyLength === null || copyLength > HEADER_FRAME_MAX || copyLength + TRAILER_BYTES > fileBytes) return null;
  try {
    const probe = probeHeaderFrame(await readAt(path, fileBytes - TRAILER_BYTES - copyLength, copyLength));
    return probe.kind === 'ok' ? probe.frame : null;
  } catch {
    return null;
  }
}

/** Reads only the start of the file (and its end if the first copy is damaged). */
export async function locateHeader(path: string): Promise<LocatedHeader> {
  let fileBytes: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new LrError('LR_NO_FILE', `${path} is not a file.`);
    fileBytes = s.size;
  } catch (err) {
    if (err instanceof LrError) throw err;
    throw new LrError('LR_NO_FILE', `Cannot open ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'permission denied or unreadable'}.`, { cause: err });
  }
  if (fileBytes === 0) throw new LrError('LR_NOT_BACKUP', `${path} is empty: it is not a backup, or the copy failed. Ask for the file again.`);

  const start = await readAt(path, 0, Math.min(fileBytes, MAGIC_MAX + HEADER_FRAME_MAX));
  const tail = fileBytes >= TRAILER_BYTES ? await readAt(path, fileBytes - TRAILER_BYTES, TRAILER_BYTES) : Buffer.alloc(0);
  const copyLength = parseTrailer(tail);
  const magicLength = readMagic(start, copyLength !== null);

  let firstProblem = 'the header is cut short';
  const probe = probeHeaderFrame(start.subarray(magicLength));
  if (probe.kind === 'ok') {
    return { path, frame: probe.frame, header: probe.frame.header, fileBytes, payloadOffset: magicLength + probe.frame.frameLength, firstCopyIntact: true, headerCopyUsed: false };
  }
  if (probe.kind === 'bad') firstProblem = probe.reason;

  const second = await readTailHeaderCopy(path, fileBytes, tail);
  if (second) return { path, frame: second, header: second.header, fileBytes, payloadOffset: magicLength, firstCopyIntact: false, headerCopyUsed: true };
  if (fileBytes < magicLength + 64 && probe.kind === 'need') {
    throw new LrError('LR_HEADER_DAMAGED', 'This backup is cut short inside its header: nothing in it can be recovered. Ask support for a complete copy.');
  }
  throw new LrError('LR_HEADER_DAMAGED', `Both copies of this backup's header are damaged (${firstProblem}), so the key to open it is lost. Ask support for another copy of the file.`);
}

export interface DamageReport {
  /** Chunks the file should have (known once the final chunk is seen). */
  chunks: number;
  damagedChunks: number;
  /** Inclusive ranges of chunk indexes that were missing or failed authentication. */
  damagedRanges: [number, number][];
  bytesLost: number;
  truncated: boolean;
  headerCopyUsed: boolean;
  /** File bytes that belonged to no frame (inserted or left over from damage). */
  strayBytes: number;
  /** Authentic chunks found out of order and dropped. */
  misplacedChunks: number;
}

export function newDamageReport(headerCopyUsed: boolean): DamageReport {
  return { chunks: 0, damagedChunks: 0, damagedRanges: [], bytesLost: 0, truncated: false, headerCopyUsed, strayBytes: 0, misplacedChunks: 0 };
}

/**
 * Records chunks from..to as lost. Readers in order only ever extend the last
 * range; the random-access reader's lanes may report chunks out of order or
 * twice (a chunk shared by two spans), so any other range is merged in place
 * and a chunk is counted once.
 */
export function markDamaged(d: DamageReport, from: number, to: number): void {
  const ranges = d.damagedRanges;
  const last = ranges[ranges.length - 1];
  if (!last || last[1] < from) {
    if (last && last[1] + 1 === from) last[1] = to;
    else ranges.push([from, to]);
    d.damagedChunks += to - from + 1;
    return;
  }
  let added = to - from + 1;
  let lo = from;
  let hi = to;
  const kept: [number, number][] = [];
  for (const r of ranges) {
    if (r[1] + 1 < from || r[0] > to + 1) {
      kept.push(r);
      continue;
    }
    added -= Math.max(0, Math.min(r[1], to) - Math.max(r[0], from) + 1);
    lo = Math.min(lo, r[0]);
    hi = Math.max(hi, r[1]);
  }
  kept.push([lo, hi]);
  kept.sort((a, b) => a[0] - b[0]);
  ranges.splice(0, ranges.length, ...kept);
  d.damagedChunks += added;
}

/** Plaintext in file order; holes stand where chunks were lost, with their exact plaintext extent. */
export type Segment = { offset: number; data: Buffer; hole?: undefined } | { offset: number; hole: number; data?: undefined };

export interface UnlockedBackup {
  located: LocatedHeader;
  payloadKey: Buffer;
}

// Opening the key (password or recovery code, then the producer's signature) lives in unlock.ts.
export { unlockBackup, type Secret } from './unlock.js';

/** The chunk frames of the payload, read from disk with bounded memory. */
export function payloadFrames(located: LocatedHeader, opts: { stopAtFinal?: boolean } = {}): AsyncGenerator<FrameEvent> {
  const stream = createReadStream(located.path, { start: located.payloadOffset, highWaterMark: 256 * 1024 });
  return scanFrames(stream, { fileTag: fileTagOf(located.header), chunkSize: located.header.chunkSize, startOffset: located.payloadOffset, stopAtFinal: opts.stopAtFinal ?? true });
}

/** How many early frames decryptFrames holds while waiting for a missing one (chunks swapped in the file). */
export const REORDER_WINDOW = 8;

type FrameOf = Extract<FrameEvent, { type: 'frame' }>;

/**
 * Frames -> plaintext segments. Chunk i's plaintext starts at i * chunkSize,
 * so every hole has an exact position even when file bytes were deleted or
 * inserted. Only authenticated bytes are ever yielded as data.
 *
 * A frame that arrives ahead of its turn is held (at most REORDER_WINDOW of
 * them, so memory stays bounded) in case the missing one follows: swapped
 * chunks are still authentic, since the index is part of the nonce. When the
 * window fills, the missing chunk is given up as a hole.
 */
export async function* decryptFrames(frames: AsyncIterable<FrameEvent>, payloadKey: Buffer, chunkSize: number, damage: DamageReport): AsyncGenerator<Segment> {
  let next = 0;
  let finalSeen = false;
  const held = new Map<number, FrameOf>();

  function* open(ev: FrameOf): Generator<Segment> {
    if (ev.index > next) {
      markDamaged(damage, next, ev.index - 1);
      const lost = (ev.index - next) * chunkSize;
      damage.bytesLost += lost;
      yield { offset: next * chunkSize, hole: lost };
    }
    const offset = ev.index * chunkSize;
    // A failed body checksum may be a damaged checksum over intact bytes: authentication decides.
    const plaintext = ev.bodyIntact || ev.sealed.length === ev.sealedLength ? openChunk(payloadKey, ev.index, ev.final, ev.sealed) : null;
    const plainLength = ev.sealedLength - AEAD_TAG_BYTES;
    if (plaintext && (plaintext.length === chunkSize || ev.final)) {
      if (plaintext.length > 0) yield { offset, data: plaintext };
    } else {
      markDamaged(damage, ev.index, ev.index);
      damage.bytesLost += plainLength;
      if (plainLength > 0) yield { offset, hole: Math.min(plainLength, chunkSize) };
    }
    next = ev.index + 1;
    damage.chunks = next;
    // The final flag is covered by the head checksum (and by the nonce once authentic).
    if (ev.final) finalSeen = true;
  }

  /** Opens held frames in order; with `force`, skips over missing ones. */
  function* release(force: boolean): Generator<Segment> {
    while (held.size > 0 && !finalSeen) {
      const ev = held.get(next);
      if (ev) {
        held.delete(next);
        yield* open(ev);
      } else if (force || held.size > REORDER_WINDOW) {
        const first = Math.min(...held.keys());
        const ev = held.get(first)!;
        held.delete(first);
        yield* open(ev);
      } else return;
    }
  }

  for await (const ev of frames) {
    if (ev.type === 'garbage') {
      damage.strayBytes += ev.length;
      continue;
    }
    const twin = held.get(ev.index);
    if (ev.index < next || (twin && (twin.bodyIntact || !ev.bodyIntact))) {
      damage.misplacedChunks++;
      continue;
    }
    held.set(ev.index, ev);
    yield* release(false);
    if (finalSeen) break;
  }
  yield* release(true);
  damage.chunks = next;
  damage.truncated = !finalSeen;
}

/** Opens the payload of an unlocked backup as segments; `damage` fills in as it is read. */
export function readPayload(unlocked: UnlockedBackup, damage: DamageReport = newDamageReport(unlocked.located.headerCopyUsed)): { segments: AsyncGenerator<Segment>; damage: DamageReport } {
  const { located, payloadKey } = unlocked;
  return { segments: decryptFrames(payloadFrames(located), payloadKey, located.header.chunkSize, damage), damage };
}
