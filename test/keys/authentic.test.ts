/**
 * Format version 2's key properties against a real producer, real files and
 * the real server: only the practice's own producer can make a backup that
 * the practice's password opens (forgery); nobody with database access can
 * redirect the backups (redirection); no night goes without a backup while an
 * admin is enrolled (fallback); a password change is told (stale key).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { parseDsn } from '../../src/db/dsn.js';
import { locateHeader, unlockBackup } from '../../src/format/reader.js';
import { createEncryptingWriter } from '../../src/format/writer.js';
import { adminRecipients, type BackupHeader } from '../../src/format/header.js';
import { createSealedKey, FAST_TEST_KDF, keyFingerprint, newSigningKey } from '../../src/keys/crypto.js';
import { enrollAdmin } from '../../src/keys/enroll.js';
import { openProducerStore } from '../../src/keys/producer.js';
import { listKeys } from '../../src/keys/manage.js';
import { hashOpenDentalPassword } from '../../src/opendental/password.js';
import { localDateTime } from '../../src/opendental/last-admin.js';
import { isLrError } from '../../src/errors.js';
import { DEMO_ADMIN, SECOND_ADMIN } from '../../fixtures/opendental.js';
import { backupOf, makeSource, passwordFile, tempDir } from '../helpers/backup.js';
import { joinSigned, splitSigned, type SignedParts } from '../helpers/craft.js';
import { createTempDatabase, dropTempDatabases, dsnFor, queryIn } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { whosePassword } from '../../src/recover/unlock.js';
import { configureLog } from '../../src/log.js';

let source: string;
let dir: string;
let genuine: string;
let other: string;
after(dropTempDatabases);
before(async () => {
  source = await makeSource({ patients: 5 });
  dir = await tempDir();
  genuine = (await backupOf(source, dir)).file;
  other = (await backupOf(source, dir, { now: new Date(Date.now() + 2000) })).file;
});

const sql = (q: string, params: unknown[] = []) => queryIn(source, q, params);

const minutesFromNow = (minutes: number) => localDateTime(new Date(Date.now() + minutes * 60_000));

/** Splits a file into header JSON, signature and the chunk frames between the two header copies. */
const partsOf = async (path: string): Promise<SignedParts> => splitSigned(await readFile(path));

/** Writes a file from parts, both header copies and the trailer consistent (checksums recomputed): crafted, not damaged. */
async function fileFrom(p: SignedParts, name: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, joinSigned(p));
  return path;
}

test('a file made from a genuine header with a new file key is refused, and nothing reaches the target server', async () => {
  const { header } = await partsOf(genuine);
  const admin = adminRecipients(header as BackupHeader)[0]!;
  // The forger has the public header only: the admin's public key, sealed key and KDF. No producer key.
  const forger = newSigningKey();
  const w = createEncryptingWriter({ database: header.database, serverVersion: header.serverVersion, producerVersion: header.producerVersion, admin: header.admin, key: { algorithm: 'x25519', publicKey: admin.publicKey, sealedPrivateKey: admin.sealedPrivateKey, kdf: admin.kdf }, enrolledAt: admin.enrolledAt, signingKey: forger });
  const forged = join(dir, 'forged.lrb');
  await pipeline(Readable.from([Buffer.from('DROP DATABASE mysql;')]), w.stream, createWriteStream(forged));
  await assert.rejects(unlockBackup(await locateHeader(forged), DEMO_ADMIN.password), (e) => isLrError(e, 'LR_NOT_AUTHENTIC'));

  // The same with the genuine producer's fingerprint written in: identify would show it, the reader still refuses.
  const parts = await partsOf(forged);
  parts.header.signedBy = header.signedBy;
  const claimed = await fileFrom(parts, 'forged-claimed.lrb');
  await assert.rejects(unlockBackup(await locateHeader(claimed), DEMO_ADMIN.password), (e) => isLrError(e, 'LR_NOT_AUTHENTIC'));

  // Through the CLI, into a real server: exit 5, the plain line, and no database created.
  const target = await createTempDatabase('lr_forged', { create: false });
  const pw = await passwordFile(dir);
  const r = await runCli(['restore', claimed, '--target', dsnFor(target), '--password-file', pw]);
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /this file was not made by this practice's backup service/i);
  const [exists] = await sql('SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [target]);
  assert.equal(Number(exists!.n), 0, 'the target database was not created');
});

test("a signature copied from another genuine file is refused", async () => {
  const a = await partsOf(genuine);
  const b = await partsOf(other);
  assert.notDeepEqual(a.signature, b.signature);
  const swapped = await fileFrom({ ...b, signature: a.signature }, 'swapped-signature.lrb');
  await assert.rejects(unlockBackup(await locateHeader(swapped), DEMO_ADMIN.password), (e) => isLrError(e, 'LR_NOT_AUTHENTIC'));
  // The files themselves are fine.
  assert.ok(await unlockBackup(await locateHeader(genuine), DEMO_ADMIN.password));
  assert.ok(await unlockBackup(await locateHeader(await fileFrom(b, 'rebuilt.lrb')), DEMO_ADMIN.password), 'the rebuild itself is faithful');
});

/** Every leaf of a JSON value, with a setter. */
function leaves(v: any, path: string[] = []): { path: string[]; value: unknown }[] {
  if (v !== null && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, k]));
  return [{ path, value: v }];
}

function changed(value: unknown): unknown {
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'boolean') return !value;
  if (value === null) return 'x';
  const s = String(value);
  // Keep base64 well formed: change the first character only.
  return (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
}

test('each header field changed is refused (signature, validation, or the password no longer opening it)', async () => {
  const base = await partsOf(genuine);
  const fields = leaves(base.header);
  assert.ok(fields.length > 25, `${fields.length} fields`);
  for (const { path, value } of fields) {
    const p = structuredClone(base);
    let at: any = p.header;
    for (const k of path.slice(0, -1)) at = at[k];
    at[path[path.length - 1]!] = changed(value);
    const file = await fileFrom(p, `field-${path.join('.')}.lrb`);
    let outcome: string;
    try {
      const located = await locateHeader(file);
      outcome = (await unlockBackup(located, DEMO_ADMIN.password)) ? 'OPENED' : 'wrong password';
    } catch (e) {
      outcome = isLrError(e) ? e.code : String(e);
    }
    assert.ok(['LR_NOT_AUTHENTIC', 'LR_HOSTILE_HEADER', 'LR_UNSUPPORTED_VERSION', 'wrong password'].includes(outcome), `${path.join('.')}: ${outcome}`);
  }
});

test('a keyring row replaced by another key (old fingerprint copied) gives KEY_MISMATCH; the next backup does not open with that password', async () => {
  const [row] = await sql('SELECT * FROM lastresort_keyring WHERE UserName = ?', [DEMO_ADMIN.userName]);
  try {
    const attacker = await createSealedKey('attacker password', newSigningKey().publicKey, FAST_TEST_KDF);
    await sql('UPDATE lastresort_keyring SET PublicKey = ?, SealedPrivateKey = ?, Kdf = ? WHERE UserName = ?', [attacker.publicKey, attacker.sealedPrivateKey, JSON.stringify(attacker.kdf), DEMO_ADMIN.userName]);
    const r = await backupOf(source, dir, { now: new Date(Date.now() + 4000) });
    const mismatch = r.problems.find((p) => p.code === 'KEY_MISMATCH');
    assert.ok(mismatch && mismatch.userName === DEMO_ADMIN.userName && /jsmith/.test(mismatch.message), JSON.stringify(r.problems));
    const located = await locateHeader(r.file);
    assert.equal(await unlockBackup(located, 'attacker password'), null, "the attacker's password opens nothing");
    const listed = await listKeys({ source: parseDsn(dsnFor(source)) });
    assert.deepEqual(listed.admins.filter((a) => a.userName === DEMO_ADMIN.userName).map((a) => [a.state, a.pinned]), [['mismatch', true]]);
    assert.ok(await unlockBackup(located, DEMO_ADMIN.password), 'the pinned key is still the one used');

    // A weak KDF written into the (otherwise genuine) row is not taken either.
    await sql('UPDATE lastresort_keyring SET PublicKey = ?, SealedPrivateKey = ?, Kdf = ? WHERE UserName = ?', [row!.PublicKey, row!.SealedPrivateKey, JSON.stringify({ ...JSON.parse(String(row!.Kdf)), memoryKiB: 1024, iterations: 1 }), DEMO_ADMIN.userName]);
    const weak = await backupOf(source, dir, { now: new Date(Date.now() + 6000) });
    assert.ok(weak.problems.some((p) => p.code === 'KEY_MISMATCH' && /key-derivation/.test(p.message)), JSON.stringify(weak.problems));
    assert.deepEqual(adminRecipients((await locateHeader(weak.file)).header)[0]!.kdf, JSON.parse(String(row!.Kdf)));
  } finally {
    await sql('UPDATE lastresort_keyring SET PublicKey = ?, SealedPrivateKey = ?, Kdf = ? WHERE UserName = ?', [row!.PublicKey, row!.SealedPrivateKey, row!.Kdf, DEMO_ADMIN.userName]);
  }
});

test("enrolling with a key derivation weaker than the producer's own setting is refused", async () => {
  const strict = join(await tempDir(), 'producer-key.json');
  await openProducerStore({ path: strict }); // made with the default (strong) setting
  await assert.rejects(enrollAdmin({ source: parseDsn(dsnFor(source)), userName: DEMO_ADMIN.userName, password: DEMO_ADMIN.password, kdf: FAST_TEST_KDF, producerKeyFile: strict }), (e) => isLrError(e, 'LR_WEAK_KDF'));
});

test('a DateTLastLogin in the future does not choose the admin', async () => {
  await enrollAdmin({ source: parseDsn(dsnFor(source)), userName: SECOND_ADMIN.userName, password: SECOND_ADMIN.password, kdf: FAST_TEST_KDF });
  try {
    await sql("UPDATE userod SET DateTLastLogin = '2099-01-01 00:00:00' WHERE UserName = ?", [SECOND_ADMIN.userName]);
    const r = await backupOf(source, dir, { now: new Date(Date.now() + 8000) });
    assert.equal(r.admin?.userName, DEMO_ADMIN.userName);
    assert.equal((await locateHeader(r.file)).header.lastToLogOn?.userName, DEMO_ADMIN.userName);
  } finally {
    await sql('UPDATE userod SET DateTLastLogin = ? WHERE UserName = ?', [SECOND_ADMIN.lastLogin, SECOND_ADMIN.userName]);
    await sql('DELETE FROM lastresort_keyring WHERE UserName = ?', [SECOND_ADMIN.userName]);
  }
});

test('fallback: rpatel logged on last and is not enrolled: a backup is made, jsmith opens it, identify says so, the alert names rpatel', async () => {
  await sql(
    `INSERT INTO userod (UserName, Password, DateTLastLogin, UserGroupNum, EmployeeNum, ClinicNum, ProvNum, IsHidden, TaskListInBox, DefaultHidePopups, PasswordIsStrong, ClinicIsRestricted, InboxHidePopups, UserNumCEMT, FailedAttempts, DomainUser, IsPasswordResetRequired, MobileWebPin, MobileWebPinFailedAttempts, EClipboardClinicalPin, BadgeId)
     VALUES ('rpatel', ?, ?, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '', 0, '', 0, '', '')`,
    [hashOpenDentalPassword('rpatel keeps the surgery tidy'), minutesFromNow(-3)],
  );
  await sql("INSERT INTO usergroupattach (UserNum, UserGroupNum) SELECT UserNum, 1 FROM userod WHERE UserName = 'rpatel'");
  try {
    const r = await backupOf(source, dir, { now: new Date(Date.now() + 10000) });
    assert.equal(r.admin?.userName, DEMO_ADMIN.userName);
    // Once rpatel enrolls, tonight's admin changes, and the log says so.
    await enrollAdmin({ source: parseDsn(dsnFor(source)), userName: 'rpatel', password: 'rpatel keeps the surgery tidy', kdf: FAST_TEST_KDF });
    const logFile = join(await tempDir(), 'producer.log');
    configureLog({ file: logFile, level: 'info' });
    const switched = await backupOf(source, dir, { now: new Date(Date.now() + 11000) });
    configureLog({});
    assert.equal(switched.admin?.userName, 'rpatel');
    assert.match(await readFile(logFile, 'utf8'), /different admin's password than last night's \(jsmith then, rpatel now\)/);
    assert.equal((await runCli(['keys', 'remove', '--source', dsnFor(source), '--user', 'rpatel'])).code, 0);
    const alert = r.problems.find((p) => p.code === 'ADMIN_NOT_ENROLLED');
    assert.equal(alert?.userName, 'rpatel');
    assert.match(alert!.message, /rpatel, has not set up a backup key, so tonight's backup opens with jsmith's password instead\. rpatel must run: lastresort keys enroll --user rpatel/);
    assert.ok(await unlockBackup(await locateHeader(r.file), DEMO_ADMIN.password));
    const id = await runCli(['identify', r.file]);
    assert.equal(id.code, 0, id.stderr);
    assert.match(id.stdout, /password of Open Dental admin "jsmith"/);
    assert.match(id.stdout, /rpatel was the last admin to log on, but had no usable backup key, so this backup was made for jsmith/);
    const json = JSON.parse((await runCli(['identify', r.file, '--json'])).stdout);
    assert.equal(json.admin.userName, DEMO_ADMIN.userName);
    assert.equal(json.lastToLogOn.userName, 'rpatel');
    assert.match(json.lastToLogOn.lastLoginAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/);
    assert.deepEqual(json.recipients.map((x: { kind: string; userName?: string }) => [x.kind, x.userName]), [['admin', DEMO_ADMIN.userName]]);
    const store = await openProducerStore();
    assert.equal(json.signedBy, keyFingerprint(store.signingKey.publicKey));
  } finally {
    await sql("DELETE a FROM usergroupattach a JOIN userod u ON u.UserNum = a.UserNum WHERE u.UserName = 'rpatel'");
    await sql("DELETE FROM userod WHERE UserName = 'rpatel'");
  }
});

test("password change: KEY_STALE names the admin, and identify says which password and since when", async () => {
  try {
    await sql('UPDATE userod SET Password = ? WHERE UserName = ?', [hashOpenDentalPassword('a new password'), DEMO_ADMIN.userName]);
    const r = await backupOf(source, dir, { now: new Date(Date.now() + 12000) });
    const stale = r.problems.find((p) => p.code === 'KEY_STALE');
    assert.equal(stale?.userName, DEMO_ADMIN.userName);
    assert.match(stale!.message, /jsmith changed their Open Dental password after setting up the backup key/);
    const header = (await locateHeader(r.file)).header;
    const enrolledAt = adminRecipients(header)[0]!.enrolledAt;
    const day = new Date(enrolledAt).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
    const id = await runCli(['identify', r.file]);
    assert.match(id.stdout, new RegExp(`opens with jsmith's Open Dental password as it was on ${day}, when jsmith set up the backup key`));
    const json = JSON.parse((await runCli(['identify', r.file, '--json'])).stdout);
    assert.equal(json.recipients[0].enrolledAt, enrolledAt);
    // The recover wizard says the same before asking.
    assert.match(whosePassword(await locateHeader(r.file)), new RegExp(`opens with jsmith's Open Dental password as it was on ${day}, when jsmith set up the backup key`));
    assert.ok(await unlockBackup(await locateHeader(r.file), DEMO_ADMIN.password), 'the old password opens it');
  } finally {
    await sql('UPDATE userod SET Password = ? WHERE UserName = ?', [hashOpenDentalPassword(DEMO_ADMIN.password), DEMO_ADMIN.userName]);
    await enrollAdmin({ source: parseDsn(dsnFor(source)), userName: DEMO_ADMIN.userName, password: DEMO_ADMIN.password, kdf: FAST_TEST_KDF });
  }
});

test('a lost producer key (rebuilt server): old backups still open, status alerts that every admin must enroll again', async () => {
  const rebuilt = join(await tempDir(), 'producer-key.json');
  const { probeAdmin } = await import('../../src/service/probe.js');
  const probe = await probeAdmin(parseDsn(dsnFor(source)), rebuilt);
  assert.ok(probe.reachable);
  const replaced = probe.problems?.find((p) => p.code === 'PRODUCER_KEY_REPLACED');
  assert.ok(replaced, JSON.stringify(probe.problems));
  assert.match(replaced!.message, /not the one jsmith enrolled with \(a rebuilt or replaced server\?\)\. Older backups still open as before, but each admin must enroll again/);
  // The backups made with the old producer key open as before: their producer key travels sealed in each.
  await enrollAdmin({ source: parseDsn(dsnFor(source)), userName: DEMO_ADMIN.userName, password: DEMO_ADMIN.password, kdf: FAST_TEST_KDF, producerKeyFile: rebuilt });
  const fresh = await backupOf(source, dir, { now: new Date(Date.now() + 14000), producerKeyFile: rebuilt });
  assert.ok(await unlockBackup(await locateHeader(genuine), DEMO_ADMIN.password), 'old backup');
  assert.ok(await unlockBackup(await locateHeader(fresh.file), DEMO_ADMIN.password), 'new backup');
  assert.notEqual((await locateHeader(fresh.file)).header.signedBy, (await locateHeader(genuine)).header.signedBy);
  // Put the test producer's enrollment back.
  await enrollAdmin({ source: parseDsn(dsnFor(source)), userName: DEMO_ADMIN.userName, password: DEMO_ADMIN.password, kdf: FAST_TEST_KDF });
});
