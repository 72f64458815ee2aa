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
import { AEAD_TAG_BYTES, CHUNK_CRC_BYTES, CHUNK_HEAD_BYTES } from './limits.js';
import { markDamaged, type DamageReport } from './damage.js';
import type { Segment, UnlockedBackup } from './reader.js';
import { REORDER_WINDOW } from './walker.js';
import type { ByteRange, SourceReader } from './source.js';

/** Frames read per file read when streaming a range (1 MiB with 64 KiB chunks). */
const FRAMES_PER_READ = 16;

export interface Span {
  /** Plaintext offsets, [start, end). */
  start: number;
  end: number;
}

export class PayloadReader {
  private readonly chunkSize: number;
  private readonly frameBytes: number;
  private readonly fileTag: Buffer;
  private last: { index: number; data: Buffer | null } | null = null;

  private constructor(private readonly input: SourceReader, private readonly unlocked: UnlockedBackup) {
    const { header } = unlocked.located;
    this.chunkSize = header.chunkSize;
    this.frameBytes = CHUNK_HEAD_BYTES + header.chunkSize + AEAD_TAG_BYTES + CHUNK_CRC_BYTES;
    this.fileTag = fileTagOf(header);
  }

  static async open(unlocked: UnlockedBackup): Promise<PayloadReader> {
    return new PayloadReader(await unlocked.located.source.openReader(), unlocked);
  }

  async close(): Promise<void> {
    await this.input.close();
  }

  /**
   * Reads the frames at the places of chunks first..first+count-1 in one file
   * read (the next bytes of `range` when given, which must be there), into
   * `buf` when given (the plaintexts returned never share it).
   */
  private async frames(first: number, count: number, buf: Buffer = Buffer.allocUnsafe(count * this.frameBytes), range?: ByteRange): Promise<(Buffer | null)[]> {
    const position = this.unlocked.located.payloadOffset + first * this.frameBytes;
    const bytesRead = range ? await range.read(buf, count * this.frameBytes) : (await this.input.read(buf, 0, count * this.frameBytes, position)).bytesRead;
    const out: (Buffer | null)[] = [];
    for (let k = 0; k < count; k++) {
      const found = this.openAt(buf.subarray(k * this.frameBytes, Math.min(bytesRead, (k + 1) * this.frameBytes)), first + k);
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
    const head = place.length >= CHUNK_HEAD_BYTES ? parseHead(place, 0, this.fileTag, this.chunkSize + AEAD_TAG_BYTES) : null;
    const sealedEnd = head ? CHUNK_HEAD_BYTES + head.length : 0;
    if (!head || sealedEnd > place.length || (!head.final && head.length !== this.chunkSize + AEAD_TAG_BYTES)) return null;
    if (head.index !== i) return Math.abs(head.index - i) <= REORDER_WINDOW ? 'elsewhere' : null;
    return openChunk(this.unlocked.payloadKey, head.index, head.final, place.subarray(CHUNK_HEAD_BYTES, sealedEnd)) ?? 'elsewhere';
  }

  /** Chunk i looked for at the places of its neighbours (swapped frames). */
  private async findNear(i: number): Promise<Buffer | null> {
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
    const buf = Buffer.allocUnsafe(FRAMES_PER_READ * this.frameBytes); // one read buffer for the whole stream
    const { payloadOffset } = this.unlocked.located;
    for (const { start, end } of spans) {
      const firstChunk = Math.floor(start / this.chunkSize);
      const lastChunk = Math.floor((end - 1) / this.chunkSize);
      // The span's frames in order, as one range: one ranged GET for a file in the store.
      const range = this.input.range(payloadOffset + firstChunk * this.frameBytes, payloadOffset + (lastChunk + 1) * this.frameBytes);
      try {
        for (let first = firstChunk; first <= lastChunk; first += FRAMES_PER_READ) {
          const count = Math.min(FRAMES_PER_READ, lastChunk - first + 1);
          const plain = await this.frames(first, count, buf, range);
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
        await range.close();
      }
    }
  }
}
