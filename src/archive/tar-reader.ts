/**
 * A tar reader over plaintext that may have holes (lost chunks), with exact
 * positions. State machine:
 *
 *   HEADER  read the 512-byte block at the expected offset; a pax 'x' block
 *           sets attributes for the next entry; two zero blocks end the archive.
 *   BODY    hand the entry's bytes (data and holes) to the consumer, then skip
 *           the padding to the next 512-byte boundary.
 *   RESYNC  a header lay in a hole, or did not parse: from the end of the hole,
 *           try every 512-byte boundary for a block whose checksum and "ustar"
 *           magic hold. Entry data cannot look like a header: TSV escapes NUL,
 *           and JSON has none, while a ustar header always holds NULs.
 *
 * Entries are yielded one at a time; the consumer must finish (or abandon) an
 * entry's body before asking for the next, as with tar-stream's extract.
 */
import type { Segment } from '../format/reader.js';

const BLOCK = 512;

export interface TarEntry {
  path: string;
  size: number;
  pax: Record<string, string>;
  /** Plaintext offset of the entry's first data byte. */
  offset: number;
  /** The entry was found by resynchronising after lost bytes. */
  foundAfterDamage: boolean;
}

export type BodyPiece = { data: Buffer; hole?: undefined } | { hole: number; data?: undefined };

export interface TarStats {
  entries: number;
  /** Plaintext byte ranges [start, end) that held lost headers or stray bytes between entries. */
  unaccounted: [number, number][];
  ended: 'end-marker' | 'end-of-data';
}

/** Pulls plaintext in order; knows where holes are. */
class Cursor {
  private it: AsyncIterator<Segment>;
  private seg: Segment | null = null;
  private segPos = 0; // bytes of `seg` consumed
  pos = 0;
  done = false;

  constructor(source: AsyncIterable<Segment>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async current(): Promise<Segment | null> {
    while (!this.done && (this.seg === null || this.segPos >= segLength(this.seg))) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        this.seg = null;
        return null;
      }
      this.seg = r.value;
      this.segPos = 0;
    }
    return this.seg;
  }

  /** Up to `max` bytes at pos: data or a hole; null at the end. */
  async next(max: number): Promise<BodyPiece | null> {
    const seg = await this.current();
    if (!seg) return null;
    const n = Math.min(max, segLength(seg) - this.segPos);
    const piece: BodyPiece = seg.data ? { data: seg.data.subarray(this.segPos, this.segPos + n) } : { hole: n };
    this.segPos += n;
    this.pos += n;
    return piece;
  }

  /** Exactly n bytes of data at pos, or the reason there are none (a hole or the end): consumes up to what it read. */
  async readExact(n: number): Promise<{ data: Buffer } | { lost: 'hole' | 'end' }> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const p = await this.next(n - got);
      if (!p) return { lost: 'end' };
      if (p.hole !== undefined) return { lost: 'hole' };
      parts.push(p.data);
      got += p.data.length;
    }
    return { data: parts.length === 1 ? parts[0] : Buffer.concat(parts, got) };
  }

  async skip(n: number): Promise<void> {
    while (n > 0) {
      const p = await this.next(n);
      if (!p) return;
      n -= p.data ? p.data.length : p.hole!;
    }
  }

  /** Skips to the end of the hole at pos (if any). */
  async skipHole(): Promise<void> {
    const seg = await this.current();
    if (seg && seg.hole !== undefined) await this.skip(segLength(seg) - this.segPos);
  }
}

const segLength = (s: Segment) => (s.data ? s.data.length : s.hole!);

function octal(block: Buffer, at: number, len: number): number | null {
  if (block[at] & 0x80) {
    // base-256, as tar-stream writes sizes over 8 GiB
    let v = 0;
    for (let i = at + 1; i < at + len; i++) v = v * 256 + block[i];
    return Number.isSafeInteger(v) ? v : null;
  }
  const text = block.toString('latin1', at, at + len).replace(/[\0 ]+$/, '').trim();
  if (!/^[0-7]*$/.test(text)) return null;
  return text === '' ? 0 : parseInt(text, 8);
}

function cstring(block: Buffer, at: number, len: number): string {
  const end = block.indexOf(0, at);
  return block.toString('utf8', at, end < 0 || end > at + len ? at + len : end);
}

interface RawHeader {
  path: string;
  size: number;
  type: string;
}

/** Decodes one header block; null when it is not a valid ustar header. */
export function decodeHeader(block: Buffer): RawHeader | null {
  const stored = octal(block, 148, 8);
  if (stored === null) return null;
  let sum = 8 * 32;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += block[i];
  if (sum !== stored) return null;
  if (block.toString('latin1', 257, 262) !== 'ustar') return null;
  const size = octal(block, 124, 12);
  if (size === null) return null;
  const name = cstring(block, 0, 100);
  const prefix = cstring(block, 345, 155);
  const type = String.fromCharCode(block[156] || 0x30);
  return { path: prefix ? `${prefix}/${name}` : name, size, type };
}

export function decodePax(buf: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < buf.length) {
    const space = buf.indexOf(0x20, at);
    if (space < 0) break;
    const len = Number(buf.toString('latin1', at, space));
    if (!Number.isInteger(len) || len <= 0 || at + len > buf.length) break;
    const record = buf.toString('utf8', space + 1, at + len - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += len;
  }
  return out;
}

const PAX_MAX = 1 << 20;

export async function* readTar(source: AsyncIterable<Segment>, stats: TarStats = { entries: 0, unaccounted: [], ended: 'end-of-data' }): AsyncGenerator<{ entry: TarEntry; body: AsyncGenerator<BodyPiece> }> {
  const cur = new Cursor(source);
  let pax: Record<string, string> = {};
  let resyncFrom = -1; // >= 0 while looking for a header after damage

  const lose = (start: number, end: number) => {
    if (end <= start) return;
    const last = stats.unaccounted[stats.unaccounted.length - 1];
    if (last && last[1] >= start) last[1] = Math.max(last[1], end);
    else stats.unaccounted.push([start, end]);
  };

  for (;;) {
    const at = cur.pos;
    const r = await cur.readExact(BLOCK);
    if ('lost' in r) {
      if (r.lost === 'end') break;
      // A header in a hole: continue from the next block boundary after the hole.
      if (resyncFrom < 0) resyncFrom = at;
      await cur.skipHole();
      const aligned = Math.ceil(cur.pos / BLOCK) * BLOCK;
      await cur.skip(aligned - cur.pos);
      pax = {};
      continue;
    }
    const block = r.data;
    if (block.every((b) => b === 0)) {
      if (resyncFrom >= 0) continue;
      stats.ended = 'end-marker';
      break;
    }
    const h = decodeHeader(block);
    if (!h) {
      if (resyncFrom < 0) resyncFrom = at;
      pax = {};
      continue;
    }
    const foundAfterDamage = resyncFrom >= 0;
    if (foundAfterDamage) lose(resyncFrom, at);
    resyncFrom = -1;
    const padded = Math.ceil(h.size / BLOCK) * BLOCK;

    if (h.type === 'x' || h.type === 'g') {
      if (h.size > PAX_MAX) {
        await cur.skip(padded);
        continue;
      }
      const body = await cur.readExact(h.size);
      if ('lost' in body) {
        pax = {};
        resyncFrom = at;
        continue;
      }
      await cur.skip(padded - h.size);
      if (h.type === 'x') pax = decodePax(body.data);
      continue;
    }

    const entry: TarEntry = { path: pax.path ?? h.path, size: h.size, pax, offset: cur.pos, foundAfterDamage };
    pax = {};
    stats.entries++;
    let remaining = h.size;
    const body = (async function* (): AsyncGenerator<BodyPiece> {
      while (remaining > 0) {
        const p = await cur.next(Math.min(remaining, 1 << 20));
        if (!p) return;
        remaining -= p.data ? p.data.length : p.hole!;
        yield p;
      }
    })();
    yield { entry, body };
    // Whatever the consumer left unread is skipped.
    await body.return(undefined);
    await cur.skip(remaining + (padded - h.size));
    if (cur.done && remaining > 0) break;
  }
  if (resyncFrom >= 0) lose(resyncFrom, cur.pos);
  // Read to the end, so the damage report of the layer below is complete (chunks, truncated).
  while (await cur.next(1 << 20));
}

/** Reads a whole small entry (JSON, SQL); null when any of it was lost or it is larger than `max`. */
export async function readWhole(body: AsyncIterable<BodyPiece>, expectedSize: number, max = 64 << 20): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  let size = 0;
  let damaged = expectedSize > max;
  for await (const p of body) {
    if (p.hole !== undefined) damaged = true;
    else if (!damaged) {
      size += p.data.length;
      parts.push(p.data);
    }
  }
  return damaged || size !== expectedSize ? null : Buffer.concat(parts, size);
}
