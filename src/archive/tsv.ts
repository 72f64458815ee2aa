/**
 * LOAD DATA text form: fields separated by TAB, rows ended by LF, NULL as \N,
 * and inside a value: \\ \t \n \r \0 \Z for backslash, tab, LF, CR, NUL and
 * ^Z. A raw TAB or LF therefore only ever separates fields or rows, which is
 * what lets a reader find the next whole row after a damaged stretch.
 */
const BS = 0x5c;
const NEEDS_ESCAPE = new Uint8Array(256);
const ESCAPE_AS = new Uint8Array(256);
for (const [byte, as] of [[0x5c, 0x5c], [0x09, 0x74], [0x0a, 0x6e], [0x0d, 0x72], [0x00, 0x30], [0x1a, 0x5a]] as const) {
  NEEDS_ESCAPE[byte] = 1;
  ESCAPE_AS[byte] = as;
}
const UNESCAPE = new Int16Array(256).fill(-1);
for (const [as, byte] of [[0x5c, 0x5c], [0x74, 0x09], [0x6e, 0x0a], [0x72, 0x0d], [0x30, 0x00], [0x5a, 0x1a], [0x62, 0x08]] as const) UNESCAPE[as] = byte;

/**
 * Appends rows to a growing buffer. `add` takes the raw column values (null
 * for SQL NULL) and returns the encoded row's start and end within `buf`.
 */
export class RowEncoder {
  buf: Buffer;
  length = 0;
  constructor(initial = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let size = Math.max(this.buf.length * 2, 1024);
    while (size < this.length + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  add(values: (Buffer | null)[]): void {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (i > 0) {
        this.ensure(1);
        this.buf[this.length++] = 0x09;
      }
      if (v === null) {
        this.ensure(2);
        this.buf[this.length++] = BS;
        this.buf[this.length++] = 0x4e; // N
        continue;
      }
      this.ensure(v.length * 2);
      let start = 0;
      for (let j = 0; j < v.length; j++) {
        const b = v[j];
        if (NEEDS_ESCAPE[b] === 1) {
          if (j > start) this.length += v.copy(this.buf, this.length, start, j);
          this.buf[this.length++] = BS;
          this.buf[this.length++] = ESCAPE_AS[b];
          start = j + 1;
        }
      }
      if (start < v.length) this.length += v.copy(this.buf, this.length, start, v.length);
    }
    this.ensure(1);
    this.buf[this.length++] = 0x0a;
  }

  /**
   * Appends one row straight from a MySQL text-protocol row packet: `src`
   * from `start` to `end` holds the row's values, each a length-coded string
   * (0xFB for NULL). The same bytes as `add` given each value as a Buffer,
   * without making those Buffers. The dump uses the WebAssembly version of
   * this (tsv-wasm.ts); this one is its reference in the tests.
   */
  addPacket(src: Buffer, start: number, end: number): void {
    this.ensure(packetRoom(src, start, end));
    this.length = encodePacket(src, start, end, this.buf, this.length);
  }

  /** Hands out the encoded bytes (a copy) and starts again. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.length));
    this.length = 0;
    return out;
  }
}

/**
 * Worst case of a row packet's encoded size: a value of L bytes after a prefix
 * of at least 1 becomes at most 1 + 2L bytes (TAB, every byte escaped), a NULL
 * (1 byte) becomes 3 (TAB, \N); the LF at the end.
 */
export function packetRoom(src: Buffer, start: number, end: number): number {
  const size = end - start;
  return size < 4096 ? 3 * size + 1 : 2 * size + countValues(src, start, end) + 1;
}

/**
 * Encodes one text-protocol row packet (`src` from `start` to `end`) into
 * `out` at `o`, which must have packetRoom() bytes free; returns the new end.
 */
export function encodePacket(src: Buffer, start: number, end: number, out: Buffer, o: number): number {
  let p = start;
  while (p < end) {
    if (p > start) out[o++] = 0x09;
    let len = src[p++];
    if (len < 0xfb && len <= 64) {
      // Short values (numbers, dates, names): byte by byte; only bytes <= 0x1A and '\' may need escaping.
      const stop = p + len;
      if (stop > end) throw new Error('row packet shorter than its values say');
      for (; p < stop; p++) {
        const b = src[p];
        if (b > 0x1a && b !== BS) out[o++] = b;
        else if (NEEDS_ESCAPE[b] === 1) {
          out[o++] = BS;
          out[o++] = ESCAPE_AS[b];
        } else out[o++] = b;
      }
      continue;
    }
    if (len === 0xfb) {
      out[o++] = BS;
      out[o++] = 0x4e; // N
      continue;
    }
    if (len === 0xfc) {
      len = src[p] | (src[p + 1] << 8);
      p += 2;
    } else if (len === 0xfd) {
      len = src[p] | (src[p + 1] << 8) | (src[p + 2] << 16);
      p += 3;
    } else if (len >= 0xfe) {
      len = src.readUInt32LE(p) + src.readUInt32LE(p + 4) * 2 ** 32;
      p += 8;
    }
    const stop = p + len;
    if (stop > end) throw new Error('row packet shorter than its values say');
    o = escapeLong(src, p, stop, out, o);
    p = stop;
  }
  out[o++] = 0x0a;
  return o;
}

/** Long values: finds the bytes to escape and copies the stretches between them natively. */
function escapeLong(src: Buffer, p: number, stop: number, out: Buffer, o: number): number {
  let from = p;
  for (let j = p; j < stop; j++) {
    const b = src[j];
    if ((b <= 0x1a || b === BS) && NEEDS_ESCAPE[b] === 1) {
      if (j > from) o += src.copy(out, o, from, j);
      out[o++] = BS;
      out[o++] = ESCAPE_AS[b];
      from = j + 1;
    }
  }
  if (from < stop) o += src.copy(out, o, from, stop);
  return o;
}

/** Bytes of a length-coded prefix, from its first byte (0xFB, NULL, is one byte). */
const prefixBytes = (lead: number) => (lead <= 0xfb ? 1 : lead === 0xfc ? 3 : lead === 0xfd ? 4 : 9);

/**
 * One row packet handed over in slices as it arrives (a big row taken from
 * the socket reads: src/db/big-packets.ts), encoded slice by slice: the same
 * bytes as encodePacket over the whole packet, without it ever being whole
 * in memory. A value, or even its length prefix, may straddle two slices.
 */
export class SplitPacketEncoder {
  private first = true;
  /** Bytes of the current value still to come. */
  private remaining = 0;
  private readonly prefix = Buffer.alloc(9);
  private prefixHave = 0;

  /** Forgets a row left unfinished. */
  reset(): void {
    this.first = true;
    this.remaining = this.prefixHave = 0;
  }

  /** Worst case of a part's encoded size (as packetRoom, without counting its values). */
  static room(size: number): number {
    return 3 * size + 1;
  }

  /** Encodes `src` from `start` to `end` into `out` at `o`, which has room(end - start) bytes free; returns the new end. */
  part(src: Buffer, start: number, end: number, out: Buffer, o: number): number {
    let p = start;
    while (p < end) {
      if (this.remaining > 0) {
        const stop = Math.min(end, p + this.remaining);
        o = escapeLong(src, p, stop, out, o);
        this.remaining -= stop - p;
        p = stop;
        continue;
      }
      this.prefix[this.prefixHave++] = src[p++];
      const lead = this.prefix[0];
      if (this.prefixHave < prefixBytes(lead)) continue;
      this.prefixHave = 0;
      if (!this.first) out[o++] = 0x09;
      this.first = false;
      if (lead === 0xfb) {
        out[o++] = BS;
        out[o++] = 0x4e; // N
      } else if (lead < 0xfb) this.remaining = lead;
      else if (lead === 0xfc) this.remaining = this.prefix.readUInt16LE(1);
      else if (lead === 0xfd) this.remaining = this.prefix.readUIntLE(1, 3);
      else this.remaining = this.prefix.readUInt32LE(1) + this.prefix.readUInt32LE(5) * 2 ** 32;
    }
    return o;
  }

  /** Ends the row (its LF at `o`); returns the new end. */
  end(out: Buffer, o: number): number {
    const short = this.remaining > 0 || this.prefixHave > 0;
    this.reset();
    if (short) throw new Error('row packet shorter than its values say');
    out[o++] = 0x0a;
    return o;
  }
}

/** Number of length-coded values in a row packet (a bound for huge rows only). */
function countValues(src: Buffer, start: number, end: number): number {
  let n = 0;
  for (let p = start; p < end; n++) {
    const len = src[p++];
    if (len < 0xfb) p += len;
    else if (len === 0xfc) p += 2 + (src[p] | (src[p + 1] << 8));
    else if (len === 0xfd) p += 3 + (src[p] | (src[p + 1] << 8) | (src[p + 2] << 16));
    else if (len === 0xfe) p += 8 + src.readUInt32LE(p) + src.readUInt32LE(p + 4) * 2 ** 32;
  }
  return n;
}

/** Splits one encoded row (without its LF) into values; null for \N. Used for reporting keys, not on the load path. */
export function decodeRow(row: Buffer): (Buffer | null)[] {
  const out: (Buffer | null)[] = [];
  let field: number[] = [];
  let isNull = false;
  for (let i = 0; i <= row.length; i++) {
    const b = i < row.length ? row[i] : 0x09;
    if (b === 0x09) {
      out.push(isNull ? null : Buffer.from(field));
      field = [];
      isNull = false;
    } else if (b === BS && i + 1 < row.length) {
      const n = row[++i];
      if (n === 0x4e && field.length === 0) isNull = true;
      else field.push(UNESCAPE[n] >= 0 ? UNESCAPE[n] : n);
    } else field.push(b);
  }
  return out;
}
