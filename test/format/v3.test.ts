/**
 * Format version 3 on its own: each chunk's span a zstd frame, then sealed.
 * Round trips written and read whole, byte by byte and in odd 321-byte
 * slices, of compressible and incompressible payloads; the frames' variable
 * lengths; random access through the index frame; a lost index falling back
 * to reading in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createEncryptingWriter, type WriterStats } from '../../src/format/writer.js';
import { decryptFrames, locateHeader, newDamageReport, readPayload, shapeOf, unlockBackup, type Segment } from '../../src/format/reader.js';
import { scanFrames } from '../../src/format/chunks.js';
import { fileTagOf } from '../../src/format/header.js';
import { PayloadReader } from '../../src/format/random-access.js';
import { createSealedKey, FAST_TEST_KDF, newSigningKey, type SealedKey } from '../../src/keys/crypto.js';
import { CHUNK_HEAD_BYTES, magicLineOf, TRAILER_BYTES } from '../../src/format/limits.js';
import { tempDir } from '../helpers/files.js';

const SIGNING_KEY = newSigningKey();
const SPAN = 1024;
let key: SealedKey;
let dir: string;

type Feed = 'whole' | 'bytes' | 'odd';

function* slices(buf: Buffer, feed: Feed): Generator<Buffer> {
  const step = feed === 'whole' ? Math.max(1, buf.length) : feed === 'bytes' ? 1 : 321;
  for (let at = 0; at < buf.length; at += step) yield buf.subarray(at, at + step);
}

async function writeV3(plaintext: Buffer, feed: Feed, name: string): Promise<{ path: string; stats: WriterStats }> {
  key ??= await createSealedKey('pw', SIGNING_KEY.publicKey, FAST_TEST_KDF);
  dir ??= await tempDir();
  const w = createEncryptingWriter({ database: 'db', serverVersion: 'x', producerVersion: 'test', admin: { userNum: 1, userName: 'jsmith', lastLoginAt: null }, key, signingKey: SIGNING_KEY, chunkSize: SPAN, formatVersion: 3 });
  const path = join(dir, name);
  await pipeline(Readable.from(slices(plaintext, feed)), w.stream, createWriteStream(path));
  return { path, stats: w.stats };
}

async function readBack(path: string, feed: Feed): Promise<{ plain: Buffer; damage: ReturnType<typeof newDamageReport> }> {
  const located = await locateHeader(path);
  const unlocked = await unlockBackup(located, 'pw');
  assert.ok(unlocked);
  const payload = (await readFile(path)).subarray(located.payloadOffset);
  const damage = newDamageReport(false);
  const frames = scanFrames(Readable.from(slices(payload, feed)), { fileTag: fileTagOf(located.header), chunkSize: located.header.chunkSize, startOffset: located.payloadOffset, version: 3 });
  const segments: Segment[] = [];
  for await (const s of decryptFrames(frames, unlocked.payloadKey, shapeOf(located), damage)) segments.push(s);
  return { plain: Buffer.concat(segments.map((s) => s.data ?? Buffer.alloc(s.hole!))), damage };
}

/** Rows of text as a dump makes them: they compress several times. */
export function textPayload(size: number): Buffer {
  const rows: string[] = [];
  for (let i = 0, n = 0; n < size; i++) {
    const row = `${i}\tSmith\tJohn\t19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}\tnote for patient ${i % 97}\t\\N\n`;
    rows.push(row);
    n += row.length;
  }
  return Buffer.from(rows.join('')).subarray(0, size);
}

for (const size of [0, 1, SPAN - 1, SPAN, SPAN + 1, 3 * SPAN, 3 * SPAN + 17]) {
  test(`version 3 round trip of ${size} bytes, text and random, written and read whole, byte by byte and in 321-byte slices`, async () => {
    for (const [kind, plaintext] of [['text', textPayload(size)], ['random', randomBytes(size)]] as const) {
      for (const writeFeed of ['whole', 'bytes', 'odd'] as const) {
        const { path, stats } = await writeV3(plaintext, writeFeed, `v3-${size}-${kind}-${writeFeed}.lrb`);
        const file = await readFile(path);
        assert.ok(file.subarray(0, 21).equals(Buffer.from(magicLineOf(3))));
        assert.equal(stats.plaintextBytes, size);
        for (const readFeed of ['whole', 'bytes', 'odd'] as const) {
          const { plain, damage } = await readBack(path, readFeed);
          assert.ok(plain.equals(plaintext), `${kind}: plaintext differs (write ${writeFeed}, read ${readFeed})`);
          assert.equal(damage.damagedChunks, 0);
          assert.equal(damage.truncated, false);
          assert.equal(damage.strayBytes, 0);
          assert.equal(damage.chunks, Math.max(1, Math.ceil(size / SPAN)));
        }
      }
    }
  });
}

test('version 3 compresses text chunk by chunk: frames of their own lengths, the span in each head, the header names zstd', async () => {
  const plaintext = textPayload(40 * SPAN);
  const { path, stats } = await writeV3(plaintext, 'whole', 'v3-text.lrb');
  const located = await locateHeader(path);
  assert.equal(located.header.formatVersion, 3);
  assert.deepEqual(located.header.compression, { algorithm: 'zstd', level: 3 });
  assert.ok(stats.compressedBytes * 2 < stats.plaintextBytes, `compressed ${stats.compressedBytes} of ${stats.plaintextBytes}`);
  assert.ok(stats.fileBytes < plaintext.length, 'the file is smaller than the payload');
  const file = await readFile(path);
  const lengths = new Set<number>();
  let at = located.payloadOffset;
  for (let i = 0; i < stats.chunks; i++) {
    assert.equal(file.toString('latin1', at, at + 4), 'LRCK');
    assert.equal(file.readUInt32BE(at + 12), i);
    assert.equal(file.readUIntBE(at + 17, 3), i < stats.chunks - 1 ? SPAN : plaintext.length - i * SPAN, 'span in bytes 17..19');
    const length = CHUNK_HEAD_BYTES + file.readUInt32BE(at + 20) + 4;
    lengths.add(length);
    at += length;
  }
  assert.ok(lengths.size > 1, 'frames have the lengths zstd gave them');
  assert.equal(file.toString('latin1', at, at + 4), 'LRIX', 'the index frame follows the final chunk');
  assert.equal(at + file.readUInt32BE(at + 12) + 28 + located.frame.frameLength + TRAILER_BYTES, file.length);
});

test('version 3 random access: the index maps every chunk, whole reads and spans give the payload', async () => {
  const plaintext = textPayload(37 * SPAN + 333);
  const { path } = await writeV3(plaintext, 'odd', 'v3-random-access.lrb');
  const unlocked = (await unlockBackup(await locateHeader(path), 'pw'))!;
  const reader = await PayloadReader.open(unlocked);
  try {
    for (const [offset, length] of [[0, 10], [SPAN - 5, 10], [5 * SPAN, 3 * SPAN + 7], [plaintext.length - 100, 100], [0, plaintext.length]] as const) {
      const got = await reader.read(offset, length);
      assert.ok(got?.equals(plaintext.subarray(offset, offset + length)), `read(${offset}, ${length})`);
    }
    const damage = newDamageReport(false);
    const parts: Buffer[] = [];
    for await (const s of reader.spans([{ start: 100, end: 9 * SPAN }, { start: 20 * SPAN + 1, end: plaintext.length }], damage)) parts.push(s.data!);
    assert.ok(Buffer.concat(parts).equals(Buffer.concat([plaintext.subarray(100, 9 * SPAN), plaintext.subarray(20 * SPAN + 1)])));
    assert.equal(damage.damagedChunks, 0);
  } finally {
    await reader.close();
  }
});

test('version 3 with its index frame damaged: random access finds nothing, reading in order loses nothing', async () => {
  const plaintext = textPayload(12 * SPAN);
  const { path } = await writeV3(plaintext, 'whole', 'v3-index-damaged.lrb');
  const file = await readFile(path);
  const at = file.indexOf('LRIX', 0, 'latin1');
  file[at + 30] ^= 0x40; // inside the sealed index
  const damaged = join(dir, 'v3-index-damaged-2.lrb');
  await writeFile(damaged, file);
  const unlocked = (await unlockBackup(await locateHeader(damaged), 'pw'))!;
  const reader = await PayloadReader.open(unlocked);
  try {
    assert.equal(await reader.read(0, 10), null, 'no place is known without the index');
  } finally {
    await reader.close();
  }
  const { segments, damage } = readPayload(unlocked);
  const parts: Buffer[] = [];
  for await (const s of segments) parts.push(s.data!);
  assert.ok(Buffer.concat(parts).equals(plaintext));
  assert.equal(damage.damagedChunks, 0);
});
