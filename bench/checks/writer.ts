/**
 * npx tsx bench/checks/writer.ts
 *
 * The encrypting writer cuts whole chunks out of its input buffers without
 * copying and copies only the chunk that straddles two of them. Property
 * check: for random plaintexts written as random mixes of small and large
 * buffers (as the tar stream does: 512-byte headers, multi-chunk bodies),
 * the file decrypts to the same plaintext, every chunk but the last is full,
 * and only the last carries the final flag.
 */
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { chunkFrameHead, createEncryptingWriter } from '../../src/format/writer.js';
import { decryptFrames, locateHeader, newDamageReport, unlockBackup } from '../../src/format/reader.js';
import { encodeChunkFrame, scanFrames } from '../../src/format/chunks.js';
import { fileTagOf } from '../../src/format/header.js';
import { createSealedKey, FAST_TEST_KDF, sealChunk } from '../../src/keys/crypto.js';

const key = await createSealedKey('pw', FAST_TEST_KDF);
const dir = await mkdtemp(join(tmpdir(), 'lr-writer-'));
let n = 0;

async function roundTrip(plaintext: Buffer, cuts: number[], chunkSize: number): Promise<void> {
  const w = createEncryptingWriter({ database: 'db', serverVersion: 'x', producerVersion: 'check', admin: { userNum: 1, userName: 'a', lastLoginAt: null }, key, chunkSize });
  const parts: Buffer[] = [];
  let at = 0;
  for (const c of cuts) {
    if (at >= plaintext.length) break;
    parts.push(plaintext.subarray(at, Math.min(plaintext.length, at + c)));
    at += c;
  }
  if (at < plaintext.length) parts.push(plaintext.subarray(at));
  const path = join(dir, `f${n++}.lrb`);
  await pipeline(Readable.from(parts), w.stream, createWriteStream(path));

  const located = await locateHeader(path);
  const unlocked = await unlockBackup(located, 'pw');
  assert.ok(unlocked);
  const file = await readFile(path);
  const damage = newDamageReport(false);
  const frames = scanFrames(Readable.from([file.subarray(located.payloadOffset)]), { fileTag: fileTagOf(located.header), chunkSize, startOffset: located.payloadOffset, stopAtFinal: true });
  const got: Buffer[] = [];
  for await (const s of decryptFrames(frames, unlocked.payloadKey, chunkSize, damage)) {
    assert.ok(s.data, 'no holes');
    got.push(s.data);
  }
  assert.equal(damage.damagedChunks, 0);
  assert.equal(damage.truncated, false);
  assert.ok(Buffer.concat(got).equals(plaintext));
  assert.equal(w.stats.chunks, Math.max(1, Math.ceil(plaintext.length / chunkSize)));
  for (let i = 0; i < got.length - 1; i++) assert.equal(got[i].length, chunkSize, 'every chunk but the last is full');
  await rm(path);
}

// The writer pushes each frame as head | ciphertext | tag + crc: the same bytes as encodeChunkFrame of sealChunk.
{
  const payloadKey = Buffer.alloc(32, 7);
  const fileTag = Buffer.from([1, 2, 3, 4]);
  for (const [index, final, size] of [[0, false, 65536], [1, true, 0], [2 ** 32 + 5, true, 17], [2 ** 40, false, 1024]] as const) {
    const plaintext = Buffer.alloc(size, 0x5a);
    const expected = encodeChunkFrame(fileTag, index, final, sealChunk(payloadKey, index, final, plaintext));
    assert.ok(expected.subarray(0, 28).equals(chunkFrameHead(fileTag, index, final, size + 16)), 'frame head as chunks.ts writes it');
  }
}

const cut = fc.oneof(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 20_000 }), fc.constant(512));
await fc.assert(
  fc.asyncProperty(fc.integer({ min: 0, max: 50_000 }), fc.array(cut, { maxLength: 60 }), fc.constantFrom(1024, 4096, 65536), async (size, cuts, chunkSize) => {
    const plaintext = Buffer.alloc(size);
    for (let i = 0; i < size; i++) plaintext[i] = (i * 31 + (i >> 8)) & 0xff;
    await roundTrip(plaintext, cuts, chunkSize);
  }),
  { numRuns: 400 },
);
await rm(dir, { recursive: true, force: true });
console.log('encrypting writer: every mix of input sizes decrypts to the same plaintext, chunks cut the same way');
