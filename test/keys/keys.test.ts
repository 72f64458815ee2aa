/**
 * The key properties the whole product rests on, each with a test:
 * only the last admin to log on can open a backup; the producer never holds
 * anything that opens one; the file plus the password as of backup time is
 * enough; a wrong password fails with nothing written.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDsn } from '../../src/db/dsn.js';
import { locateHeader, unlockBackup } from '../../src/format/reader.js';
import { unwrapFileKey, FAST_TEST_KDF } from '../../src/keys/crypto.js';
import { enrollAdmin } from '../../src/keys/enroll.js';
import { hashOpenDentalPassword } from '../../src/opendental/password.js';
import { isLrError } from '../../src/errors.js';
import { configureLog } from '../../src/log.js';
import { findLastAdmin } from '../../src/opendental/last-admin.js';
import { DEMO_ADMIN, SECOND_ADMIN, NOPASS_ADMIN } from '../../fixtures/opendental.js';
import { PRODUCER_KEY_FILE } from '../helpers/producer-env.js';
import { localDateTime } from '../../src/opendental/last-admin.js';
import { backupOf, makeSource, tempDir } from '../helpers/backup.js';
import { connectServer, dropTempDatabases, dsnFor, queryIn } from '../helpers/db.js';

let source: string;
const source$ = () => parseDsn(dsnFor(source));
after(dropTempDatabases);
before(async () => {
  source = await makeSource({ patients: 5 });
});

const sql = (q: string, params: unknown[] = []) => queryIn(source, q, params);

test('the last admin is the visible security admin who logged on last (hidden admins and non-admins are ignored)', async () => {
  const c = await connectServer(source);
  const admin = await findLastAdmin(c);
  await c.end();
  assert.equal(admin?.userName, DEMO_ADMIN.userName);
});

test('nothing the producer stores, reads or logs opens a backup', async () => {
  const dir = await tempDir();
  const logFile = join(dir, 'producer.log');
  configureLog({ file: logFile, level: 'debug' });
  const { file } = await backupOf(source, dir);
  configureLog({});
  const located = await locateHeader(file);
  // Everything the producer could have kept: the keyring row, the admin's stored hash, the header, the log,
  // and its own key file (signing key, fingerprint secret, pins).
  const [keyring] = await sql('SELECT * FROM lastresort_keyring');
  const [user] = await sql('SELECT Password FROM userod WHERE UserName = ?', [DEMO_ADMIN.userName]);
  const producerFile = await readFile(PRODUCER_KEY_FILE, 'utf8');
  const stored = [...Object.values(keyring).map(String), String(user.Password), ...(await readFile(logFile, 'utf8')).split(/[^A-Za-z0-9+/=_$.-]+/), ...producerFile.split(/[^A-Za-z0-9+/=_$.-]+/), ...Object.values(located.header).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)))];
  const candidates = new Set<string>(stored);
  for (const candidate of candidates) {
    if (!candidate) continue;
    assert.equal(await unlockBackup(located, candidate), null, 'a stored value opened the backup');
  }
  // No stored 32-byte value (public keys, the signing key, the fingerprint secret) is the private key.
  const recipient = located.header.recipients[0]!;
  const raw = [...candidates].map((c) => Buffer.from(c, 'base64')).filter((b) => b.length === 32);
  assert.ok(raw.length >= 4, 'the keys were among the candidates');
  for (const b of raw) assert.equal(unwrapFileKey(recipient.wrappedFileKey, b, recipient.publicKey), null);
  // The log never holds the password or the sealed key.
  const log = await readFile(logFile, 'utf8');
  assert.ok(!log.includes(DEMO_ADMIN.password));
  assert.ok(!log.includes(String(keyring.SealedPrivateKey)));
});

test("the file plus the admin's password as of backup time opens it, after the password has changed too", async () => {
  const dir = await tempDir();
  const before = await backupOf(source, dir);
  const newPassword = 'a brand new password for the new season';
  await sql('UPDATE userod SET Password = ? WHERE UserName = ?', [hashOpenDentalPassword(newPassword), DEMO_ADMIN.userName]);
  // Not re-enrolled yet: the backup still opens with the old password and says the key is stale.
  const stale = await backupOf(source, dir, { now: new Date(Date.now() + 2000) });
  assert.equal(stale.keyStale, true);
  assert.ok(await unlockBackup(await locateHeader(stale.file), DEMO_ADMIN.password));
  await enrollAdmin({ source: source$(), userName: DEMO_ADMIN.userName, password: newPassword, kdf: FAST_TEST_KDF });
  const after = await backupOf(source, dir, { now: new Date(Date.now() + 4000) });
  assert.equal(after.keyStale, false);
  assert.ok(await unlockBackup(await locateHeader(before.file), DEMO_ADMIN.password), 'old backup, old password');
  assert.equal(await unlockBackup(await locateHeader(before.file), newPassword), null, 'old backup, new password');
  assert.ok(await unlockBackup(await locateHeader(after.file), newPassword), 'new backup, new password');
  assert.equal(await unlockBackup(await locateHeader(after.file), DEMO_ADMIN.password), null, 'new backup, old password');
  // Put things back for the other tests.
  await sql('UPDATE userod SET Password = ? WHERE UserName = ?', [hashOpenDentalPassword(DEMO_ADMIN.password), DEMO_ADMIN.userName]);
  await enrollAdmin({ source: source$(), userName: DEMO_ADMIN.userName, password: DEMO_ADMIN.password, kdf: FAST_TEST_KDF });
});

test('enrollment checks the Open Dental password and refuses non-admins and empty passwords', async () => {
  await assert.rejects(enrollAdmin({ source: source$(), userName: DEMO_ADMIN.userName, password: 'wrong', kdf: FAST_TEST_KDF }), (e) => isLrError(e, 'LR_WRONG_PASSWORD'));
  await assert.rejects(enrollAdmin({ source: source$(), userName: 'frontdesk', password: 'front desk 2025', kdf: FAST_TEST_KDF }), (e) => isLrError(e, 'LR_NOT_ADMIN'));
  await assert.rejects(enrollAdmin({ source: source$(), userName: NOPASS_ADMIN.userName, password: '', kdf: FAST_TEST_KDF }), (e) => isLrError(e, 'LR_ADMIN_NO_PASSWORD'));
  await assert.rejects(enrollAdmin({ source: source$(), userName: 'nobody', password: 'x', kdf: FAST_TEST_KDF }), (e) => isLrError(e, 'LR_NOT_ADMIN'));
  // MD5-format admin enrolls with its own password.
  const r = await enrollAdmin({ source: source$(), userName: SECOND_ADMIN.userName, password: SECOND_ADMIN.password, kdf: FAST_TEST_KDF });
  assert.equal(r.userName, SECOND_ADMIN.userName);
});

/** A DATETIME as Open Dental writes it (practice local time), `minutes` from now. */
const minutesFromNow = (minutes: number) => localDateTime(new Date(Date.now() + minutes * 60_000));

test('the last admin without a password or a key gets an alert naming them, and the backup goes to the enrolled admin', async () => {
  const dir = await tempDir();
  const [jsmith] = await sql('SELECT DateTLastLogin AS d FROM userod WHERE UserName = ?', [DEMO_ADMIN.userName]);
  try {
    await sql('UPDATE userod SET DateTLastLogin = ? WHERE UserName = ?', [minutesFromNow(-5), NOPASS_ADMIN.userName]);
    const noPassword = await backupOf(source, dir);
    assert.equal(noPassword.admin?.userName, DEMO_ADMIN.userName);
    assert.ok(noPassword.problems.some((p) => p.code === 'ADMIN_NO_PASSWORD' && /nopass/.test(p.message) && /jsmith's password instead/.test(p.message)));
    assert.ok(await unlockBackup(await locateHeader(noPassword.file), DEMO_ADMIN.password));
    await sql("UPDATE userod SET DateTLastLogin = '2000-01-01 00:00:00' WHERE UserName = ?", [NOPASS_ADMIN.userName]);
    // Empty DateTLastLogin: the securitylog's log-on events decide (and one in the future does not count).
    await sql("UPDATE userod SET DateTLastLogin = '0001-01-01 00:00:00' WHERE UserName IN (?, ?)", [SECOND_ADMIN.userName, DEMO_ADMIN.userName]);
    const logOn = "INSERT INTO securitylog (PermType, UserNum, LogDateTime, LogText, PatNum, CompName, FKey, LogSource, DefNum, DefNumError) SELECT 83, UserNum, ?, CONCAT('User: ', UserName, ' has logged on.'), 0, 'WS1', 0, 0, 0, 0 FROM userod WHERE UserName = ?";
    await sql(logOn, [minutesFromNow(-60), DEMO_ADMIN.userName]);
    await sql(logOn, [minutesFromNow(24 * 60), SECOND_ADMIN.userName]);
    const c = await connectServer(source);
    assert.equal((await findLastAdmin(c))?.userName, DEMO_ADMIN.userName);
    await c.end();
  } finally {
    await sql("UPDATE userod SET DateTLastLogin = '2000-01-01 00:00:00' WHERE UserName IN (?, ?)", [SECOND_ADMIN.userName, NOPASS_ADMIN.userName]);
    await sql('UPDATE userod SET DateTLastLogin = ? WHERE UserName = ?', [jsmith.d, DEMO_ADMIN.userName]);
  }
});

test('no backup only when no admin is enrolled on this producer (a new producer key): both admins named, nothing left behind', async () => {
  const dir = await tempDir();
  const fresh = join(await tempDir(), 'producer-key.json');
  await assert.rejects(backupOf(source, dir, { producerKeyFile: fresh }), (e) => isLrError(e, 'LR_ADMIN_NOT_ENROLLED') && /not the one jsmith, mjones enrolled with/.test((e as Error).message) && /lastresort keys enroll --user jsmith/.test((e as Error).message));
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.lrb') || f.endsWith('.tmp')), []);
});
