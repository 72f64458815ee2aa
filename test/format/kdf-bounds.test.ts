/**
 * The KDF parameters in a header are checked before any password is tried:
 * at most a small margin above what the producer writes (512 MiB, 8 passes,
 * 8 lanes), and never more memory than the machine has free. The vectors are
 * made here with the project's own writer, the header rewritten (checksums
 * recomputed); each has a note.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { availableMemoryBytes, checkKdfMemory, DEFAULT_KDF, FAST_TEST_KDF } from '../../src/keys/crypto.js';
import { LIMITS } from '../../src/format/limits.js';
import { isLrError } from '../../src/errors.js';
import { PASSWORD, passwordFile, tempDir } from '../helpers/files.js';
import { craftBackup, rewriteHeader } from '../helpers/craft.js';
import { runCli } from '../helpers/cli.js';

interface KdfVector {
  name: string;
  note: string;
  kdf: Partial<{ memoryKiB: number; iterations: number; parallelism: number }>;
}

const OVER: KdfVector[] = [
  { name: 'memory-over.lrb', note: 'memoryKiB one KiB above 512 MiB', kdf: { memoryKiB: 512 * 1024 + 1 } },
  { name: 'memory-1gib.lrb', note: 'memoryKiB 1 GiB (the former bound, about 30 s an attempt)', kdf: { memoryKiB: 1024 * 1024 } },
  { name: 'iterations-over.lrb', note: 'iterations 9', kdf: { iterations: 9 } },
  { name: 'parallelism-over.lrb', note: 'parallelism 9', kdf: { parallelism: 9 } },
  { name: 'former-maximum.lrb', note: '1 GiB, 16 passes, 16 lanes: everything the former bounds allowed', kdf: { memoryKiB: 1024 * 1024, iterations: 16, parallelism: 16 } },
];
const AT_BOUND: KdfVector = { name: 'at-bound.lrb', note: '512 MiB, 8 passes, 8 lanes: the most a reader accepts', kdf: { memoryKiB: 512 * 1024, iterations: 8, parallelism: 8 } };

let dir: string;
let pwFile: string;
let good: Buffer;

before(async () => {
  dir = await tempDir();
  pwFile = await passwordFile(dir);
  good = await craftBackup({ password: PASSWORD });
});

async function vector(v: KdfVector): Promise<string> {
  const path = join(dir, v.name);
  await writeFile(path, rewriteHeader(good, (h) => Object.assign((h.recipients as Record<string, unknown>[])[0].kdf as Record<string, unknown>, v.kdf)));
  return path;
}

test('the bounds are what the producer writes plus a small margin', () => {
  assert.ok(DEFAULT_KDF.memoryKiB <= LIMITS.kdfMemoryKiBMax && LIMITS.kdfMemoryKiBMax <= 2 * DEFAULT_KDF.memoryKiB);
  assert.ok(DEFAULT_KDF.iterations <= LIMITS.kdfIterationsMax && LIMITS.kdfIterationsMax <= 3 * DEFAULT_KDF.iterations);
  assert.ok(DEFAULT_KDF.parallelism <= LIMITS.kdfParallelismMax && LIMITS.kdfParallelismMax <= 8);
});

test('a header over any bound is refused before a password is asked for or tried (exit 5)', async () => {
  for (const v of OVER) {
    const path = await vector(v);
    const identify = await runCli(['identify', path]);
    assert.equal(identify.code, 5, `${v.note}: ${identify.stderr}`);
    assert.match(identify.stderr, /unreasonable key derivation/);
    // No password file and no terminal: had it got as far as asking, this would be a usage error (exit 2).
    const started = Date.now();
    const decrypt = await runCli(['decrypt', path, '--out', join(dir, `${v.name}.tar`)]);
    assert.equal(decrypt.code, 5, `${v.note}: ${decrypt.stderr}`);
    const restore = await runCli(['restore', path, '--target', 'mysql://root@127.0.0.1:3306/never_made', '--password-file', pwFile]);
    assert.equal(restore.code, 5, `${v.note}: ${restore.stderr}`);
    assert.ok(Date.now() - started < 20_000, `${v.note}: refused without deriving`);
  }
});

test('a header at the bounds is accepted (its password is then tried)', async () => {
  const path = await vector(AT_BOUND);
  const identify = await runCli(['identify', path, '--json']);
  assert.equal(identify.code, 0, identify.stderr);
  assert.deepEqual(JSON.parse(identify.stdout).kdf.memoryKiB, 512 * 1024);
  // The key was sealed with other parameters, so the derivation runs and the password does not open it.
  const decrypt = await runCli(['decrypt', path, '--out', join(dir, 'at-bound.tar'), '--password-file', pwFile]);
  assert.equal(decrypt.code, 4, decrypt.stderr);
});

test('a derivation needing more memory than is free is refused in one plain line', () => {
  const free = availableMemoryBytes();
  assert.ok(free > 0 && Number.isFinite(free));
  // What this machine has free now, plus 64 MiB: refused with the real figure.
  const tooMuch = { memoryKiB: Math.ceil(free / 1024) + 64 * 1024 };
  assert.throws(() => checkKdfMemory(tooMuch), (e: unknown) => isLrError(e, 'LR_IO') && /needs \d+ MiB of free memory.*only \d+ MiB is free/.test(e.message) && !e.message.includes('\n'));
  assert.throws(() => checkKdfMemory(DEFAULT_KDF, 100 * 1024 * 1024), (e: unknown) => isLrError(e, 'LR_IO') && /needs 256 MiB of free memory for its key derivation, and only 100 MiB is free/.test(e.message));
  checkKdfMemory(DEFAULT_KDF, 256 * 1024 * 1024);
  checkKdfMemory(FAST_TEST_KDF);
});
