/**
 * The sizes identify, check and backup give (issue 21): the file, the
 * payload's compressed chunks and the payload uncompressed, with the ratio,
 * in words and in --json; exact when every chunk head was counted, said to
 * be estimated when damage or a cut left some out. The truth is the
 * writer's own count (WriterStats) and the vectors' known plaintext.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createSealedKey, FAST_TEST_KDF, newSigningKey } from '../../src/keys/crypto.js';
import { createEncryptingWriter, type WriterStats } from '../../src/format/writer.js';
import { identify } from '../../src/identify/identify.js';
import { checkFile } from '../../src/identify/check.js';
import { runCli } from '../helpers/cli.js';
import { backupOf, makeSource, PASSWORD, tempDir } from '../helpers/backup.js';
import { dropTempDatabases, dsnFor } from '../helpers/db.js';
import { withWriteVersion } from '../damage/good-backup.js';
import { VECTOR_PASSWORD, vectorPlaintext, vectorTextPlaintext } from '../vectors/plaintext.js';

async function passwordFileWith(password: string): Promise<string> {
  const path = join(await tempDir('lr-sizes-pw-'), 'pw.txt');
  await writeFile(path, password + '\n');
  return path;
}

const vector = (file: string) => new URL(`../vectors/${file}`, import.meta.url).pathname;

after(async () => {
  await dropTempDatabases();
});

/** A file of `payload` in `version`, and the writer's own count of it. */
async function written(payload: Buffer, version: number, dir: string): Promise<{ path: string; stats: WriterStats }> {
  const signingKey = newSigningKey();
  const key = await createSealedKey('pw', signingKey.publicKey, FAST_TEST_KDF);
  const w = createEncryptingWriter({ database: 'db', serverVersion: 'x', producerVersion: 'test', admin: { userNum: 1, userName: 'jsmith', lastLoginAt: null }, key, signingKey, chunkSize: 4096, formatVersion: version });
  const path = join(dir, `sizes-v${version}.lrb`);
  const out: Buffer[] = [];
  await pipeline(Readable.from([payload]), w.stream, async function* (src: AsyncIterable<Buffer>) {
    for await (const b of src) out.push(b);
  });
  await writeFile(path, Buffer.concat(out));
  return { path, stats: w.stats };
}

for (const version of [2, 3]) {
  test(`version ${version}: identify and check give the writer's sizes exactly, with the ratio`, async () => {
    const dir = await tempDir('lr-sizes-');
    const payload = Buffer.from('INSERT INTO patient VALUES (1, "Smith", "John", "1 Main Street");\n'.repeat(3000));
    const { path, stats } = await written(payload, version, dir);
    const want = { fileBytes: stats.fileBytes, compressedBytes: stats.compressedBytes, uncompressedBytes: stats.plaintextBytes, compressed: version === 3, exact: true };
    const id = await identify(path);
    assert.ok(id.sizes);
    assert.deepEqual({ fileBytes: id.sizes.fileBytes, compressedBytes: id.sizes.compressedBytes, uncompressedBytes: id.sizes.uncompressedBytes, compressed: id.sizes.compressed, exact: id.sizes.exact }, want);
    assert.equal(id.sizes.ratio, Math.round((payload.length / stats.fileBytes) * 100) / 100);
    assert.equal(id.sizes.chunksCounted, stats.chunks);
    if (version === 3) assert.ok(id.sizes.ratio > 10, `repeated text compresses (ratio ${id.sizes.ratio})`);
    else assert.equal(stats.compressedBytes, stats.plaintextBytes);
    for (const password of [undefined, 'pw']) {
      const c = await checkFile(path, { password });
      assert.ok(c.sizes);
      assert.equal(c.sizes.compressedBytes, stats.compressedBytes, `check (password ${password !== undefined})`);
      assert.equal(c.sizes.uncompressedBytes, stats.plaintextBytes);
      assert.equal(c.sizes.exact, true);
      assert.match(c.sizes.basis, password ? /^authenticated with the password/ : /not authenticated without the password/);
    }
    const human = await runCli(['identify', path]);
    assert.equal(human.code, 0, human.stderr);
    if (version === 3) assert.match(human.stdout, /^Size: .* file holding .* of data uncompressed \([\d.]+ times smaller, zstd; .* of compressed chunks\)\. Exact, counted from each chunk's head/m);
    else assert.match(human.stdout, /^Size: .* file, not compressed \(format version 2\), holding .* of data\. Exact/m);
    const json = JSON.parse((await runCli(['identify', path, '--json'])).stdout);
    assert.equal(json.sizes.uncompressedBytes, stats.plaintextBytes);
    assert.equal(json.sizes.compressedBytes, stats.compressedBytes);
    assert.equal(json.sizes.ratio, id.sizes.ratio);
    const checked = await runCli(['check', path, '--json']);
    assert.equal(checked.code, 0, checked.stderr);
    assert.equal(JSON.parse(checked.stdout).sizes.uncompressedBytes, stats.plaintextBytes);
    assert.match((await runCli(['check', path])).stdout, /^Size: .*Exact/m);
  });
}

test('damaged and cut files: the sizes say they are estimated, and what is known stays exact', async () => {
  // Version 3 vectors: 20,000 bytes of text in 20 spans of 1 KiB; flip-5 destroys 5 chunks' bodies, their heads stay.
  const text = vectorTextPlaintext();
  const flipped = vector('v3/flip-5.lrb');
  const id = await identify(flipped);
  assert.equal(id.sizes!.exact, true, 'identify reads only the heads, which are whole');
  assert.equal(id.sizes!.uncompressedBytes, text.length);
  const c = await checkFile(flipped);
  assert.equal(c.sizes!.exact, false);
  assert.equal(c.sizes!.chunksEstimated, 5);
  assert.equal(c.sizes!.uncompressedBytes, text.length, 'lost chunks are full spans: their uncompressed length is known');
  const words = await runCli(['check', flipped]);
  assert.equal(words.code, 3);
  assert.match(words.stdout, /^Size: .* holding about .* uncompressed \(about [\d.]+ times smaller.*Estimated: 5 chunks could not be counted \(damage\), taken at the ratio of the 15 counted\./m);
  // Cut short: only what is before the cut is counted, in check and identify.
  for (const cut of ['v3/truncate-random.lrb', 'truncate-random.lrb']) {
    const r = await checkFile(vector(cut));
    assert.equal(r.sizes!.cut, true, cut);
    assert.equal(r.sizes!.exact, false);
    assert.ok(r.sizes!.uncompressedBytes < (cut.startsWith('v3') ? text : vectorPlaintext()).length);
    assert.match((await runCli(['check', vector(cut)])).stdout, /The file is cut short: only what is before the cut is counted/);
    assert.equal((await identify(vector(cut))).sizes!.exact, false, `identify of ${cut}`);
  }
  // With the password, the chunks authentication lost are estimated too.
  const keyed = await checkFile(vector('v3/flip-5.lrb'), { password: VECTOR_PASSWORD });
  assert.deepEqual([keyed.sizes!.exact, keyed.sizes!.chunksEstimated, keyed.sizes!.chunksCounted, keyed.sizes!.uncompressedBytes], [false, 5, 15, text.length]);
  assert.match((await runCli(['check', flipped, '--password-file', await passwordFileWith(VECTOR_PASSWORD)])).stdout, /^Size: .*Estimated: 5 chunks could not be counted/m);
});

for (const engine of ['InnoDB', 'MyISAM'] as const) {
  test(`${engine}: backup --json gives both sizes and the ratio, as identify counts them; version 2 on request`, async () => {
    const source = await makeSource({ patients: 40, prefix: `lrsz_${engine.toLowerCase()}`, engine });
    const dir = await tempDir('lr-sizes-b-');
    const r = await runCli(['backup', '--source', dsnFor(source), '--out', dir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { file: string; bytes: number; uncompressedBytes: number; compressedBytes: number; ratio: number };
    const id = await identify(out.file);
    assert.equal(id.formatVersion, 3);
    assert.deepEqual([out.bytes, out.compressedBytes, out.uncompressedBytes, out.ratio], [id.sizes!.fileBytes, id.sizes!.compressedBytes, id.sizes!.uncompressedBytes, id.sizes!.ratio]);
    assert.ok(out.compressedBytes < out.uncompressedBytes, 'the rows compress');
    assert.equal((await checkFile(out.file, { password: PASSWORD })).sizes!.uncompressedBytes, out.uncompressedBytes);
    // The same database in version 2: nothing compressed, the file larger.
    const v2Dir = await tempDir('lr-sizes-v2-');
    const v2 = await withWriteVersion(2, () => backupOf(source, v2Dir));
    assert.equal((await identify(v2.file)).formatVersion, 2);
    assert.equal(v2.compressedBytes, v2.uncompressedBytes);
    assert.ok(v2.bytes > out.bytes, `version 2 ${v2.bytes} bytes, version 3 ${out.bytes}`);
  });
}
