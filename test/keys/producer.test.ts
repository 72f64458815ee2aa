/** The producer's own store: made 0600 on first use, refused when others may read it, and no update lost when two processes write at once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openProducerStore } from '../../src/keys/producer.js';
import { FAST_TEST_KDF } from '../../src/keys/crypto.js';
import { isLrError } from '../../src/errors.js';
import { tempDir } from '../helpers/files.js';

test('made on first use with mode 0600, then the same key on every open', async () => {
  const path = join(await tempDir(), 'etc', 'producer-key.json');
  const made = await openProducerStore({ path, minimumKdf: FAST_TEST_KDF });
  assert.equal(made.created, true);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  const again = await openProducerStore({ path });
  assert.equal(again.created, false);
  assert.equal(again.fingerprint, made.fingerprint);
  assert.deepEqual(again.minimumKdf, FAST_TEST_KDF);
  await chmod(path, 0o644);
  await assert.rejects(openProducerStore({ path }), (e) => isLrError(e, 'LR_BAD_CONFIG') && /chmod 600/.test((e as Error).message));
});

test('updates from two store handles at once all land (an enrollment during the nightly backup)', async () => {
  const path = join(await tempDir(), 'producer-key.json');
  const a = await openProducerStore({ path, minimumKdf: FAST_TEST_KDF });
  const b = await openProducerStore({ path });
  const pin = (n: number) => ({ userNum: n, userName: `u${n}`, publicKey: 'x', sealedPrivateKey: 'y', kdf: { algorithm: 'argon2id' as const, ...FAST_TEST_KDF, salt: 's' }, enrolledAt: 'now', passwordFingerprint: 'f' });
  await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).update('clinic', (p) => void (p.admins[String(i)] = pin(i)))));
  const final = await openProducerStore({ path });
  assert.equal(Object.keys(final.pins('clinic').admins).length, 30);
});
