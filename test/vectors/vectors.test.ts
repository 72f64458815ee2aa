/**
 * Every vector in this folder (see README.md and vectors.json) fed to the
 * reader whole, byte by byte, and in odd 321-byte slices: scanFrames must
 * yield the same frames and decryptFrames the same segments and damage
 * report every way. Then the result is judged against how the vector was
 * made: data only where the plaintext is, byte for byte; holes exactly at
 * the chunks the damage destroyed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { scanFrames, type FrameEvent } from '../../src/format/chunks.js';
import { decryptFrames, locateHeader, newDamageReport, payloadFrames, unlockBackup, type DamageReport, type Segment } from '../../src/format/reader.js';
import { fileTagOf } from '../../src/format/header.js';
import { isLrError } from '../../src/errors.js';
import { LIMITS } from '../../src/format/limits.js';
import { VECTOR_PASSWORD, vectorPlaintext, type VectorSpec } from './plaintext.js';

const specs = JSON.parse(readFileSync(new URL('vectors.json', import.meta.url), 'utf8')) as VectorSpec[];
const plaintext = vectorPlaintext();
const pathOf = (file: string) => fileURLToPath(new URL(file, import.meta.url));

type Feed = 'whole' | 'byte by byte' | '321-byte slices';

async function* feed(bytes: Buffer, how: Feed): AsyncGenerator<Buffer> {
  if (how === 'whole') yield bytes;
  else {
    const step = how === 'byte by byte' ? 1 : 321;
    for (let at = 0; at < bytes.length; at += step) yield bytes.subarray(at, at + step);
  }
}

/** Frame events as comparable text (sealed bytes by checksum). */
function describeFrames(events: FrameEvent[]): string[] {
  return events.map((e) => (e.type === 'garbage' ? `garbage ${e.fileOffset}+${e.length}` : `frame ${e.index}${e.final ? ' final' : ''} at ${e.fileOffset}+${e.frameLength} sealed ${e.sealed.length}/${e.sealedLength} crc ${crc32(e.sealed)} ${e.bodyIntact ? 'intact' : 'damaged'}`));
}

function describeSegments(segments: Segment[]): string[] {
  return segments.map((s) => (s.data ? `data ${s.offset}+${s.data.length} crc ${crc32(s.data)}` : `hole ${s.offset}+${s.hole}`));
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function* replay<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

for (const spec of specs) {
  test(`${spec.file}: ${spec.note}`, async () => {
    const path = pathOf(spec.file);
    if (spec.error) {
      await assert.rejects(locateHeader(path), (err: unknown) => isLrError(err) && err.code === spec.error, `expected ${spec.error}`);
      return;
    }
    const located = await locateHeader(path);
    const unlocked = (await unlockBackup(located, VECTOR_PASSWORD))!;
    assert.ok(unlocked, 'the password opens it');
    const payload = (await readFile(path)).subarray(located.payloadOffset);
    const opts = { fileTag: fileTagOf(located.header), chunkSize: located.header.chunkSize, startOffset: located.payloadOffset, stopAtFinal: true };

    const runs: { how: Feed; frames: string[]; segments: string[]; damage: DamageReport; raw: Segment[] }[] = [];
    for (const how of ['whole', 'byte by byte', '321-byte slices'] as Feed[]) {
      const frames = await collect(scanFrames(feed(payload, how), opts));
      const damage = newDamageReport(located.headerCopyUsed);
      const raw = await collect(decryptFrames(replay(frames), unlocked.payloadKey, opts.chunkSize, damage));
      runs.push({ how, frames: describeFrames(frames), segments: describeSegments(raw), damage, raw });
    }
    // The reader proper (file stream, 256 KiB reads, frames straight into decryption) agrees too.
    const fileDamage = newDamageReport(located.headerCopyUsed);
    const fromFile = await collect(decryptFrames(payloadFrames(located), unlocked.payloadKey, opts.chunkSize, fileDamage));
    const [whole] = runs;
    for (const r of runs.slice(1)) {
      assert.deepEqual(r.frames, whole!.frames, `frames ${r.how}`);
      assert.deepEqual(r.segments, whole!.segments, `segments ${r.how}`);
      assert.deepEqual(r.damage, whole!.damage, `damage ${r.how}`);
    }
    assert.deepEqual(describeSegments(fromFile), whole!.segments, 'read from the file');
    assert.deepEqual(fileDamage, whole!.damage, 'damage read from the file');

    // Judged against the truth: data is the plaintext, holes are the destroyed chunks.
    const { raw, damage } = whole!;
    const cs = opts.chunkSize;
    let pos = 0;
    const holes = new Set<number>();
    for (const s of raw) {
      assert.equal(s.offset, pos, 'segments are contiguous from 0');
      if (s.data) assert.ok(s.data.equals(plaintext.subarray(s.offset, s.offset + s.data.length)), `data at ${s.offset} is the plaintext`);
      else for (let c = s.offset / cs; c < (s.offset + s.hole) / cs; c++) holes.add(c);
      pos += s.data ? s.data.length : s.hole;
    }
    assert.equal(damage.truncated, spec.truncated, 'truncated');
    if (spec.truncated) {
      assert.equal(pos, spec.lostChunks[0]! * cs, 'everything before the cut chunk is read');
      assert.deepEqual([...holes], [], 'no holes before the cut');
    } else {
      assert.equal(pos, plaintext.length, 'the whole plaintext is accounted for');
      assert.deepEqual([...holes].sort((a, b) => a - b), spec.lostChunks, 'holes exactly where chunks were destroyed');
      assert.equal(damage.chunks, Math.ceil(plaintext.length / cs));
    }
    assert.equal(damage.damagedChunks, holes.size);
    assert.equal(damage.headerCopyUsed, spec.file === 'zero-first-header.lrb');
  });
}

test('back-to-back frame heads (hostile): bounded time and memory, every claimed chunk a hole', { timeout: 120_000 }, async () => {
  const located = await locateHeader(pathOf('good.lrb'));
  const tag = fileTagOf(located.header);
  // The largest chunk a header may declare: each head then claims 1 MiB that is not there.
  const cs = LIMITS.chunkSizeMax;
  const heads = 300_000;
  // Each head claims a full chunk and a valid head checksum, but the next head follows 28 bytes later.
  const head = (i: number) => {
    const h = Buffer.alloc(28);
    h.write('LRCK', 0, 'latin1');
    tag.copy(h, 4);
    h.writeUInt32BE(i, 12);
    h.writeUInt32BE(cs + 16, 20);
    h.writeUInt32BE(crc32(h.subarray(0, 24)), 24);
    return h;
  };
  let peak = 0;
  async function* source(): AsyncGenerator<Buffer> {
    for (let i = 0; i < heads; i += 1000) {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
      yield Buffer.concat(Array.from({ length: 1000 }, (_, k) => head(i + k)));
    }
  }
  const before = process.memoryUsage().arrayBuffers;
  const started = Date.now();
  const damage = newDamageReport(false);
  let holes = 0;
  for await (const s of decryptFrames(scanFrames(source(), { fileTag: tag, chunkSize: cs, startOffset: 0, stopAtFinal: true }), Buffer.alloc(32), cs, damage)) {
    assert.equal(s.data, undefined, 'nothing authenticates');
    holes++;
  }
  // Heads in the last chunk-length of the input cannot be whole frames: they are stray bytes.
  assert.ok(holes > 0 && damage.damagedChunks >= heads - Math.ceil((cs + 48) / 28), `${damage.damagedChunks} damaged of ${heads}`);
  assert.ok(damage.strayBytes > 0);
  assert.equal(damage.truncated, true);
  assert.ok(Date.now() - started < 60_000, `took ${Date.now() - started} ms`);
  assert.ok(peak - before < 64 << 20, `memory grew by ${peak - before} bytes`);
});
