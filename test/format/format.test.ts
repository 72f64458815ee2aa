/**
 * The file format on its own: writer and reader round trips, fed whole, byte
 * by byte and in odd 321-byte slices; the header signature; the bounds a reader
 * enforces before acting on what a file says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { crc32 } from 'node:zlib';
import { createEncryptingWriter } from '../../src/format/writer.js';
import { decryptFrames, locateHeader, markDamaged, newDamageReport, shapeOf, unlockBackup, type Segment } from '../../src/format/reader.js';
import { scanFrames } from '../../src/format/chunks.js';
import { fileTagOf } from '../../src/format/header.js';
import { createSealedKey, FAST_TEST_KDF, newSigningKey, type SealedKey } from '../../src/keys/crypto.js';
import { isLrError } from '../../src/errors.js';
import { MAGIC_LINE } from '../../src/format/limits.js';
import { tempDir } from '../helpers/files.js';

/** The producer key these files are signed with (a real producer keeps its own in a root-only file). */
const SIGNING_KEY = newSigningKey();

const CHUNK = 1024;
let key: SealedKey;
let dir: string;

/** Every version a reader opens: version 2 files open forever, version 3 is what new backups are written in. */
const VERSIONS = [2, 3] as const;

async function writeBackup(plaintext: Buffer, feed: 'whole' | 'bytes' | 'odd', name: string, version = 3): Promise<string> {
  key ??= await createSealedKey('pw', SIGNING_KEY.publicKey, FAST_TEST_KDF);
  dir ??= await tempDir();
  const w = createEncryptingWriter({ database: 'db', serverVersion: 'x', producerVersion: 'test', admin: { userNum: 1, userName: 'jsmith', lastLoginAt: null }, key, signingKey: SIGNING_KEY, chunkSize: CHUNK, formatVersion: version });
  const path = join(dir, name);
  await pipeline(Readable.from(slices(plaintext, feed)), w.stream, createWriteStream(path));
  return path;
}

function* slices(buf: Buffer, feed: 'whole' | 'bytes' | 'odd'): Generator<Buffer> {
  const step = feed === 'whole' ? Math.max(1, buf.length) : feed === 'bytes' ? 1 : 321;
  for (let at = 0; at < buf.length; at += step) yield buf.subarray(at, at + step);
}

async function readBack(path: string, feed: 'whole' | 'bytes' | 'odd', password = 'pw'): Promise<{ plain: Buffer; damage: ReturnType<typeof newDamageReport>; segments: Segment[] }> {
  const located = await locateHeader(path);
  const unlocked = await unlockBackup(located, password);
  assert.ok(unlocked, 'the password opens the file');
  const file = await readFile(path);
  const payload = file.subarray(located.payloadOffset);
  const damage = newDamageReport(false);
  const frames = scanFrames(Readable.from(slices(payload, feed)), { fileTag: fileTagOf(located.header), chunkSize: located.header.chunkSize, startOffset: located.payloadOffset, version: located.header.formatVersion });
  const segments: Segment[] = [];
  for await (const s of decryptFrames(frames, unlocked.payloadKey, shapeOf(located), damage)) segments.push(s);
  const plain = Buffer.concat(segments.map((s) => s.data ?? Buffer.alloc(s.hole!)));
  return { plain, damage, segments };
}

for (const version of VERSIONS) for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 17]) {
  test(`version ${version}: round trip of ${size} bytes, written and read whole, byte by byte and in 321-byte slices`, async () => {
    const plaintext = randomBytes(size);
    for (const writeFeed of ['whole', 'bytes', 'odd'] as const) {
      const path = await writeBackup(plaintext, writeFeed, `rt-${version}-${size}-${writeFeed}.lrb`, version);
      for (const readFeed of ['whole', 'bytes', 'odd'] as const) {
        if (size > CHUNK * 2 && writeFeed === 'bytes' && readFeed === 'bytes') continue; // same bytes as other pairs; keeps the run short
        const { plain, damage } = await readBack(path, readFeed);
        assert.ok(plain.equals(plaintext), `plaintext differs (write ${writeFeed}, read ${readFeed})`);
        assert.equal(damage.damagedChunks, 0);
        assert.equal(damage.truncated, false);
        assert.equal(damage.chunks, Math.max(1, Math.ceil(size / CHUNK)));
      }
    }
  });
}

test('the same plaintext never gives the same file: fresh file key and file id each time', async () => {
  const plaintext = randomBytes(5000);
  const a = await readFile(await writeBackup(plaintext, 'whole', 'same-a.lrb'));
  const b = await readFile(await writeBackup(plaintext, 'whole', 'same-b.lrb'));
  assert.notDeepEqual(a, b);
  assert.ok(!a.includes(plaintext.subarray(100, 164)), 'plaintext does not appear in the file');
});

test('a wrong password opens nothing', async () => {
  const path = await writeBackup(randomBytes(100), 'whole', 'wrong.lrb');
  assert.equal(await unlockBackup(await locateHeader(path), 'not it'), null);
});

/** Rewrites the first header frame's JSON and fixes its CRC, as a careful attacker would. */
async function tamperHeader(path: string, edit: (h: Record<string, unknown>) => void, out: string): Promise<string> {
  const file = await readFile(path);
  const at = MAGIC_LINE.length;
  const len = file.readUInt32BE(at + 4);
  const json = JSON.parse(file.subarray(at + 8, at + 8 + len).toString('utf8'));
  edit(json);
  const body = Buffer.from(JSON.stringify(json), 'utf8');
  const prefix = Buffer.alloc(8);
  file.copy(prefix, 0, at, at + 4);
  prefix.writeUInt32BE(body.length, 4);
  const signature = file.subarray(at + 8 + len, at + 8 + len + 64);
  const frame = Buffer.concat([prefix, body, signature]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(frame), 0);
  const rest = file.subarray(at + 8 + len + 68);
  const outPath = join(dir, out);
  await writeFile(outPath, Buffer.concat([file.subarray(0, at), frame, crc, rest]));
  return outPath;
}

test('a header changed after writing is refused once the password is known (signature)', async () => {
  const path = await writeBackup(randomBytes(3000), 'whole', 'sig.lrb');
  const tampered = await tamperHeader(path, (h) => { h.database = 'other'; }, 'sig-tampered.lrb');
  const located = await locateHeader(tampered);
  assert.equal(located.header.database, 'other', 'anyone can read (and rewrite) the cleartext header');
  await assert.rejects(unlockBackup(located, 'pw'), (e) => isLrError(e, 'LR_NOT_AUTHENTIC'));
});

test('absurd KDF parameters, chunk sizes and versions are refused before any work', async () => {
  const path = await writeBackup(randomBytes(10), 'whole', 'bounds.lrb', 2);
  const cases: [string, (h: Record<string, any>) => void, string][] = [
    ['memory', (h) => { h.recipients[0].kdf.memoryKiB = 64 * 1024 * 1024; }, 'LR_HOSTILE_HEADER'],
    ['iterations', (h) => { h.recipients[0].kdf.iterations = 1e9; }, 'LR_HOSTILE_HEADER'],
    ['parallelism', (h) => { h.recipients[0].kdf.parallelism = 0; }, 'LR_HOSTILE_HEADER'],
    ['chunk size', (h) => { h.chunkSize = 2 ** 31; }, 'LR_HOSTILE_HEADER'],
    ['algorithm', (h) => { h.recipients[0].kdf.algorithm = 'scrypt'; }, 'LR_HOSTILE_HEADER'],
    ['recipients', (h) => { h.recipients = Array(9).fill(h.recipients[0]); }, 'LR_HOSTILE_HEADER'],
    ['version', (h) => { h.formatVersion = 4; }, 'LR_UNSUPPORTED_VERSION'],
    ['version 3 without compression', (h) => { h.formatVersion = 3; }, 'LR_HOSTILE_HEADER'],
    ['compression in version 2', (h) => { h.compression = { algorithm: 'zstd', level: 3 }; }, 'LR_HOSTILE_HEADER'],
    ['version 3 with another compression', (h) => { h.formatVersion = 3; h.compression = { algorithm: 'lz4', level: 1 }; }, 'LR_HOSTILE_HEADER'],
    ['version 1', (h) => { h.formatVersion = 1; }, 'LR_UNSUPPORTED_VERSION'],
  ];
  for (const [name, edit, code] of cases) {
    const bad = await tamperHeader(path, edit, `bounds-${name.replace(' ', '-')}.lrb`);
    await assert.rejects(locateHeader(bad), (e) => isLrError(e, code as never), name);
  }
  // The same from a version 3 file: the header's version and its compression go together.
  const v3 = await writeBackup(randomBytes(10), 'whole', 'bounds-v3.lrb', 3);
  const v3Cases: [string, (h: Record<string, any>) => void, string][] = [
    ['version 3 without compression', (h) => { delete h.compression; }, 'LR_HOSTILE_HEADER'],
    ['version 3 with another level', (h) => { h.compression = { algorithm: 'zstd', level: 'x' }; }, 'LR_HOSTILE_HEADER'],
    ['version 2 with compression', (h) => { h.formatVersion = 2; }, 'LR_HOSTILE_HEADER'],
    ['chunk size', (h) => { h.chunkSize = 2 ** 31; }, 'LR_HOSTILE_HEADER'],
  ];
  for (const [name, edit, code] of v3Cases) {
    const bad = await tamperHeader(v3, edit, `bounds-v3-${name.replaceAll(' ', '-')}.lrb`);
    await assert.rejects(locateHeader(bad), (e) => isLrError(e, code as never), `${name} (version 3 file)`);
  }
});

test('a header length beyond the bound is not read, whatever the file says', async () => {
  const path = await writeBackup(randomBytes(10), 'whole', 'len.lrb');
  const file = await readFile(path);
  file.writeUInt32BE(0xffffffff, MAGIC_LINE.length + 4);
  // Also break the trailer so no copy rescues it.
  file.fill(0, file.length - 16);
  const bad = join(dir, 'len-bad.lrb');
  await writeFile(bad, file);
  await assert.rejects(locateHeader(bad), (e) => isLrError(e, 'LR_HEADER_DAMAGED'));
});

for (const version of VERSIONS) test(`version ${version}: the header copy at the end stands in for a damaged first copy`, async () => {
  const plaintext = randomBytes(4000);
  const path = await writeBackup(plaintext, 'whole', `copy-${version}.lrb`, version);
  const file = await readFile(path);
  file.fill(0, MAGIC_LINE.length, MAGIC_LINE.length + 200);
  const bad = join(dir, `copy-bad-${version}.lrb`);
  await writeFile(bad, file);
  const located = await locateHeader(bad);
  assert.equal(located.headerCopyUsed, true);
  const { plain } = await readBack(bad, 'odd');
  assert.ok(plain.equals(plaintext));
});

test('foreign files are told apart: empty, random, text, another version', async () => {
  const cases: [string, Buffer, string][] = [
    ['empty', Buffer.alloc(0), 'LR_NOT_BACKUP'],
    ['random', randomBytes(5000), 'LR_NOT_BACKUP'],
    ['text', Buffer.from('SELECT * FROM patient;\n'.repeat(100)), 'LR_NOT_BACKUP'],
    ['future', Buffer.concat([Buffer.from('lastresort-backup v9\n'), randomBytes(100)]), 'LR_UNSUPPORTED_VERSION'],
    ['header cut short', Buffer.from('lastresort-backup v2\nLRHD'), 'LR_HEADER_DAMAGED'],
    ['version 1', Buffer.concat([Buffer.from('lastresort-backup v1\n'), randomBytes(100)]), 'LR_UNSUPPORTED_VERSION'],
  ];
  for (const [name, bytes, code] of cases) {
    const path = join(await tempDir(), `${name}.lrb`);
    await writeFile(path, bytes);
    await assert.rejects(locateHeader(path), (e) => isLrError(e, code as never), name);
  }
  await assert.rejects(locateHeader('/nonexistent/x.lrb'), (e) => isLrError(e, 'LR_NO_FILE'));
});

test('lost chunks are counted once and kept as ordered, joined ranges, in whatever order they are reported', () => {
  const inOrder = newDamageReport(false);
  for (const [a, b] of [[2, 2], [3, 4], [9, 9], [11, 12]]) markDamaged(inOrder, a, b);
  assert.deepEqual(inOrder.damagedRanges, [[2, 4], [9, 9], [11, 12]]);
  assert.equal(inOrder.damagedChunks, 6);
  // Two lanes meet the same chunks in another order, one of them twice (a chunk two spans share).
  const lanes = newDamageReport(false);
  for (const [a, b] of [[11, 11], [3, 3], [9, 9], [12, 12], [2, 2], [4, 4], [3, 3], [10, 11]]) markDamaged(lanes, a, b);
  assert.deepEqual(lanes.damagedRanges, [[2, 4], [9, 12]]);
  assert.equal(lanes.damagedChunks, 7);
});

test('passwords are used exactly as typed (UTF-8, no Unicode normalisation): a non-ASCII password opens, its NFD spelling does not', async () => {
  const password = 'Zahnärztin Müller 北京 ✓'.normalize('NFC');
  const own = await createSealedKey(password, SIGNING_KEY.publicKey, FAST_TEST_KDF);
  const w = createEncryptingWriter({ database: 'db', serverVersion: 'x', producerVersion: 'test', admin: { userNum: 1, userName: 'jsmith', lastLoginAt: null }, key: own, signingKey: SIGNING_KEY, chunkSize: CHUNK });
  dir ??= await tempDir();
  const path = join(dir, 'non-ascii.lrb');
  await pipeline(Readable.from([Buffer.from('x')]), w.stream, createWriteStream(path));
  const located = await locateHeader(path);
  assert.ok(await unlockBackup(located, password));
  assert.notEqual(password.normalize('NFD'), password);
  assert.equal(await unlockBackup(located, password.normalize('NFD')), null);
});

test('base64 in the header is standard and exact, as docs/format.md says: URL-safe letters, missing padding or junk are refused', async () => {
  const { strictBase64 } = await import('../../src/keys/crypto.js');
  const { craftBackup, rewriteHeader } = await import('../helpers/craft.js');
  const bytes = Buffer.alloc(16, 0xfb); // its base64 holds both '+' and '/'
  const standard = bytes.toString('base64');
  assert.ok(/[+/]/.test(standard));
  assert.deepEqual(strictBase64(standard), bytes);
  for (const bad of [bytes.toString('base64url'), standard.replace(/=+$/, ''), `${standard.slice(0, 4)}\n${standard.slice(4)}`, `${standard.slice(0, 4)}*${standard.slice(5)}`, `${standard.slice(0, -2)}==`.replace(/.(==)$/, 'x$1'), 42, null]) {
    assert.equal(strictBase64(bad), null, JSON.stringify(bad));
  }
  // Vectors made with the project's own writer, then the salt of the admin's KDF set (checksums recomputed):
  // the standard spelling is a header like any other, the URL-safe spelling of the same bytes is refused.
  const dir = await tempDir();
  const good = await craftBackup({ password: 'pw' });
  const setSalt = (salt: string) => rewriteHeader(good, (h) => (((h.recipients as Record<string, unknown>[])[0].kdf as Record<string, unknown>).salt = salt));
  await writeFile(join(dir, 'salt-standard.lrb'), setSalt(standard));
  await writeFile(join(dir, 'salt-urlsafe.lrb'), setSalt(bytes.toString('base64url') + '=='));
  assert.equal((await locateHeader(join(dir, 'salt-standard.lrb'))).header.formatVersion > 0, true);
  await assert.rejects(locateHeader(join(dir, 'salt-urlsafe.lrb')), (err: unknown) => isLrError(err) && err.code === 'LR_HOSTILE_HEADER');
});
