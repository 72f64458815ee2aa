/**
 * The WebAssembly argon2id (hash-wasm: the Windows executable's, and the
 * fallback where the addon cannot load) must give exactly the native addon's
 * bytes, or a backup made on one machine would not open on the other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import argon2 from 'argon2';
import { argon2idHash, argon2idImpl, wasmHash, type Argon2idInput } from '../../src/keys/argon2id.js';
import { DEFAULT_KDF } from '../../src/keys/crypto.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/files.js';
import { VECTOR_PASSWORD, vectorPlaintext } from '../vectors/plaintext.js';

const nativeHash = (i: Argon2idInput) =>
  argon2.hash(i.password, { type: argon2.argon2id, memoryCost: i.memoryKiB, timeCost: i.iterations, parallelism: i.parallelism, salt: i.salt, hashLength: i.hashLength, raw: true });

// The reference implementation's answer (Debian's `argon2` package, the PHC winner's CLI):
//   echo -n password | argon2 somesalt -id -t 2 -m 16 -p 1 -l 32 -r
const REFERENCE = {
  input: { password: 'password', salt: Buffer.from('somesalt'), memoryKiB: 1 << 16, iterations: 2, parallelism: 1, hashLength: 32 },
  hex: '09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7',
};

test('both argon2id implementations give the reference implementation\'s hash', async () => {
  assert.equal((await wasmHash(REFERENCE.input)).toString('hex'), REFERENCE.hex);
  assert.equal((await nativeHash(REFERENCE.input)).toString('hex'), REFERENCE.hex);
});

test('the WebAssembly argon2id equals the native one at the producer\'s default cost (256 MiB, 3 passes, 2 lanes)', async () => {
  const input = { password: 'correct horse battery staple', salt: randomBytes(16), ...DEFAULT_KDF, hashLength: 32 };
  const [a, b] = [await wasmHash(input), await nativeHash(input)];
  assert.equal(a.length, 32);
  assert.deepEqual(a, b);
});

test('the two implementations agree on passwords in any script, long salts and many lanes', async () => {
  const cases: Argon2idInput[] = [
    { password: 'Zahnärztin – 歯科医 – طبيب أسنان 🦷', salt: randomBytes(16), memoryKiB: 8 * 1024, iterations: 1, parallelism: 1, hashLength: 32 },
    { password: 'p', salt: randomBytes(64), memoryKiB: 8 * 1024, iterations: 4, parallelism: 8, hashLength: 32 },
    { password: 'x'.repeat(1000), salt: randomBytes(24), memoryKiB: 9 * 1024 + 8, iterations: 2, parallelism: 3, hashLength: 32 },
  ];
  for (const c of cases) assert.deepEqual(await wasmHash(c), await nativeHash(c), JSON.stringify({ ...c, salt: c.salt.length }));
});

test('property: for any password and salt, WebAssembly and native argon2id give the same key', async () => {
  await fc.assert(
    fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }), fc.uint8Array({ minLength: 16, maxLength: 64 }), fc.integer({ min: 1, max: 4 }), async (password, salt, parallelism) => {
      const input = { password, salt: Buffer.from(salt), memoryKiB: 8 * 1024, iterations: 1, parallelism, hashLength: 32 };
      assert.deepEqual(await wasmHash(input), await nativeHash(input));
    }),
    { numRuns: 25 },
  );
});

test('argon2idHash uses the native addon here (unless LASTRESORT_ARGON2=wasm) and gives the reference hash', async () => {
  assert.equal(await argon2idImpl(), process.env.LASTRESORT_ARGON2 === 'wasm' ? 'wasm' : 'native');
  assert.equal((await argon2idHash(REFERENCE.input)).toString('hex'), REFERENCE.hex);
});

test('the real decrypt command opens the committed good vector with the WebAssembly argon2id, byte for byte', async () => {
  const dir = await tempDir();
  const pw = join(dir, 'pw');
  await writeFile(pw, VECTOR_PASSWORD + '\n', { mode: 0o600 });
  for (const impl of ['wasm', 'native']) {
    const out = join(dir, `${impl}.bin`);
    const r = await runCli(['--verbose', 'decrypt', join('test', 'vectors', 'good.lrb'), '--out', out, '--password-file', pw], { env: impl === 'wasm' ? { LASTRESORT_ARGON2: 'wasm' } : {} });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`"argon2id":"${impl}"`), 'the log names the implementation that derived the key');
    assert.deepEqual(await readFile(out), vectorPlaintext(), impl);
  }
});
