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
 *   ORPHAN  the bytes from the end of the hole to the header found are the
 *           tail of the entry whose header was lost. They are kept (bounded)
 *           and yielded as an orphan entry once the next header (and a small
 *           next body) is known, so the consumer can tell whose tail it is.
 *
 * Entries are yielded one at a time; the consumer must finish (or abandon) an
 * entry's body before asking for the next, as with tar-stream's extract.
 */
import type { Segment } from './segment.js';

const BLOCK = 512;

export interface TarEntry {
  path: string;
  size: number;
  pax: Record<string, string>;
  /** Plaintext offset of the entry's first data byte. */
  offset: number;
  /** The entry was found by resynchronising after lost bytes. */
  foundAfterDamage: boolean;
  /**
   * Set on an orphan (path ''): bytes after damage whose own header was lost,
   * with what came right after them. Its body starts with the hole before it.
   */
  orphan?: { next: OrphanNext };
}

export interface OrphanNext {
  path: string;
  pax: Record<string, string>;
  /** The next entry's pax header came right after the orphan (so the orphan holds none of it). */
  paxFound: boolean;
  /** The next entry's body when it is small (<= 64 KiB) and intact. */
  body: Buffer | null;
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

  /** Exactly n bytes of data at pos, or the reason there are none (a hole or the end) and the data before it: consumes up to what it read. */
  async readExact(n: number): Promise<{ data: Buffer } | { lost: 'hole' | 'end'; partial: Buffer }> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const p = await this.next(n - got);
      if (!p || p.hole !== undefined) {
        const partial = Buffer.concat(parts, got);
        if (!p) return { lost: 'end', partial };
        this.pos -= p.hole; // the hole is not consumed: skipHole() measures it
        this.segPos -= p.hole;
        return { lost: 'hole', partial };
      }
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
  /** Skips the hole (and any holes right after it) at pos; returns the bytes skipped. */
  async skipHole(): Promise<number> {
    let skipped = 0;
    for (let seg = await this.current(); seg && seg.hole !== undefined; seg = await this.current()) {
      const n = segLength(seg) - this.segPos;
      await this.skip(n);
      skipped += n;
    }
    return skipped;
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
/** An orphan larger than this is dropped rather than held in memory (pieces are 4 MiB by default). */
const ORPHAN_MAX = 64 << 20;
const NEXT_BODY_MAX = 64 << 10;

/** The bytes after a hole, up to the next header: kept with their holes, bounded. */
class Orphan {
  readonly pieces: BodyPiece[];
  end: number;
  bytes = 0;
  overflow = false;
  constructor(readonly start: number, hole: number) {
    this.pieces = hole > 0 ? [{ hole }] : [];
    this.end = start;
  }

  add(at: number, data: Buffer): void {
    if (this.overflow || data.length === 0) return;
    if (at > this.end) this.pieces.push({ hole: at - this.end });
    this.end = at + data.length;
    this.bytes += data.length;
    if (this.bytes > ORPHAN_MAX) this.overflow = true;
    else this.pieces.push({ data });
  }

  /** The pieces without the zero padding at the end (entry bodies never hold NUL). */
  trimmed(): BodyPiece[] {
    const out = [...this.pieces];
    for (let last = out[out.length - 1]; last?.data; last = out[out.length - 1]) {
      let n = last.data.length;
      while (n > 0 && last.data[n - 1] === 0) n--;
      if (n > 0) {
        out[out.length - 1] = { data: last.data.subarray(0, n) };
        break;
      }
      out.pop();
    }
    return out;
  }
}

async function* piecesOf(list: BodyPiece[]): AsyncGenerator<BodyPiece> {
  yield* list;
}

export function readTar(source: AsyncIterable<Segment>, stats: TarStats = { entries: 0, unaccounted: [], ended: 'end-of-data' }): AsyncGenerator<{ entry: TarEntry; body: AsyncGenerator<BodyPiece> }> {
  return new TarWalk(source, stats).entries();
}

type Yielded = { entry: TarEntry; body: AsyncGenerator<BodyPiece> };

/** The state machine of the comment at the top: one instance per archive read. */
class TarWalk {
  private readonly cur: Cursor;
  private pax: Record<string, string> = {};
  /** >= 0 while looking for a header after damage. */
  private resyncFrom = -1;
  /** Collecting, while resyncing after a hole. */
  private orphan: Orphan | null = null;
  /** An orphan whose next header group was found: handed on with the next entry. */
  private waiting: { orphan: Orphan; paxFound: boolean } | null = null;

  constructor(source: AsyncIterable<Segment>, private readonly stats: TarStats) {
    this.cur = new Cursor(source);
  }

  async *entries(): AsyncGenerator<Yielded> {
    const { cur } = this;
    for (;;) {
      const at = cur.pos;
      const r = await cur.readExact(BLOCK);
      if ('lost' in r) {
        this.orphan?.add(at, r.partial);
        if (r.lost === 'end') break;
        await this.skipLostHeader(at);
        continue;
      }
      if (r.data.every((b) => b === 0)) {
        if (this.resyncFrom >= 0) {
          this.orphan?.add(at, r.data);
          continue;
        }
        this.stats.ended = 'end-marker';
        break;
      }
      const h = decodeHeader(r.data);
      if (!h) {
        this.notAHeader(at, r.data);
        continue;
      }
      const foundAfterDamage = this.found(at, h);
      if (h.type === 'x' || h.type === 'g') await this.readPax(at, h);
      else if (!(yield* this.entry(h, foundAfterDamage))) break;
    }
    if (this.resyncFrom >= 0) this.lose(this.resyncFrom, cur.pos);
    // Read to the end, so the damage report of the layer below is complete (chunks, truncated).
    while (await cur.next(1 << 20));
  }

  private lose(start: number, end: number): void {
    if (end <= start) return;
    const last = this.stats.unaccounted[this.stats.unaccounted.length - 1];
    if (last && last[1] >= start) last[1] = Math.max(last[1], end);
    else this.stats.unaccounted.push([start, end]);
  }

  /** A header in a hole: what follows the hole is the tail of an entry whose header is lost. */
  private async skipLostHeader(at: number): Promise<void> {
    const { cur } = this;
    if (this.resyncFrom < 0) this.resyncFrom = at;
    const holeAt = cur.pos;
    const hole = await cur.skipHole();
    this.orphan ??= new Orphan(holeAt + hole, hole);
    this.waiting = null;
    this.pax = {};
    const gapAt = cur.pos;
    const gap = Math.ceil(gapAt / BLOCK) * BLOCK - gapAt;
    if (gap > 0) {
      const g = await cur.readExact(gap);
      this.orphan.add(gapAt, 'lost' in g ? g.partial : g.data);
    }
  }

  private notAHeader(at: number, block: Buffer): void {
    if (this.resyncFrom < 0) this.resyncFrom = at;
    this.orphan?.add(at, block);
    this.waiting = null;
    this.pax = {};
  }

  /** A valid header at `at`: ends a resync (the orphan collected so far waits for its entry). */
  private found(at: number, h: RawHeader): boolean {
    const foundAfterDamage = this.resyncFrom >= 0 || this.waiting !== null;
    if (this.resyncFrom >= 0) this.lose(this.resyncFrom, at);
    this.resyncFrom = -1;
    if (this.orphan) {
      this.waiting = this.orphan.overflow ? null : { orphan: this.orphan, paxFound: h.type === 'x' };
      this.orphan = null;
    }
    return foundAfterDamage;
  }

  private async readPax(at: number, h: RawHeader): Promise<void> {
    const padded = paddedSize(h.size);
    if (h.size > PAX_MAX) return this.cur.skip(padded);
    const body = await this.cur.readExact(h.size);
    if ('lost' in body) {
      this.pax = {};
      this.waiting = null;
      this.resyncFrom = at;
      return;
    }
    await this.cur.skip(padded - h.size);
    if (h.type === 'x') this.pax = decodePax(body.data);
  }

  /** Yields the waiting orphan (if any) and the entry; false when the data ended inside the entry. */
  private async *entry(h: RawHeader, foundAfterDamage: boolean): AsyncGenerator<Yielded, boolean> {
    const { cur } = this;
    const entry: TarEntry = { path: this.pax.path ?? h.path, size: h.size, pax: this.pax, offset: cur.pos, foundAfterDamage };
    this.pax = {};
    this.stats.entries++;
    const early: BodyPiece[] = [];
    let remaining = h.size;
    if (this.waiting) {
      const { orphan, paxFound } = this.waiting;
      this.waiting = null;
      // Before an orphan is handed on, a small next body is read so the consumer can place the orphan.
      const next = await this.readEarly(h.size, early);
      remaining -= next.read;
      const orphanEntry: TarEntry = { path: '', size: orphan.end - orphan.start, pax: {}, offset: orphan.start, foundAfterDamage: true, orphan: { next: { path: entry.path, pax: entry.pax, paxFound, body: next.body } } };
      const orphanBody = piecesOf(orphan.trimmed());
      yield { entry: orphanEntry, body: orphanBody };
      await orphanBody.return(undefined);
    }
    const body = (async function* (): AsyncGenerator<BodyPiece> {
      yield* early;
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
    await cur.skip(remaining + (paddedSize(h.size) - h.size));
    return !(cur.done && remaining > 0);
  }

  /** The next entry's body when it is small, read ahead into `early`; its bytes when all of it is intact. */
  private async readEarly(size: number, early: BodyPiece[]): Promise<{ read: number; body: Buffer | null }> {
    if (size > NEXT_BODY_MAX) return { read: 0, body: null };
    let read = 0;
    while (read < size) {
      const p = await this.cur.next(size - read);
      if (!p) break;
      early.push(p);
      read += p.data ? p.data.length : p.hole!;
    }
    const body = read === size && early.every((p) => p.data) ? Buffer.concat(early.map((p) => p.data!)) : null;
    return { read, body };
  }
}

const paddedSize = (size: number) => Math.ceil(size / BLOCK) * BLOCK;

/** Reads a whole small entry (JSON, SQL); null when any of it was lost or it is larger than `max`. */
export async function readWhole(body: AsyncIterable<BodyPiece>, expectedSize: number, max = 64 << 20): Promise<Buffer | null> {
  const buf = await readPrefix(body, max);
  return expectedSize <= max && buf.length === expectedSize ? buf : null;
}

/** The bytes of a small entry before its first hole (all of it when intact, at most `max`), for salvage. */
export async function readPrefix(body: AsyncIterable<BodyPiece>, max = 64 << 20): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  let cut = false;
  for await (const p of body) {
    if (p.hole !== undefined || size + p.data.length > max) cut = true;
    else if (!cut) {
      parts.push(p.data);
      size += p.data.length;
    }
  }
  return Buffer.concat(parts, size);
}
