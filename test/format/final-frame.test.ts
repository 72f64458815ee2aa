/**
 * A damaged final chunk frame in a file whole in length (docs/format.md,
 * "Reading with damage"): every byte of a small final frame flipped in turn,
 * in both versions. A flip in the head leaves no frame for the scanner, yet
 * the intact end (header copy and trailer; in version 3 the index frame's
 * head) proves the file is not cut: the final chunk is lost, with its exact
 * index and length, and `truncated` stays false, with and without the key.
 * A file cut inside that frame, or one whose end is damaged too, is still
 * cut short.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createEncryptingWriter } from '../../src/format/writer.js';
import { locateHeader, newDamageReport, payloadFrames, readPayload, unlockBackup, type DamageReport } from '../../src/format/reader.js';
import { checkFile } from '../../src/identify/check.js';
import { createSealedKey, FAST_TEST_KDF, newSigningKey, type SealedKey } from '../../src/keys/crypto.js';
import { TRAILER_BYTES } from '../../src/format/limits.js';
import { tempDir } from '../helpers/files.js';

const SIGNING_KEY = newSigningKey();
const SPAN = 1024;
const CHUNKS = 6;
const FINAL_BYTES = 37;
let key: SealedKey;

/** Rows of text, so version 3's frames shrink: the final one stays small. */
function textPayload(size: number): Buffer {
  const rows: string[] = [];
  for (let i = 0; rows.join('').length < size; i++) rows.push(`${i}\tpatient ${i % 97}\t2026-01-${String((i % 28) + 1).padStart(2, '0')}\n`);
  return Buffer.from(rows.join('')).subarray(0, size);
}
let dir: string;

async function write(version: 2 | 3, name: string): Promise<{ path: string; bytes: Buffer; final: { offset: number; length: number } }> {
  key ??= await createSealedKey('pw', SIGNING_KEY.publicKey, FAST_TEST_KDF);
  dir ??= await tempDir();
  const w = createEncryptingWriter({ database: 'db', serverVersion: 'x', producerVersion: 'test', admin: { userNum: 1, userName: 'jsmith', lastLoginAt: null }, key, signingKey: SIGNING_KEY, chunkSize: SPAN, formatVersion: version });
  const path = join(dir, name);
  await pipeline(Readable.from([textPayload((CHUNKS - 1) * SPAN + FINAL_BYTES)]), w.stream, createWriteStream(path));
  let final: { offset: number; length: number } | null = null;
  for await (const ev of payloadFrames(await locateHeader(path))) if (ev.type === 'frame' && ev.final) final = { offset: ev.fileOffset, length: ev.frameLength };
  assert.ok(final && final.length < 100, 'a small final frame');
  return { path, bytes: await readFile(path), final };
}

async function readWithKey(path: string, whole = true): Promise<DamageReport> {
  const unlocked = await unlockBackup(await locateHeader(path), 'pw');
  assert.ok(unlocked);
  const { segments, damage } = readPayload(unlocked, newDamageReport(false));
  let bytes = 0;
  for await (const s of segments) bytes += s.data?.length ?? s.hole!;
  if (whole) assert.equal(bytes, (CHUNKS - 1) * SPAN + FINAL_BYTES, 'the payload keeps its length, the lost final chunk as a hole');
  return damage;
}

for (const version of [2, 3] as const) {
  test(`version ${version}: each byte of a small final frame flipped: the final chunk is damaged, the file not cut short`, async () => {
    const { bytes, final } = await write(version, `final-${version}.lrb`);
    const damaged = join(dir, `final-${version}-flipped.lrb`);
    for (let at = final.offset; at < final.offset + final.length; at++) {
      const copy = Buffer.from(bytes);
      copy[at] = copy[at]! ^ 0x5a;
      await writeFile(damaged, copy);
      const where = `byte ${at - final.offset} of ${final.length}`;
      const d = await readWithKey(damaged);
      assert.equal(d.truncated, false, `${where}: not cut short`);
      assert.equal(d.chunks, CHUNKS, `${where}: chunks`);
      const inBodyChecksum = at >= final.offset + final.length - 4;
      // With the key, the body checksum plays no part: a flip there loses nothing.
      assert.deepEqual(d.damagedRanges, inBodyChecksum ? [] : [[CHUNKS - 1, CHUNKS - 1]], `${where}: the final chunk is lost`);
      assert.equal(d.bytesLost, inBodyChecksum ? 0 : FINAL_BYTES, `${where}: bytes lost`);
      const c = await checkFile(damaged);
      assert.equal(c.truncated, false, `${where}: check: not cut short`);
      assert.equal(c.chunks, CHUNKS, `${where}: check: chunks`);
      assert.deepEqual(c.damagedRanges, inBodyChecksum ? [] : [[CHUNKS - 1, CHUNKS - 1]], `${where}: check: the final chunk is lost`);
    }
  });

  test(`version ${version}: cut inside the final frame, or its head flipped with the trailer damaged too, the file is cut short`, async () => {
    const { bytes, final } = await write(version, `final-cut-${version}.lrb`);
    const cut = join(dir, `final-cut-${version}-cut.lrb`);
    await writeFile(cut, bytes.subarray(0, final.offset + Math.floor(final.length / 2)));
    // The header comes from the first copy: the cut file still opens.
    assert.equal((await readWithKey(cut, false)).truncated, true, 'cut inside the final frame');
    assert.equal((await checkFile(cut)).truncated, true, 'check: cut inside the final frame');

    const both = Buffer.from(bytes);
    both[final.offset + 10] = both[final.offset + 10]! ^ 0x5a;
    both[both.length - TRAILER_BYTES + 2] = both[both.length - TRAILER_BYTES + 2]! ^ 0x5a;
    const bothPath = join(dir, `final-cut-${version}-both.lrb`);
    await writeFile(bothPath, both);
    assert.equal((await readWithKey(bothPath, false)).truncated, true, 'the end proves nothing: cut short, as far as a reader can tell');
    assert.equal((await checkFile(bothPath)).truncated, true, 'check: the end proves nothing');
  });
}
