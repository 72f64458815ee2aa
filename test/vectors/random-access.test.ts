/**
 * The random-access reader (PayloadReader), used to read a restore's tables
 * from their place in the file, on every vector that opens: whatever it
 * yields as data is the plaintext at that position, byte for byte; on the
 * good file, the swapped-frame files and a fake frame inserted before a
 * genuine one it yields all of it; elsewhere its
 * holes cover at least the chunks the damage destroyed. Spans are taken
 * whole, in odd slices, and one byte at a time at chunk edges.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { locateHeader, newDamageReport, unlockBackup, type Segment } from '../../src/format/reader.js';
import { PayloadReader, type Span } from '../../src/format/random-access.js';
import { VECTOR_CHUNK_SIZE, VECTOR_PASSWORD, vectorPlaintext, vectorTextPlaintext, type VectorSpec } from './plaintext.js';

/** Both versions' vectors: version 2 in this folder (random bytes), version 3 in v3/ (rows of text, compressed). */
const FOLDERS = [
  { dir: './', version: 2, plaintext: vectorPlaintext() },
  { dir: './v3/', version: 3, plaintext: vectorTextPlaintext() },
];

async function collect(it: AsyncIterable<Segment>): Promise<Segment[]> {
  const out: Segment[] = [];
  for await (const s of it) out.push(s);
  return out;
}

/** Spans as one stream: data must equal the plaintext where it came from; returns the plaintext offsets that were holes. */
function judge(spans: Span[], segments: Segment[], plaintext: Buffer): Set<number> {
  const holes = new Set<number>();
  const origin = (at: number) => {
    let base = 0;
    for (const s of spans) {
      if (at < base + s.end - s.start) return s.start + at - base;
      base += s.end - s.start;
    }
    throw new Error(`offset ${at} past the spans`);
  };
  let expectAt = 0;
  for (const seg of segments) {
    assert.equal(seg.offset, expectAt, 'segments are contiguous');
    const n = seg.data ? seg.data.length : seg.hole;
    for (let k = 0; k < n; k++) {
      const at = origin(seg.offset + k);
      if (seg.data) assert.equal(seg.data[k], plaintext[at], `byte at plaintext offset ${at}`);
      else holes.add(Math.floor(at / VECTOR_CHUNK_SIZE));
    }
    expectAt += n;
  }
  assert.equal(expectAt, spans.reduce((n, s) => n + s.end - s.start, 0), 'every byte of the spans is accounted for');
  return holes;
}

const cuts = (plaintext: Buffer): [string, Span[]][] => [
  ['whole', [{ start: 0, end: plaintext.length }]],
  ['odd slices, out of order', [{ start: 5000, end: 7777 }, { start: 321, end: 1500 }, { start: 19000, end: plaintext.length }]],
  ['single bytes at chunk edges', [1023, 1024, 2047, 2048, 10239, plaintext.length - 1].map((b) => ({ start: b, end: b + 1 }))],
];

for (const { dir, version, plaintext } of FOLDERS) {
  const pathOf = (file: string) => fileURLToPath(new URL(dir + file, import.meta.url));
  const specs = JSON.parse(readFileSync(new URL(dir + 'vectors.json', import.meta.url), 'utf8')) as VectorSpec[];
  for (const spec of specs.filter((s) => !s.error)) {
    test(`version ${version}, ${spec.file}: random access yields only true bytes`, async (t) => {
      const located = await locateHeader(pathOf(spec.file)).catch(() => null);
      if (!located) return; // a vector whose header copy is lost opens only through the in-order reader (format tests)
      const unlocked = await unlockBackup(located, VECTOR_PASSWORD);
      assert.ok(unlocked);
      const reader = await PayloadReader.open(unlocked);
      try {
        for (const [how, spans] of cuts(plaintext)) {
          await t.test(how, async () => {
            const damage = newDamageReport(false);
            const holes = judge(spans, await collect(reader.spans(spans, damage)), plaintext);
            const touched = new Set(spans.flatMap((s) => Array.from({ length: Math.floor((s.end - 1) / VECTOR_CHUNK_SIZE) - Math.floor(s.start / VECTOR_CHUNK_SIZE) + 1 }, (_, k) => Math.floor(s.start / VECTOR_CHUNK_SIZE) + k)));
            for (const lost of spec.lostChunks) if (touched.has(lost)) assert.ok(holes.has(lost), `chunk ${lost} was destroyed, so it must be a hole`);
            if (spec.lostChunks.length === 0 && !spec.truncated && located.firstCopyIntact && /^(good|swap|fake-frame)/.test(spec.file)) assert.equal(holes.size, 0, 'nothing lost');
            assert.equal(damage.damagedChunks, holes.size);
          });
        }
        const all = await reader.read(0, plaintext.length);
        if (all) assert.ok(all.equals(plaintext), 'read() gives the plaintext');
      } finally {
        await reader.close();
      }
    });
  }
}
