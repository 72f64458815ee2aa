/**
 * Hostile zstd frames (frames.json here): each sealed with the file's own
 * key in place of chunk 5 (or the final chunk), so authentication passes
 * and only the frame rules and zstd's bounded decoding stand in the way.
 * Each must cost exactly that chunk, fed whole, byte by byte and in 321-byte
 * slices, and through random access; the zstd module's memory must not grow
 * past what a span needs; the refusal must be the one the vector names.
 * Without the password, `check` cannot see inside a sealed frame: it finds
 * nothing lost, and says so only through the keyed reader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { scanFrames } from '../../../src/format/chunks.js';
import { decryptFrames, locateHeader, newDamageReport, shapeOf, unlockBackup } from '../../../src/format/reader.js';
import { fileTagOf } from '../../../src/format/header.js';
import { PayloadReader } from '../../../src/format/random-access.js';
import { openChunk } from '../../../src/keys/crypto.js';
import { frameProblem } from '../../../src/format/zstd/frame.js';
import { zstd } from '../../../src/format/zstd/wasm.js';
import { checkFile } from '../../../src/identify/check.js';
import { VECTOR_CHUNK_SIZE, VECTOR_PASSWORD, vectorTextPlaintext, type VectorSpec } from '../plaintext.js';
import { collect, feed, type Feed } from '../suite.js';

const specs = JSON.parse(readFileSync(new URL('frames.json', import.meta.url), 'utf8')) as (VectorSpec & { refusedBy: string })[];
const plaintext = vectorTextPlaintext();
const pathOf = (file: string) => fileURLToPath(new URL(file, import.meta.url));

for (const spec of specs) {
  test(`${spec.file}: ${spec.note}`, async () => {
    const path = pathOf(spec.file);
    const located = await locateHeader(path);
    const unlocked = (await unlockBackup(located, VECTOR_PASSWORD))!;
    assert.ok(unlocked);
    const payload = (await readFile(path)).subarray(located.payloadOffset);
    const memoryBefore = zstd()['memory'].buffer.byteLength;
    for (const how of ['whole', 'byte by byte', '321-byte slices'] as Feed[]) {
      const damage = newDamageReport(false);
      const frames = scanFrames(feed(payload, how), { fileTag: fileTagOf(located.header), chunkSize: VECTOR_CHUNK_SIZE, startOffset: located.payloadOffset, version: 3 });
      const segments = await collect(decryptFrames(frames, unlocked.payloadKey, shapeOf(located), damage));
      const holes = segments.filter((s) => s.hole !== undefined).map((s) => s.offset / VECTOR_CHUNK_SIZE);
      assert.deepEqual(holes, spec.lostChunks, `${how}: exactly the hostile chunk lost`);
      for (const s of segments) if (s.data) assert.ok(s.data.equals(plaintext.subarray(s.offset, s.offset + s.data.length)), `${how}: data at ${s.offset} is the plaintext`);
      assert.equal(damage.truncated, false);
      assert.equal(damage.chunks, Math.ceil(plaintext.length / VECTOR_CHUNK_SIZE));
    }
    // Random access reaches the frame through the (remade) index and refuses it the same way.
    const reader = await PayloadReader.open(unlocked);
    try {
      for (let i = 0; i < Math.ceil(plaintext.length / VECTOR_CHUNK_SIZE); i++) {
        const data = await reader.chunk(i);
        if (spec.lostChunks.includes(i)) assert.equal(data, null, `random access refuses chunk ${i}`);
        else assert.ok(data?.equals(plaintext.subarray(i * VECTOR_CHUNK_SIZE, (i + 1) * VECTOR_CHUNK_SIZE)), `random access reads chunk ${i}`);
      }
    } finally {
      await reader.close();
    }
    // No frame made zstd's memory grow: a span of 1 KiB needs no more than the module started with.
    assert.equal(zstd()['memory'].buffer.byteLength, memoryBefore, 'zstd memory did not grow');
    // The refusal is the one the vector names: the frame rules, or zstd decoding into room for the span only.
    const i = spec.lostChunks[0] ?? 5;
    const at = (await import('../../damage/inject.js')).layoutOf(await readFile(path)).frames[i]!;
    const file = await readFile(path);
    const frame = openChunk(unlocked.payloadKey, i, file[at.offset + 16] === 1, file.subarray(at.offset + 28, at.offset + at.length - 4))!;
    assert.ok(frame, 'the frame authenticates: only the frame rules stand in the way');
    const problem = frameProblem(frame, file.readUIntBE(at.offset + 17, 3));
    if (spec.refusedBy.startsWith('zstd') || spec.refusedBy.startsWith('nothing')) assert.equal(problem, null, 'the frame rules pass it');
    else assert.equal(problem, spec.refusedBy.replace(/ \(.*$/, ''), 'refused by the frame rules');
    // Without the key the frame's checksums hold: check finds nothing lost.
    const unkeyed = await checkFile(path);
    assert.equal(unkeyed.damagedChunks, 0);
    const keyed = await checkFile(path, { password: VECTOR_PASSWORD });
    assert.deepEqual(keyed.damagedRanges, spec.lostChunks.map((c) => [c, c]), 'check with the password finds the chunk');
  });
}
