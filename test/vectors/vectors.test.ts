/**
 * Every vector in this folder (see README.md and vectors.json) fed to the
 * reader whole, byte by byte, and in odd 321-byte slices: scanFrames must
 * yield the same frames and decryptFrames the same segments and damage
 * report every way. Then the result is judged against how the vector was
 * made: data only where the plaintext is, byte for byte; holes exactly at
 * the chunks the damage destroyed. `check` without the password (the same
 * walker judging by checksums) must find the same chunks lost, the copy
 * verification must call only the good file whole, and the real `decrypt`
 * command must write exactly the plaintext, lost chunks as zeros, and never
 * more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { scanFrames } from '../../src/format/chunks.js';
import { decryptFrames, locateHeader, newDamageReport } from '../../src/format/reader.js';
import { tempDir } from '../helpers/files.js';
import { fileTagOf } from '../../src/format/header.js';
import { isLrError } from '../../src/errors.js';
import { LIMITS } from '../../src/format/limits.js';
import { VECTOR_CHUNK_SIZE, vectorPlaintext } from './plaintext.js';
import { collect, vectorTests } from './suite.js';

const pathOf = (file: string) => fileURLToPath(new URL(file, import.meta.url));

vectorTests({ folder: new URL('./', import.meta.url), plaintext: vectorPlaintext(), chunkSize: VECTOR_CHUNK_SIZE });

test('back-to-back frame heads (hostile): bounded time and memory, and none of them moves the position', { timeout: 120_000 }, async () => {
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
  const segments = await collect(decryptFrames(scanFrames(source(), { fileTag: tag, chunkSize: cs, startOffset: 0 }), Buffer.alloc(32), { chunkSize: cs, fileBytes: heads * 28 }, damage));
  // Every head is a frame cut short by the next one: never accepted, so no data, no hole, no end.
  assert.deepEqual(segments, []);
  assert.equal(damage.damagedChunks, 0);
  assert.equal(damage.chunks, 0);
  assert.equal(damage.truncated, true);
  // Heads in the last chunk-length of the input cannot be whole frames: they are stray bytes.
  assert.ok(damage.strayBytes > 0);
  assert.ok(Date.now() - started < 60_000, `took ${Date.now() - started} ms`);
  assert.ok(peak - before < 64 << 20, `memory grew by ${peak - before} bytes`);
});

test('trailers everywhere (hostile): the search back for the header copy gives up quickly', { timeout: 60_000 }, async () => {
  // The first header copy zeroed, then 200,000 trailers whose checksums hold, each claiming a 64 KiB header copy that is not there.
  const good = await readFile(pathOf('zero-first-header.lrb'));
  const trailer = Buffer.alloc(16);
  trailer.write('LRTRAILR', 0, 'latin1');
  trailer.writeUInt32BE(65_000, 8);
  trailer.writeUInt32BE(crc32(trailer.subarray(0, 12)), 12);
  const dir = await tempDir('lr-vectors-');
  const file = join(dir, 'trailers.lrb');
  try {
    await writeFile(file, Buffer.concat([good.subarray(0, 2000), Buffer.alloc(65_000), ...Array.from({ length: 200_000 }, () => trailer)]));
    const started = Date.now();
    await assert.rejects(locateHeader(file), (err: unknown) => isLrError(err, 'LR_HEADER_DAMAGED'));
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
