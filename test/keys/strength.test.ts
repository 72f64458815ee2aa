/**
 * Weak admin passwords (issue #23, point 6): `keys enroll` refuses a password
 * that one graphics card would find within a day from the hash Open Dental
 * keeps in userod, unless --accept-weak-password; that override is recorded in
 * the producer's store and raised as WEAK_PASSWORD by every night's backup
 * and by status until the admin enrolls again with a stronger password.
 * Also: a first enrollment with --test-kdf no longer lowers the producer's
 * minimum key derivation for good (point 4).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_KDF, FAST_TEST_KDF } from '../../src/keys/crypto.js';
import { hashOpenDentalPassword } from '../../src/opendental/password.js';
import { estimateStrength, GPU_GUESSES_PER_SECOND, humanDuration, QUICK_SECONDS } from '../../src/keys/strength.js';
import { DEMO_ADMIN } from '../../fixtures/opendental.js';
import { PRODUCER_KEY_FILE } from '../helpers/producer-env.js';
import { makeSource, tempDir } from '../helpers/backup.js';
import { dropTempDatabases, dsnFor, queryIn } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { filesIn, serviceDir } from '../service/helpers.js';

const ADMIN = DEMO_ADMIN.userName;
let source: string;
let dir: string;
before(async () => {
  source = await makeSource({ patients: 5, prefix: 'lr_weakpw' });
  dir = await tempDir('lr-weakpw-');
});
after(dropTempDatabases);

async function setPassword(password: string, format: 'SHA3_512' | 'MD5' = 'SHA3_512'): Promise<string> {
  await queryIn(source, 'UPDATE userod SET Password = ? WHERE UserName = ?', [hashOpenDentalPassword(password, format), ADMIN]);
  const file = join(dir, 'pw.txt');
  await writeFile(file, password + '\n', { mode: 0o600 });
  return file;
}

async function pinOf(producerFile = PRODUCER_KEY_FILE): Promise<Record<string, unknown> | undefined> {
  const store = JSON.parse(await readFile(producerFile, 'utf8'));
  return Object.values(store.databases[source].admins as Record<string, Record<string, unknown>>).find((p) => p.userName === ADMIN);
}

test('the estimate: common and patterned passwords are weak, long passphrases strong, and the hash format sets the speed', async () => {
  for (const weak of ['password1', 'Summer2024!', `${ADMIN}2025`, 'Dentist!2019', 'Coffee-Table-77x']) {
    const s = await estimateStrength(weak, 'SHA3_512', [ADMIN]);
    assert.equal(s.weak, true, `${weak} should be weak (10^${s.guessesLog10.toFixed(1)} guesses)`);
  }
  for (const strong of [DEMO_ADMIN.password, 'Molar Express, the crown at noon 42', 'rpatel keeps the surgery tidy']) {
    assert.equal((await estimateStrength(strong, 'MD5')).weak, false, strong);
  }
  // The same guess count falls 40 times faster to MD5 than to SHA3-512: this one is weak only against MD5.
  const sha3 = await estimateStrength('Tooth Fairy 1984!', 'SHA3_512');
  const md5 = await estimateStrength('Tooth Fairy 1984!', 'MD5');
  assert.equal(sha3.guessesLog10, md5.guessesLog10);
  assert.equal(sha3.oneGpuSeconds, 10 ** sha3.guessesLog10 / GPU_GUESSES_PER_SECOND.SHA3_512);
  assert.equal(md5.oneGpuSeconds, 10 ** md5.guessesLog10 / GPU_GUESSES_PER_SECOND.MD5);
  assert.ok(md5.oneGpuSeconds < QUICK_SECONDS && sha3.oneGpuSeconds >= QUICK_SECONDS, `${md5.oneGpuSeconds} / ${sha3.oneGpuSeconds}`);
  assert.deepEqual([sha3.weak, md5.weak], [false, true]);
  assert.equal(humanDuration(0.2), 'under a second');
  assert.equal(humanDuration(2 * 3600 + 60), 'about 2 hours');
});

test('keys enroll refuses a weak password in one plain line (exit 2), leaving the pin as it was', async () => {
  const before = await pinOf();
  const pw = await setPassword('Summer2024!');
  const r = await runCli(['keys', 'enroll', '--source', dsnFor(source), '--user', ADMIN, '--password-file', pw, '--test-kdf']);
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('lastresort:')); // after the progress note
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, new RegExp(`${ADMIN}'s Open Dental password is too weak to protect the backups: from the salted SHA3-512 hash Open Dental keeps, one graphics card would find it in (under a second|about \\d+ \\w+)\\. .*--accept-weak-password`));
  assert.ok(!r.stderr.includes('Summer2024!') && !r.stdout.includes('Summer2024!'));
  assert.deepEqual(await pinOf(), before);
  // MD5 is named as such, and the same refusal holds there.
  const md5 = await setPassword('Tooth Fairy 1984!', 'MD5');
  const r2 = await runCli(['keys', 'enroll', '--source', dsnFor(source), '--user', ADMIN, '--password-file', md5, '--test-kdf']);
  assert.equal(r2.code, 2, r2.stderr);
  assert.match(r2.stderr, /from the salted MD5 hash/);
});

test('--accept-weak-password enrolls, records it, and every night raises WEAK_PASSWORD until a stronger password is enrolled', async () => {
  const pw = await setPassword('Summer2024!');
  const r = await runCli(['keys', 'enroll', '--source', dsnFor(source), '--user', ADMIN, '--password-file', pw, '--test-kdf', '--accept-weak-password', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /ALERT \(WEAK_PASSWORD\)/);
  const result = JSON.parse(r.stdout);
  assert.equal(result.weakPassword.hashFormat, 'SHA3_512');
  const pin = await pinOf();
  assert.deepEqual(pin?.weakPassword, result.weakPassword);
  assert.ok(!(await readFile(PRODUCER_KEY_FILE, 'utf8')).includes('Summer2024!'));

  const sd = await serviceDir(source);
  const night = await runCli(['daemon', '--once', '--config', sd.configPath]);
  assert.equal((await filesIn(sd.outDir)).backups.length, 1, night.stderr);
  assert.match(night.stderr, new RegExp(`ALERT \\(WEAK_PASSWORD\\): ${ADMIN} enrolled on .* with a password weak against Open Dental's own hash`));
  const status = JSON.parse((await runCli(['status', '--json', '--config', sd.configPath])).stdout);
  assert.deepEqual(status.alerts.map((a: { code: string }) => a.code), ['WEAK_PASSWORD']);
  const list = await runCli(['keys', 'list', '--source', dsnFor(source)]);
  assert.match(list.stderr, /ALERT \(WEAK_PASSWORD\)/);

  // A stronger password, enrolled without the flag: the record and the alert are gone.
  const strong = await setPassword(DEMO_ADMIN.password);
  assert.equal((await runCli(['keys', 'enroll', '--source', dsnFor(source), '--user', ADMIN, '--password-file', strong, '--test-kdf'])).code, 0);
  assert.equal((await pinOf())?.weakPassword, undefined);
  assert.equal((await runCli(['daemon', '--once', '--config', sd.configPath])).code, 0);
  assert.deepEqual(JSON.parse((await runCli(['status', '--json', '--config', sd.configPath])).stdout).alerts, []);
});

test('a first enrollment with --test-kdf lowers the minimum key derivation only until the first real enrollment', async () => {
  const producer = join(dir, 'fresh-producer.json');
  const pw = await setPassword(DEMO_ADMIN.password);
  const enroll = (extra: string[]) => runCli(['keys', 'enroll', '--source', dsnFor(source), '--user', ADMIN, '--password-file', pw, '--producer-key', producer, ...extra]);
  assert.equal((await enroll(['--test-kdf'])).code, 0);
  const floor = async () => JSON.parse(await readFile(producer, 'utf8')).minimumKdf;
  assert.deepEqual(await floor(), FAST_TEST_KDF);
  const real = await enroll([]);
  assert.equal(real.code, 0, real.stderr);
  assert.match(real.stderr, /no longer accepts test-strength keys/);
  assert.deepEqual(await floor(), DEFAULT_KDF);
  const again = await enroll(['--test-kdf']);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /asks for key derivation of at least 256 MiB and 3 passes/);
  assert.deepEqual(await floor(), DEFAULT_KDF);
});
