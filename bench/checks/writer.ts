/**
 * npx tsx bench/checks/writer.ts
 *
 * The encrypting writer cuts whole chunks out of its input buffers without
 * copying and copies only the chunk that straddles two of them. Property
 * check: for random plaintexts written as random mixes of small and large
 * buffers (as the tar stream does: 512-byte headers, multi-chunk bodies),
 * the file decrypts to the same plaintext, every chunk but the last is full,
 * and only the last carries the final flag; and the frames, which the writer
 * pushes as head | ciphertext | tag + crc, are byte for byte what
 * encodeChunkFrame makes of sealChunk.
 */
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { createEncryptingWriter } from '../../src/format/writer.js';
import { decryptFrames, locateHeader, newDamageReport, shapeOf, unlockBackup } from '../../src/format/reader.js';
import { encodeChunkFrame, scanFrames } from '../../src/format/chunks.js';
import { fileTagOf } from '../../src/format/header.js';
import { createSealedKey, FAST_TEST_KDF, newSigningKey, sealChunk } from '../../src/keys/crypto.js';

/** The producer key these files are signed with (a real producer keeps its own in a root-only file). */
const SIGNING_KEY = newSigningKey();

const key = await createSealedKey('pw', SIGNING_KEY.publicKey, FAST_TEST_KDF);
const dir = await mkdtemp(join(tmpdir(), 'lr-writer-'));
let n = 0;

async function roundTrip(plaintext: Buffer, cuts: number[], chunkSize: number): Promise<void> {
  const w = createEncryptingWriter({ database: 'db', serverVersion: 'x', producerVersion: 'check', admin: { userNum: 1, userName: 'a', lastLoginAt: null }, key, signingKey: SIGNING_KEY, chunkSize });
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
  const frames = scanFrames(Readable.from([file.subarray(located.payloadOffset)]), { fileTag: fileTagOf(located.header), chunkSize, startOffset: located.payloadOffset });
  const got: Buffer[] = [];
  for await (const s of decryptFrames(frames, unlocked.payloadKey, shapeOf(located), damage)) {
    assert.ok(s.data, 'no holes');
    got.push(s.data);
  }
  assert.equal(damage.damagedChunks, 0);
  assert.equal(damage.truncated, false);
  assert.ok(Buffer.concat(got).equals(plaintext));
  assert.equal(w.stats.chunks, Math.max(1, Math.ceil(plaintext.length / chunkSize)));
  for (let i = 0; i < got.length - 1; i++) assert.equal(got[i].length, chunkSize, 'every chunk but the last is full');
  const fileTag = fileTagOf(located.header);
  const count = w.stats.chunks;
  const expected = Buffer.concat(Array.from({ length: count }, (_, i) => encodeChunkFrame(fileTag, i, i === count - 1, sealChunk(unlocked.payloadKey, i, i === count - 1, plaintext.subarray(i * chunkSize, (i + 1) * chunkSize)))));
  assert.ok(file.subarray(located.payloadOffset, located.payloadOffset + expected.length).equals(expected), 'frames as chunks.ts writes them');
  await rm(path);
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
