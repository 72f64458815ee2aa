/**
 * The copy check compares the copy with the fingerprint it is handed (the
 * daemon's, taken right after the backup was written) instead of reading the
 * backup again: a fingerprint of another file makes a faithful copy fail.
 * Uses the checked-in vectors (test/vectors/README.md says how they were made).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyAndVerify, fingerprintBackup } from '../../src/service/verify-copy.js';
import { isLrError } from '../../src/errors.js';

const VECTORS = join(import.meta.dirname, '..', 'vectors');
const GOOD = join(VECTORS, 'good.lrb');

test('copyAndVerify compares with the fingerprint it is given, not with a new read of the backup', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'lr-copy-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const good = await fingerprintBackup(GOOD);
  assert.equal(good.whole, true);

  const copied = await copyAndVerify(GOOD, dir, { original: good });
  assert.equal(copied.bytes, good.fileBytes);
  assert.deepEqual(await readFile(copied.file), await readFile(GOOD));
  await rm(copied.file);

  // The same file, judged against another backup's fingerprint (one byte flipped): refused and removed.
  const other = await fingerprintBackup(join(VECTORS, 'flip-1.lrb'));
  assert.notDeepEqual(other.chunkCrcs, good.chunkCrcs);
  await assert.rejects(copyAndVerify(GOOD, dir, { original: other }), (e) => isLrError(e, 'LR_IO') && /did not match the backup/.test(e.message));
  assert.deepEqual(await readdir(dir), [], 'the refused copy is removed');
});
