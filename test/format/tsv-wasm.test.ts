/**
 * The WebAssembly row encoder (src/archive/tsv-wasm.ts) against the
 * JavaScript one it replaces on the dump path (RowEncoder.addPacket, the
 * reference): the same bytes for random row packets of every shape, packets
 * read from a shared socket buffer at any offset, values at every length
 * boundary of the protocol, a value bigger than 16 MiB, rows of several MiB
 * among small ones (the big-row path); refusal of a packet
 * shorter than its values say; and the checked-in module is what its C
 * source compiles to.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import fc from 'fast-check';
import { RowEncoder } from '../../src/archive/tsv.js';
import { WasmRowEncoder } from '../../src/archive/tsv-wasm.js';

/** A text-protocol row packet: each value length-coded, null as 0xFB. */
function rowPacket(values: (Buffer | null)[]): Buffer {
  const parts: Buffer[] = [];
  for (const v of values) {
    if (v === null) {
      parts.push(Buffer.from([0xfb]));
      continue;
    }
    const n = v.length;
    if (n < 251) parts.push(Buffer.from([n]));
    else if (n < 1 << 16) parts.push(Buffer.from([0xfc, n & 0xff, n >> 8]));
    else if (n < 1 << 24) parts.push(Buffer.from([0xfd, n & 0xff, (n >> 8) & 0xff, n >> 16]));
    else {
      const p = Buffer.alloc(9);
      p[0] = 0xfe;
      p.writeUInt32LE(n, 1);
      parts.push(p);
    }
    parts.push(v);
  }
  return Buffer.concat(parts);
}

/** Bytes weighted towards the ones that need escaping. */
const valueBytes = fc.array(fc.oneof(fc.constantFrom(0x00, 0x09, 0x0a, 0x0d, 0x1a, 0x5c, 0x01, 0x19, 0x1b, 0x4e, 0xfb), fc.integer({ min: 0, max: 255 })), { maxLength: 300 }).map((a) => Buffer.from(a));
const value = fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 6, arbitrary: valueBytes });
const row = fc.array(value, { minLength: 1, maxLength: 12 });

/** Encodes rows packed into one buffer (as mysql2 hands them: views of one socket read) with both encoders. */
function encodeBoth(rows: (Buffer | null)[][], lead: number, pieceBytes = 1 << 20): { js: Buffer; wasm: Buffer } {
  const packets = rows.map(rowPacket);
  const socketRead = Buffer.concat([Buffer.alloc(lead, 0xee), ...packets.flatMap((p) => [Buffer.from([0, 0, 0, 0]), p])]);
  const js = new RowEncoder(16);
  const wasm = new WasmRowEncoder(64, 64);
  const jsOut: Buffer[] = [];
  const wasmOut: Buffer[] = [];
  let at = lead;
  for (const p of packets) {
    at += 4;
    js.addPacket(socketRead, at, at + p.length);
    wasm.addPacket(socketRead, at, at + p.length);
    at += p.length;
    if (wasm.length >= pieceBytes) wasmOut.push(wasm.handOff());
    if (js.length >= pieceBytes) jsOut.push(js.take());
  }
  jsOut.push(js.take());
  wasmOut.push(wasm.handOff());
  return { js: Buffer.concat(jsOut), wasm: Buffer.concat(wasmOut) };
}

test('random rows: the WebAssembly encoder writes exactly what the reference encoder writes', () => {
  fc.assert(
    fc.property(fc.array(row, { minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 37 }), fc.integer({ min: 1, max: 2000 }), (rows, lead, pieceBytes) => {
      const { js, wasm } = encodeBoth(rows, lead, pieceBytes);
      assert.ok(js.equals(wasm), `differs: ${js.toString('hex').slice(0, 200)} / ${wasm.toString('hex').slice(0, 200)}`);
    }),
    { numRuns: 2000, seed: 20261127 },
  );
});

test('values at every length boundary of the protocol and of the 16-byte vectors', () => {
  const lengths = [0, 1, 15, 16, 17, 31, 32, 33, 64, 65, 250, 251, 252, 65535, 65536, 70000];
  for (const n of lengths) {
    for (const fill of [0x41, 0x5c, 0x00]) {
      const v = Buffer.alloc(n, fill);
      if (n > 3) v[n - 1] = 0x0a; // an escape in the last lane
      const { js, wasm } = encodeBoth([[v, null, Buffer.from('x')], [Buffer.from('')]], 3);
      assert.ok(js.equals(wasm), `length ${n}, fill ${fill}`);
    }
  }
});

test('a value bigger than 16 MiB (8-byte length) and packets in many separate buffers', () => {
  const big = Buffer.alloc((16 << 20) + 123, 0x61);
  big[5] = 0x09;
  big[big.length - 2] = 0x5c;
  const { js, wasm } = encodeBoth([[Buffer.from('1'), big, null]], 0);
  assert.ok(js.equals(wasm));

  // One buffer per packet (packets straddling socket reads come this way), reused encoder.
  const encoder = new WasmRowEncoder(32, 32);
  const reference = new RowEncoder(16);
  for (let i = 0; i < 500; i++) {
    const p = rowPacket([Buffer.from(`row ${i}\t`), i % 3 === 0 ? null : Buffer.alloc(i, 0x5c)]);
    encoder.addPacket(p, 0, p.length);
    reference.addPacket(p, 0, p.length);
  }
  assert.ok(encoder.handOff().equals(reference.take()));
});

test('rows of several MiB (images in the database) between small ones: same bytes, and a piece handed off stays intact', () => {
  const encoder = new WasmRowEncoder(1 << 20, 64 << 10);
  const reference = new RowEncoder(16);
  const pieces: { got: Buffer; want: Buffer }[] = [];
  for (let i = 0; i < 12; i++) {
    const image = Buffer.alloc(i % 4 === 1 ? (3 << 20) + i : 200 + i, 0x41 + i);
    image[7] = 0x0a; // escaped in the big-row path too
    image[image.length - 1] = 0x5c;
    const p = rowPacket([Buffer.from(String(i)), image, i % 3 === 0 ? null : Buffer.from('note\t')]);
    encoder.addPacket(p, 0, p.length);
    reference.addPacket(p, 0, p.length);
    if (encoder.length >= 1 << 20 || i === 11) pieces.push({ got: encoder.handOff(), want: reference.take() });
  }
  assert.ok(pieces.length >= 4);
  // Checked at the end: a piece that is a view of a let-go memory must not change as the encoder goes on.
  for (const { got, want } of pieces) assert.ok(got.equals(want));
});

/** Cuts `p` at the given points (sorted, deduplicated), as mysql2 hands a big packet's parts. */
function cut(p: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((a) => a % (p.length + 1)))].sort((x, y) => x - y);
  const parts: Buffer[] = [];
  let from = 0;
  for (const to of [...points, p.length]) {
    parts.push(Buffer.from(p.subarray(from, to)));
    from = to;
  }
  return parts;
}

test('a row packet given in parts, cut anywhere (inside a value or its length prefix): the same bytes as given whole', () => {
  fc.assert(
    fc.property(fc.array(row, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), (rows, at, split) => {
      const encoder = new WasmRowEncoder(64, 64);
      const reference = new RowEncoder(16);
      for (const [i, r] of rows.entries()) {
        const p = rowPacket(r);
        reference.addPacket(p, 0, p.length);
        if (!split[i]) encoder.addPacket(p, 0, p.length);
        else {
          for (const part of cut(p, at)) encoder.addPart(part, 0, part.length);
          encoder.endParts();
        }
      }
      assert.ok(encoder.handOff().equals(reference.take()));
    }),
    { numRuns: 2000, seed: 20261130 },
  );
  // Long prefixes (3, 4 and 9 bytes) cut at every byte.
  for (const n of [300, 70000, (16 << 20) + 5]) {
    const v = Buffer.alloc(n, 0x42);
    v[n - 1] = 0x09;
    const p = rowPacket([Buffer.from('7'), null, v, Buffer.from('z')]);
    const want = new RowEncoder(16);
    want.addPacket(p, 0, p.length);
    const expected = want.take();
    for (let c = 1; c < 14; c++) {
      const encoder = new WasmRowEncoder(64, 64);
      for (const part of cut(p, [c, c + 1, (16 << 20) - 1])) encoder.addPart(part, 0, part.length);
      encoder.endParts();
      assert.ok(encoder.handOff().equals(expected), `value of ${n} bytes cut at ${c}`);
    }
  }
});

test('a packet in parts that ends short of its values is refused at its end', () => {
  const encoder = new WasmRowEncoder();
  encoder.addPart(Buffer.from([0xfc, 0x10]), 0, 2);
  assert.throws(() => encoder.endParts(), /shorter than its values say/);
  // The encoder starts the next row afresh.
  const p = rowPacket([Buffer.from('a')]);
  encoder.addPart(p, 0, p.length);
  encoder.endParts();
  assert.ok(encoder.handOff().subarray(-2).equals(Buffer.from('a\n')));
});

test('a packet shorter than its values say is refused, by both encoders', () => {
  for (const bad of [Buffer.from([5, 0x41, 0x41]), Buffer.from([0xfc, 0x10]), Buffer.from([0xfd, 1, 0, 0]), Buffer.from([0xfe, 1, 0, 0, 0, 0, 0, 0, 0])]) {
    assert.throws(() => new WasmRowEncoder().addPacket(bad, 0, bad.length), /shorter than its values say/);
    assert.throws(() => new RowEncoder().addPacket(bad, 0, bad.length), /shorter than its values say/);
  }
});

test('the checked-in WebAssembly module is what src/archive/wasm/tsv-encode.c compiles to', () => {
  const r = spawnSync('sh', [resolve(import.meta.dirname, '../../scripts/build-wasm.sh'), '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
});
