/**
 * Random access into the payload of an unlocked backup. In an intact file
 * every chunk but the last is full, so chunk i's frame starts at
 * payloadOffset + i * frameBytes; a frame found there is used only when its
 * head names chunk i and it authenticates. Frames swapped with a near one
 * (within the reorder window the in-order reader allows), or pushed on by
 * inserted whole frames, are found at the other's place. Anything else (bytes deleted or inserted earlier in the
 * file, a damaged chunk) reads as missing: callers that need the whole file's
 * damage handling read it in order instead (readPayload).
 *
 * Reads go through the file's source (source.ts): a local file is read with
 * its file handle, an object in the store with ranged GETs, one per span, so
 * each lane streams its own table.
 */
import { openChunk } from '../keys/crypto.js';
import { parseHead } from './chunks.js';
import { fileTagOf } from './header.js';
import { parseIndexFrame, readIndexFrameBytes, type ChunkPlaces } from './index-frame.js';
import { AEAD_TAG_BYTES, CHUNK_CRC_BYTES, CHUNK_HEAD_BYTES, CHUNK_MARKER, maxSealedOf } from './limits.js';
import { unpackChunk } from './zstd/chunk.js';
import { markDamaged, type DamageReport } from './damage.js';
import type { Segment, UnlockedBackup } from './reader.js';
import { REORDER_WINDOW } from './walker.js';
import type { ByteRange, SourceReader } from './source.js';

/** About this many bytes of frames per file read when streaming a range (16 frames of 64 KiB). */
const READ_BYTES = 16 * (64 * 1024 + 48);

export interface Span {
  /** Plaintext offsets, [start, end). */
  start: number;
  end: number;
}

export class PayloadReader {
  private readonly chunkSize: number;
  /** Version 2: every frame but the last is this long. */
  private readonly frameBytes: number;
  private readonly fileTag: Buffer;
  private readonly v3: boolean;
  private readonly framesPerRead: number;
  private last: { index: number; data: Buffer | null } | null = null;
  /** Version 3: the file bytes last read around a chunk not found at its place. */
  private near: { start: number; wanted: number; area: Buffer } | null = null;

  /** `places`: version 3's index (null when it is lost: every chunk then reads as missing, and callers read in order). */
  private constructor(private readonly input: SourceReader, private readonly unlocked: UnlockedBackup, private readonly places: ChunkPlaces | null) {
    const { header } = unlocked.located;
    this.chunkSize = header.chunkSize;
    this.v3 = header.formatVersion === 3;
    this.frameBytes = CHUNK_HEAD_BYTES + maxSealedOf(header.formatVersion, header.chunkSize) + CHUNK_CRC_BYTES;
    this.framesPerRead = Math.max(1, Math.floor(READ_BYTES / this.frameBytes));
    this.fileTag = fileTagOf(header);
  }

  static async open(unlocked: UnlockedBackup): Promise<PayloadReader> {
    const input = await unlocked.located.source.openReader();
    try {
      const places = unlocked.located.header.formatVersion === 3 ? await readPlaces(input, unlocked) : null;
      return new PayloadReader(input, unlocked, places);
    } catch (err) {
      await input.close();
      throw err;
    }
  }

  /** File bytes [start, end) of the frames of chunks first..first+count-1 where an intact file has them; null when unknown. */
  private extent(first: number, count: number): { start: number; end: number } | null {
    if (!this.v3) {
      const start = this.unlocked.located.payloadOffset + first * this.frameBytes;
      return { start, end: start + count * this.frameBytes };
    }
    const offsets = this.places?.offsets;
    if (!offsets || first + count >= offsets.length) return null;
    return { start: offsets[first]!, end: offsets[first + count]! };
  }

  async close(): Promise<void> {
    await this.input.close();
  }

  /**
   * Reads the frames at the places of chunks first..first+count-1 in one file
   * read (the next bytes of `range` when given, which must be there), into
   * `buf` when given (the plaintexts returned never share it).
   */
  private async frames(first: number, count: number, buf?: Buffer, range?: ByteRange): Promise<(Buffer | null)[]> {
    const extent = this.extent(first, count);
    if (!extent) return new Array<null>(count).fill(null);
    const length = extent.end - extent.start;
    const into = buf && buf.length >= length ? buf : Buffer.allocUnsafe(length);
    const bytesRead = range ? await range.read(into, length) : (await this.input.read(into, 0, length, extent.start)).bytesRead;
    const out: (Buffer | null)[] = [];
    for (let k = 0; k < count; k++) {
      const at = this.v3 ? this.places!.offsets[first + k]! - extent.start : k * this.frameBytes;
      const end = this.v3 ? this.places!.offsets[first + k + 1]! - extent.start : (k + 1) * this.frameBytes;
      const found = this.openAt(into.subarray(at, Math.min(bytesRead, end)), first + k);
      out.push(found === 'elsewhere' ? await this.findNear(first + k) : found);
    }
    return out;
  }

  /**
   * Chunk i's plaintext from the frame in `place`; 'elsewhere' when a frame of
   * another near chunk sits there, or a whole frame for chunk i that does not
   * authenticate: a fake frame inserted before the genuine one (whose own
   * checksums anyone can make valid) leaves the genuine one a frame further
   * on, where the in-order reader finds it too.
   */
  private openAt(place: Buffer, i: number): Buffer | null | 'elsewhere' {
    const head = place.length >= CHUNK_HEAD_BYTES ? parseHead(place, 0, this.fileTag, this.frameBytes - CHUNK_HEAD_BYTES - CHUNK_CRC_BYTES, this.v3 ? this.chunkSize : undefined) : null;
    const sealedEnd = head ? CHUNK_HEAD_BYTES + head.length : 0;
    // Version 3: whatever is at the index's place, chunk i may be near (frames of other lengths swapped, a fake frame before it).
    if (this.v3 && (!head || head.index !== i || sealedEnd > place.length)) return 'elsewhere';
    if (!head || sealedEnd > place.length || (!this.v3 && !head.final && head.length !== this.chunkSize + AEAD_TAG_BYTES)) return null;
    if (head.index !== i) return Math.abs(head.index - i) <= REORDER_WINDOW ? 'elsewhere' : null;
    const plain = openChunk(this.unlocked.payloadKey, head.index, head.final, place.subarray(CHUNK_HEAD_BYTES, sealedEnd));
    if (this.v3) return plain ? unpackChunk(plain, head.span) : 'elsewhere';
    return plain ?? 'elsewhere';
  }

  /**
   * Version 3: chunk i looked for between the index's places of its
   * neighbours within the reorder window (frames swapped there, or a fake
   * frame put before the genuine one, which the in-order reader also looks
   * past): every chunk head in those bytes that names chunk i is tried.
   */
  private async findNearV3(i: number): Promise<Buffer | null> {
    const offsets = this.places!.offsets;
    const placeOf = (j: number) => offsets[Math.max(0, Math.min(offsets.length - 1, j))]!;
    const start = placeOf(i - REORDER_WINDOW);
    const end = placeOf(i + REORDER_WINDOW + 1) + this.frameBytes;
    let near = this.near;
    if (!near || start < near.start || end > near.start + near.wanted) {
      // Read ahead for the chunks after i too: in a damaged stretch each of them looks here (each byte read about twice, not 17 times).
      const wanted = placeOf(i + 3 * REORDER_WINDOW + 1) + this.frameBytes - start;
      const buf = Buffer.allocUnsafe(wanted);
      const { bytesRead } = await this.input.read(buf, 0, wanted, start);
      near = this.near = { start, wanted, area: buf.subarray(0, bytesRead) };
    }
    const area = near.area.subarray(start - near.start, end - near.start);
    // Frames that start between the places of chunks i - 8 and i + 8 (the in-order reader's window).
    const starts = end - this.frameBytes - start;
    for (let at = area.indexOf(CHUNK_MARKER); at >= 0 && at < starts; at = area.indexOf(CHUNK_MARKER, at + 1)) {
      if (start + at === offsets[i]) continue; // already tried
      const found = this.openAt(area.subarray(at, at + this.frameBytes), i);
      if (found instanceof Buffer) return found;
    }
    return null;
  }

  /** Chunk i looked for at the places of its neighbours (swapped frames; a fake frame before the genuine one). */
  private async findNear(i: number): Promise<Buffer | null> {
    if (this.v3) return this.findNearV3(i);
    const buf = Buffer.allocUnsafe(this.frameBytes);
    for (let d = 1; d <= REORDER_WINDOW; d++) {
      for (const j of [i - d, i + d]) {
        if (j < 0) continue;
        const { bytesRead } = await this.input.read(buf, 0, buf.length, this.unlocked.located.payloadOffset + j * this.frameBytes);
        const found = this.openAt(buf.subarray(0, bytesRead), i);
        if (found instanceof Buffer) return found;
      }
    }
    return null;
  }

  /** Plaintext of chunk i, or null when it is not where an intact file has it, or does not authenticate. */
  async chunk(i: number): Promise<Buffer | null> {
    if (this.last?.index !== i) this.last = { index: i, data: (await this.frames(i, 1))[0] };
    return this.last.data;
  }

  /** `length` plaintext bytes at `offset`, or null when any of them cannot be read. */
  async read(offset: number, length: number): Promise<Buffer | null> {
    const parts: Buffer[] = [];
    for (let at = offset; at < offset + length; ) {
      const i = Math.floor(at / this.chunkSize);
      const data = await this.chunk(i);
      const from = at - i * this.chunkSize;
      if (!data || data.length <= from) return null;
      const part = data.subarray(from, Math.min(data.length, from + offset + length - at));
      parts.push(part);
      at += part.length;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /**
   * The plaintext of the spans, one after the other, as segments numbered as
   * if the spans were one contiguous stream (so a tar reader sees one
   * archive). Spans are taken from the iterable only as they are reached. A
   * chunk that cannot be read becomes a hole, recorded in `damage`.
   */
  async *spans(spans: Iterable<Span>, damage: DamageReport): AsyncGenerator<Segment> {
    let out = 0;
    const perRead = this.framesPerRead;
    const buf = Buffer.allocUnsafe(perRead * this.frameBytes); // one read buffer for the whole stream
    for (const { start, end } of spans) {
      const firstChunk = Math.floor(start / this.chunkSize);
      const lastChunk = Math.floor((end - 1) / this.chunkSize);
      // The span's frames in order, as one range: one ranged GET for a file in the store.
      const extent = this.extent(firstChunk, lastChunk - firstChunk + 1);
      const range = extent ? this.input.range(extent.start, extent.end) : null;
      try {
        for (let first = firstChunk; first <= lastChunk; first += perRead) {
          const count = Math.min(perRead, lastChunk - first + 1);
          const plain = await this.frames(first, count, buf, range ?? undefined);
          for (let k = 0; k < count; k++) {
            const i = first + k;
            const from = Math.max(start, i * this.chunkSize);
            const to = Math.min(end, (i + 1) * this.chunkSize);
            const data = plain[k];
            if (data && data.length >= to - i * this.chunkSize) {
              yield { offset: out, data: data.subarray(from - i * this.chunkSize, to - i * this.chunkSize) };
            } else {
              markDamaged(damage, i, i); // counted once, though two spans may share the chunk
              damage.bytesLost += to - from;
              yield { offset: out, hole: to - from };
            }
            out += to - from;
          }
        }
      } finally {
        await range?.close();
      }
    }
  }
}

/**
 * Version 3's chunk places, from the index frame just before the header copy
 * at the end (the trailer being the file's last 16 bytes); null when it is
 * not there whole and authentic.
 */
async function readPlaces(input: SourceReader, unlocked: UnlockedBackup): Promise<ChunkPlaces | null> {
  const { fileBytes, frame, header } = unlocked.located;
  const readAt = async (position: number, length: number) => {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await input.read(buf, 0, length, position);
    return buf.subarray(0, bytesRead);
  };
  const bytes = await readIndexFrameBytes(readAt, fileBytes, frame.frameLength);
  return bytes && parseIndexFrame(bytes, fileTagOf(header), unlocked.payloadKey, fileBytes);
}
