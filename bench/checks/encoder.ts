/**
 * npx tsx bench/checks/encoder.ts
 *
 * RowEncoder.addPacket (rows encoded straight from the server's row packets)
 * must give the same bytes as RowEncoder.add (rows given as one Buffer per
 * value), which the format's tests pin down. Property check with fast-check:
 * random rows, NULLs, every byte value, lengths around each length-coding
 * boundary (250/251, 65535/65536, 2^24), rows bigger than the buffer.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RowEncoder } from '../../src/archive/tsv.js';

function lengthCoded(n: number): Buffer {
  if (n < 251) return Buffer.from([n]);
  if (n < 2 ** 16) return Buffer.from([0xfc, n & 0xff, n >> 8]);
  if (n < 2 ** 24) return Buffer.from([0xfd, n & 0xff, (n >> 8) & 0xff, n >> 16]);
  const b = Buffer.alloc(9);
  b[0] = 0xfe;
  b.writeUInt32LE(n % 2 ** 32, 1);
  b.writeUInt32LE(Math.floor(n / 2 ** 32), 5);
  return b;
}

/** A text-protocol row packet, placed at an offset inside a bigger buffer as mysql2 hands it over. */
function packet(values: (Buffer | null)[], pad: number): { buf: Buffer; start: number; end: number } {
  const body = Buffer.concat(values.map((v) => (v === null ? Buffer.from([0xfb]) : Buffer.concat([lengthCoded(v.length), v]))));
  const buf = Buffer.concat([Buffer.alloc(pad, 0xaa), body, Buffer.alloc(3, 0xbb)]);
  return { buf, start: pad, end: pad + body.length };
}

function check(rows: (Buffer | null)[][], initial: number): void {
  const a = new RowEncoder(initial);
  const b = new RowEncoder(initial);
  rows.forEach((values, i) => {
    a.add(values);
    const p = packet(values, i % 7);
    b.addPacket(p.buf, p.start, p.end);
  });
  assert.equal(b.length, a.length);
  assert.ok(b.take().equals(a.take()));
}

const special = fc.constantFrom(0x00, 0x09, 0x0a, 0x0d, 0x1a, 0x5c, 0x4e, 0xfb, 0xff);
const bytes = fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), special), { maxLength: 300 }).map((a) => Buffer.from(a));
const value = fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 6, arbitrary: bytes });
const row = fc.array(value, { minLength: 1, maxLength: 12 });

fc.assert(fc.property(fc.array(row, { maxLength: 40 }), fc.integer({ min: 1, max: 4096 }), (rows, initial) => check(rows, initial)), { numRuns: 3000 });

// Length-coding boundaries and big values, escapes at their edges.
for (const n of [0, 1, 63, 64, 65, 250, 251, 252, 65535, 65536, 65537, 2 ** 24 - 1, 2 ** 24, 2 ** 24 + 5]) {
  const v = Buffer.alloc(n, 0x41);
  if (n > 0) v[0] = 0x09;
  if (n > 1) v[n - 1] = 0x5c;
  if (n > 2) v[n >> 1] = 0x00;
  check([[v, null, Buffer.alloc(0)], [null], [v]], 16);
}
// All NULLs: the case where the output is three times the packet.
check([Array.from({ length: 500 }, () => null)], 1);
console.log('RowEncoder.addPacket: identical to RowEncoder.add');
