/**
 * The whole CLI as a child process: exit codes, stdout/stderr separation,
 * one plain line per problem, and nothing secret printed or logged.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, stat, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createSealedKey, FAST_TEST_KDF, newSigningKey } from '../../src/keys/crypto.js';
import { createEncryptingWriter } from '../../src/format/writer.js';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createWriteStream } from 'node:fs';
import { ADMIN, PASSWORD, backupOf, makeSource, passwordFile, tempDir } from '../helpers/backup.js';
import { dropTempDatabases, dsnFor, createTempDatabase, connectServer } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';

/** The producer key these files are signed with (a real producer keeps its own in a root-only file). */
const SIGNING_KEY = newSigningKey();

let source: string;
let dir: string;
let file: string;
let pwFile: string;
let wrongPwFile: string;

before(async () => {
  source = await makeSource({ patients: 40 });
  dir = await tempDir();
  file = (await backupOf(source, dir)).file;
  pwFile = await passwordFile(dir);
  wrongPwFile = join(dir, 'wrong.txt');
  await writeFile(wrongPwFile, 'not the password\n');
});
after(dropTempDatabases);

test('identify needs no password and prints JSON with the contract fields', async () => {
  const r = await runCli(['identify', file, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const id = JSON.parse(r.stdout);
  for (const k of ['format', 'formatVersion', 'createdAt', 'database', 'admin', 'cipher', 'kdf', 'chunkSize', 'fileBytes']) assert.ok(k in id, k);
  assert.deepEqual(Object.keys(id.admin).sort(), ['lastLoginAt', 'userName', 'userNum']);
  assert.equal(id.admin.userName, ADMIN);
  assert.equal(id.database, source);
  assert.equal(id.fileBytes, (await stat(file)).size);
  assert.deepEqual(Object.keys(id.kdf).sort(), ['algorithm', 'iterations', 'memoryKiB', 'parallelism']);
  const human = await runCli(['identify', file]);
  assert.match(human.stdout, new RegExp(`password of Open Dental admin "${ADMIN}"`));
});

test('identify shows header text with terminal escapes neutralised', async () => {
  const key = await createSealedKey('pw', SIGNING_KEY.publicKey, FAST_TEST_KDF);
  const evil = 'evil\x1b[2J\x1b]0;pwned\x07\nname';
  const w = createEncryptingWriter({ database: 'db\x1b[31m', serverVersion: 'x', producerVersion: 't', admin: { userNum: 1, userName: evil, lastLoginAt: null }, key, signingKey: SIGNING_KEY });
  const path = join(dir, 'evil.lrb');
  await pipeline(Readable.from([Buffer.from('x')]), w.stream, createWriteStream(path));
  const r = await runCli(['identify', path]);
  assert.equal(r.code, 0);
  assert.ok(!r.stdout.includes('\x1b'), 'no raw escape reaches the terminal');
  assert.ok(!r.stdout.includes('\x07'));
  assert.match(r.stdout, /evil\\u001b\[2J/);
});

test('check: a whole file exits 0 with the contract fields; a damaged one exits 3', async () => {
  const r = await runCli(['check', file, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const c = JSON.parse(r.stdout);
  assert.deepEqual({ intact: c.intact, complete: c.complete, truncated: c.truncated, damagedChunks: c.damagedChunks }, { intact: true, complete: true, truncated: false, damagedChunks: 0 });
  assert.ok(c.chunks > 0);
  const damaged = join(dir, 'damaged.lrb');
  const bytes = await readFile(file);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  await writeFile(damaged, bytes);
  const d = await runCli(['check', damaged, '--json']);
  assert.equal(d.code, 3);
  assert.equal(JSON.parse(d.stdout).damagedChunks, 1);
});

test('decrypt with the right password writes a 0600 tar; a wrong one exits 4 and writes nothing', async () => {
  const out = join(dir, 'plain.tar');
  const r = await runCli(['decrypt', file, '--out', out, '--password-file', pwFile]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await stat(out)).mode & 0o777, 0o600);
  const tar = await readFile(out);
  assert.equal(tar.subarray(257, 262).toString(), 'ustar');
  assert.ok(tar.includes(Buffer.from('catalog.json')));

  const before = await readdir(dir);
  const bad = await runCli(['decrypt', file, '--out', join(dir, 'bad.tar'), '--password-file', wrongPwFile]);
  assert.equal(bad.code, 4);
  assert.match(bad.stderr, new RegExp(`password admin ${ADMIN} had`));
  assert.equal(bad.stderr.trim().split('\n').length, 1, 'one line');
  assert.deepEqual(await readdir(dir), before, 'nothing written');

  const env = await runCli(['decrypt', file, '--out', '-'], { env: { LASTRESORT_PASSWORD: PASSWORD } });
  assert.equal(env.code, 0);
  assert.equal(Buffer.from(env.stdout, 'latin1').length > 0, true);
});

test('no password and no terminal: a usage error, not a hang', async () => {
  const r = await runCli(['decrypt', file, '--out', join(dir, 'x.tar')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--password-file/);
});

test('passwords are never taken from the command line', async () => {
  const r = await runCli(['decrypt', file, '--out', '-', '--password', PASSWORD]);
  assert.equal(r.code, 2);
  assert.ok(!r.stderr.includes(PASSWORD), 'the password is not echoed back');
});

test('bad input gets one human line and the right exit code, never a stack trace', async () => {
  const d = await tempDir();
  const make = async (name: string, bytes: Buffer) => {
    const p = join(d, name);
    await writeFile(p, bytes);
    return p;
  };
  const truncated = await make('truncated.lrb', (await readFile(file)).subarray(0, 40));
  const cases: [string, string[], number][] = [
    ['missing file', ['identify', join(d, 'nope.lrb')], 1],
    ['empty file', ['identify', await make('empty.lrb', Buffer.alloc(0))], 5],
    ['random file', ['identify', await make('random.lrb', randomBytes(4096))], 5],
    ['text file', ['check', await make('text.lrb', Buffer.from('hello\n'.repeat(50)))], 5],
    ['future version', ['identify', await make('future.lrb', Buffer.from('lastresort-backup v7\n' + 'x'.repeat(100)))], 5],
    ['truncated header', ['identify', truncated], 3],
    ['unreachable server', ['backup', '--source', 'mysql://root@127.0.0.1:1/db', '--out', d], 1],
    ['wrong DSN', ['backup', '--source', 'postgres://x@y/z', '--out', d], 2],
    ['DSN without database', ['backup', '--source', 'mysql://root@127.0.0.1:3306/', '--out', d], 2],
    ['unknown command', ['frobnicate'], 2],
    ['missing argument', ['restore', file], 2],
  ];
  for (const [name, args, code] of cases) {
    const r = await runCli(args, { env: { LASTRESORT_PASSWORD: PASSWORD } });
    assert.equal(r.code, code, `${name}: ${r.stderr}`);
    assert.ok(!/\n\s+at /.test(r.stderr), `${name}: no stack trace`);
    assert.equal(r.stdout, '', `${name}: nothing on stdout`);
    assert.ok(r.stderr.trim().length > 0, `${name}: says something`);
  }
});

test('backup --json prints the contract fields; the file is 0600 and the password is nowhere in logs or output', async () => {
  const out = await tempDir();
  const log = join(out, 'run.log');
  const r = await runCli(['--log-file', log, '--verbose', 'backup', '--source', dsnFor(source), '--out', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(res).sort(), ['admin', 'bytes', 'compressedBytes', 'database', 'file', 'notOneMoment', 'oneMoment', 'ratio', 'rows', 'tables', 'tablesHeld', 'uncompressedBytes', 'writesHeldMs']);
  assert.ok(res.compressedBytes > 0 && res.compressedBytes < res.uncompressedBytes && res.ratio > 1, 'version 3: the payload is compressed');
  // The source is MyISAM, as Open Dental's is: one moment, its tables held while they were read.
  assert.equal(res.oneMoment, true, res.notOneMoment);
  assert.ok(res.tablesHeld.length > 0 && Number.isInteger(res.writesHeldMs), JSON.stringify(res));
  assert.equal((await stat(res.file)).mode & 0o777, 0o600);
  assert.match(res.file, new RegExp(`${source}-\\d{8}-\\d{6}\\.lrb$`));
  const restoreLog = join(out, 'restore.log');
  const target = await createTempDatabase('lr_cli_restore', { create: false });
  const rr = await runCli(['--log-file', restoreLog, '--verbose', 'restore', res.file, '--target', dsnFor(target), '--password-file', pwFile, '--json']);
  assert.equal(rr.code, 0, rr.stderr);
  for (const text of [r.stdout, r.stderr, rr.stdout, rr.stderr, await readFile(log, 'utf8'), await readFile(restoreLog, 'utf8')]) {
    assert.ok(!text.includes(PASSWORD), 'the admin password never appears');
  }
});

test('enroll refuses a wrong password with exit 4 and leaves the keyring as it was', async () => {
  const conn = await connectServer(source);
  const [[beforeRow]] = (await conn.query('SELECT SealedPrivateKey AS k FROM lastresort_keyring')) as unknown as [{ k: string }[]];
  const r = await runCli(['keys', 'enroll', '--source', dsnFor(source), '--user', ADMIN, '--password-file', wrongPwFile, '--test-kdf']);
  assert.equal(r.code, 4);
  const [[afterRow]] = (await conn.query('SELECT SealedPrivateKey AS k FROM lastresort_keyring')) as unknown as [{ k: string }[]];
  await conn.end();
  assert.equal(afterRow.k, beforeRow.k);
  const notAdmin = await runCli(['keys', 'enroll', '--source', dsnFor(source), '--user', 'frontdesk', '--password-file', pwFile, '--test-kdf']);
  assert.equal(notAdmin.code, 4);
  assert.match(notAdmin.stderr, /not a security admin/);
});

test('a copied file keeps working: the file alone is enough', async () => {
  const copy = join(await tempDir(), 'copy.lrb');
  await copyFile(file, copy);
  const r = await runCli(['decrypt', copy, '--out', '-', '--password-file', pwFile]);
  assert.equal(r.code, 0, r.stderr);
});
