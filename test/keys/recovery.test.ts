/**
 * The practice recovery key and `keys list` / `keys remove`, through the CLI
 * against the real server: the code opens a backup with no admin password
 * (typed with spaces and lower case), a typo is told apart from a wrong code,
 * only the public half is kept, and after `keys recovery remove` new
 * backups no longer open with it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { locateHeader, unlockBackup } from '../../src/format/reader.js';
import { recoveryRecipient } from '../../src/format/header.js';
import { newRecoveryCode, parseRecoveryCode } from '../../src/keys/recovery-code.js';
import { unlockBackup as wizardUnlock } from '../../src/recover/unlock.js';
import { isLrError } from '../../src/errors.js';
import { DEMO_ADMIN } from '../../fixtures/opendental.js';
import { backupOf, makeSource, tempDir } from '../helpers/backup.js';
import { compareDatabases, createTempDatabase, dropTempDatabases, dsnFor } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { PRODUCER_KEY_FILE } from '../helpers/producer-env.js';
import { scriptedAsk } from '../recover/helpers/scripted-ask.js';

let source: string;
let dir: string;
let code: string;
let fingerprint: string;
after(dropTempDatabases);
before(async () => {
  source = await makeSource({ patients: 8 });
  dir = await tempDir();
});

/** The code as a person might type it: lower case, spaces instead of dashes. */
const typedLoosely = (c: string) => c.toLowerCase().replace(/-/g, ' ');

async function codeFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text + '\n', { mode: 0o600 });
  return path;
}

test('keys recovery create --json shows the code once, writes the page (0600), and keeps only the public half', async () => {
  const page = join(dir, 'recovery.html');
  const r = await runCli(['keys', 'recovery', 'create', '--source', dsnFor(source), '--json', '--page', page]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(out).sort(), ['code', 'createdAt', 'fingerprint']);
  code = out.code;
  fingerprint = out.fingerprint;
  assert.match(code, /^([0-9A-Z]{4}-){7}[0-9A-Z]{4}$/);
  assert.equal((await stat(page)).mode & 0o777, 0o600);
  assert.ok((await readFile(page, 'utf8')).includes(code), 'the page holds the code');
  const stored = await readFile(PRODUCER_KEY_FILE, 'utf8');
  assert.ok(!stored.includes(code) && !stored.includes(code.replace(/-/g, '')), 'the producer does not keep the code');
  assert.ok(stored.includes(fingerprint));
  // A second code never overwrites the printed page of the first, and changes nothing.
  const again = await runCli(['keys', 'recovery', 'create', '--source', dsnFor(source), '--json', '--page', page]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /exists already/);
  assert.equal(await readFile(PRODUCER_KEY_FILE, 'utf8'), stored);
});

test('a backup opens with the recovery code alone (spaces, lower case), through decrypt, restore and validate', async () => {
  const { file } = await backupOf(source, dir);
  const id = JSON.parse((await runCli(['identify', file, '--json'])).stdout);
  assert.deepEqual(id.recipients.map((x: { kind: string }) => x.kind), ['admin', 'recovery']);
  assert.equal(id.recipients[1].fingerprint, fingerprint);
  assert.deepEqual(Object.keys(id.recipients[1]).sort(), ['createdAt', 'fingerprint', 'kind']);

  const loose = await codeFile('loose.txt', typedLoosely(code));
  const target = await createTempDatabase('lr_recov', { create: false });
  const env = { LASTRESORT_PASSWORD: undefined };
  const restored = await runCli(['restore', file, '--target', dsnFor(target), '--recovery-code-file', loose], { env });
  assert.equal(restored.code, 0, restored.stderr);
  const validated = await runCli(['validate', file, '--target', dsnFor(target), '--recovery-code-file', loose], { env });
  assert.equal(validated.code, 0, validated.stderr);
  assert.deepEqual(await compareDatabases(source, target), []);
  const decrypted = await runCli(['decrypt', file, '--out', join(dir, 'out.tar'), '--recovery-code-file', loose], { env });
  assert.equal(decrypted.code, 0, decrypted.stderr);
});

test('a one-character typo is told apart from a wrong code', async () => {
  const { file } = await backupOf(source, dir, { now: new Date(Date.now() + 2000) });
  const i = code.search(/[0-9A-Z]/);
  const typo = code.slice(0, i) + (code[i] === 'Z' ? 'Y' : 'Z') + code.slice(i + 1);
  const typoRun = await runCli(['decrypt', file, '--out', join(dir, 'x.tar'), '--recovery-code-file', await codeFile('typo.txt', typo)]);
  assert.equal(typoRun.code, 4);
  assert.match(typoRun.stderr, /has a typo/);
  const wrong = newRecoveryCode().code;
  assert.ok(parseRecoveryCode(wrong), 'the wrong code is well formed');
  const wrongRun = await runCli(['decrypt', file, '--out', join(dir, 'y.tar'), '--recovery-code-file', await codeFile('wrong.txt', wrong)]);
  assert.equal(wrongRun.code, 4);
  assert.match(wrongRun.stderr, /well formed but is not the one that opens this backup/);
  assert.doesNotMatch(wrongRun.stderr, /typo/);
});

test('recover offers "I don\'t have the password" and takes the code (a typo is asked again)', async () => {
  const { file } = await backupOf(source, dir, { now: new Date(Date.now() + 4000) });
  const located = await locateHeader(file);
  const ask = scriptedAsk(['code', code.slice(0, -1), typedLoosely(code)]);
  const opened = await wizardUnlock(ask, located);
  assert.ok(opened.unlocked.payloadKey.length === 32);
  assert.deepEqual(ask.offered[0], ['password', 'code']);
  assert.ok(ask.transcript.some((l) => /has a typo/.test(l)), ask.transcript.join('\n'));
});

test('with no admin enrolled, the backup is still made, for the recovery code; keys list and keys remove say and do so', async () => {
  const listed = JSON.parse((await runCli(['keys', 'list', '--source', dsnFor(source), '--json'])).stdout);
  const jsmith = listed.admins.find((a: { userName: string }) => a.userName === DEMO_ADMIN.userName);
  assert.deepEqual({ state: jsmith.state, pinned: jsmith.pinned }, { state: 'ok', pinned: true });
  assert.equal(listed.recovery.fingerprint, fingerprint);
  assert.equal(listed.tonight, DEMO_ADMIN.userName);

  const removed = await runCli(['keys', 'remove', '--source', dsnFor(source), '--user', DEMO_ADMIN.userName]);
  assert.equal(removed.code, 0, removed.stderr);
  const after = JSON.parse((await runCli(['keys', 'list', '--source', dsnFor(source), '--json'])).stdout);
  assert.equal(after.admins.find((a: { userName: string }) => a.userName === DEMO_ADMIN.userName).state, 'not-enrolled');
  assert.equal(after.tonight, null);

  const r = await backupOf(source, dir, { now: new Date(Date.now() + 6000) });
  assert.equal(r.admin, null);
  assert.ok(r.problems.some((p) => p.code === 'ADMIN_NOT_ENROLLED' && /opens only with the practice recovery code/.test(p.message)));
  const located = await locateHeader(r.file);
  assert.equal(await unlockBackup(located, DEMO_ADMIN.password), null);
  assert.ok(await unlockBackup(located, { recoveryCode: code }));
  const id = await runCli(['identify', r.file]);
  assert.match(id.stdout, /opens only with the practice recovery code/);
});

test('after keys recovery remove, new backups no longer open with the code; older ones still do', async () => {
  const before = await backupOf(source, dir, { now: new Date(Date.now() + 8000) });
  const gone = await runCli(['keys', 'recovery', 'remove', '--source', dsnFor(source)]);
  assert.equal(gone.code, 0, gone.stderr);
  // No admin and no recovery key: now no backup is made.
  await assert.rejects(backupOf(source, dir, { now: new Date(Date.now() + 9000) }), (e) => isLrError(e, 'LR_ADMIN_NOT_ENROLLED'));
  const enroll = await runCli(['keys', 'enroll', '--source', dsnFor(source), '--user', DEMO_ADMIN.userName, '--test-kdf'], { env: { LASTRESORT_PASSWORD: DEMO_ADMIN.password } });
  assert.equal(enroll.code, 0, enroll.stderr);
  const afterRemove = await backupOf(source, dir, { now: new Date(Date.now() + 10000) });
  const located = await locateHeader(afterRemove.file);
  assert.equal(recoveryRecipient(located.header), undefined);
  await assert.rejects(unlockBackup(located, { recoveryCode: code }), (e) => isLrError(e, 'LR_WRONG_RECOVERY_CODE'));
  assert.ok(await unlockBackup(located, DEMO_ADMIN.password));
  assert.ok(await unlockBackup(await locateHeader(before.file), { recoveryCode: code }), 'a backup made while the key existed still opens');
});
