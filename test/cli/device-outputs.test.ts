/**
 * Output names that are not regular files (issue #24, point 9): a device or
 * a FIFO is written into where it stands, never renamed or deleted over, and
 * --force replaces regular files only. Before this, `decrypt --out /dev/null
 * --force` put a 0600 regular file in place of the machine's /dev/null.
 *
 * The real /dev/null is used (that is the live hazard); `after` makes it
 * again should a regression ever replace it, so one failing run does not
 * break every other program on the machine.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/system/atomic-file.js';
import { isLrError } from '../../src/errors.js';
import { loadState, saveState } from '../../src/service/state.js';
import { applyRetention } from '../../src/service/retention.js';
import { copyAndVerify } from '../../src/service/verify-copy.js';
import { LOG_FILE_NAME, RotatingLogFile } from '../../src/service/log-file.js';
import { backupFileName } from '../../src/backup/names.js';
import { backupOf, makeSource, passwordFile, tempDir } from '../helpers/backup.js';
import { createTempDatabase, dropTempDatabases, dsnFor } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
let file: string;
let database: string;
let pwFile: string;
let devNull: { rdev: number; mode: number; ino: number };

before(async () => {
  devNull = await stat('/dev/null');
  database = await makeSource({ patients: 10, prefix: 'lr_devout', engine: 'MyISAM' });
  dir = await tempDir('lr-devout-');
  file = (await backupOf(database, dir)).file;
  pwFile = await passwordFile(dir);
}, { timeout: 300_000 });

after(async () => {
  await dropTempDatabases();
  const now = await lstat('/dev/null').catch(() => null);
  if (!now?.isCharacterDevice()) execFileSync('sh', ['-c', 'rm -f /dev/null && mknod -m 666 /dev/null c 1 3']);
});

/** /dev/null is the same device, same inode, same mode: nothing was put in its place or changed. */
async function assertDevNullUntouched(): Promise<void> {
  const now = await lstat('/dev/null');
  assert.ok(now.isCharacterDevice(), '/dev/null is still a character device');
  assert.equal(now.rdev, devNull.rdev);
  assert.equal(now.ino, devNull.ino, 'the same inode: not made again');
  assert.equal(now.mode, devNull.mode, 'its mode is unchanged');
  assert.deepEqual((await readdir('/dev')).filter((n) => n.startsWith('.null.')), [], 'no temporary left in /dev');
}

function mkfifo(path: string): void {
  execFileSync('mkfifo', ['-m', '600', path]);
}

/** A child that reads the FIFO to its end and prints the sha256 of what it read. */
function readFifo(path: string): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn('sha256sum', [path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? ok(out.split(' ')[0]) : fail(new Error(`sha256sum exited ${code}`))));
  });
}

const sha256 = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

test('decrypt --out /dev/null works without --force, and with --force /dev/null is still the device', async () => {
  for (const force of [[], ['--force']]) {
    const r = await runCli(['decrypt', file, '--out', '/dev/null', '--password-file', pwFile, ...force]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr + r.stdout, /Decrypted .* to \/dev\/null\./);
    await assertDevNullUntouched();
  }
});

test('decrypt --out FIFO: a reading child gets exactly the decrypted bytes, and the FIFO stays a FIFO (also with --force)', async () => {
  const plain = join(dir, 'plain.tar');
  const made = await runCli(['decrypt', file, '--out', plain, '--password-file', pwFile]);
  assert.equal(made.code, 0, made.stderr);
  const fifo = join(dir, 'pipe.tar');
  mkfifo(fifo);
  for (const force of [[], ['--force']]) {
    const reader = readFifo(fifo);
    const r = await runCli(['decrypt', file, '--out', fifo, '--password-file', pwFile, ...force]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await reader, await sha256(plain), 'the reader got the whole tar');
    const st = await lstat(fifo);
    assert.ok(st.isFIFO(), 'still a FIFO');
    assert.equal(st.mode & 0o777, 0o600);
  }
  assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), [], 'no temporary file left');
});

test('decrypt --out a folder is refused before the password, with one line, exit 2', async () => {
  const folder = join(dir, 'a-folder');
  await mkdir(folder);
  const r = await runCli(['decrypt', file, '--out', folder, '--password-file', pwFile, '--force']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /is not a regular file, and lastresort never writes over one\. Choose a file name\./);
  assert.ok((await lstat(folder)).isDirectory());
});

test('restore --report /dev/null: the report goes into the device, no /dev/null.md is made, the restore is whole', async () => {
  const target = await createTempDatabase('lr_devout_tgt', { create: false });
  const r = await runCli(['restore', file, '--target', dsnFor(target), '--password-file', pwFile, '--report', '/dev/null']);
  assert.equal(r.code, 0, r.stderr);
  await assertDevNullUntouched();
  assert.equal(await lstat('/dev/null.md').catch(() => null), null);
});

test('writeFileAtomic (reports, state) writes into a FIFO; keys and settings (intoStream: false) refuse it and leave it', async () => {
  const fifo = join(dir, 'state.json');
  mkfifo(fifo);
  const reader = readFifo(fifo);
  await saveState(fifo, { version: 1 });
  assert.equal(await reader, createHash('sha256').update(JSON.stringify({ version: 1 }, null, 2) + '\n').digest('hex'));
  assert.ok((await lstat(fifo)).isFIFO());
  await assert.rejects(writeFileAtomic(fifo, 'key\n', { intoStream: false }), (e: unknown) => isLrError(e, 'LR_USAGE'));
  assert.ok((await lstat(fifo)).isFIFO(), 'a refused FIFO is left as it was');
  await writeFileAtomic('/dev/null', 'report\n');
  await assert.rejects(writeFileAtomic('/dev/null', 'key\n', { intoStream: false }), (e: unknown) => isLrError(e, 'LR_USAGE'));
  await assertDevNullUntouched();
});

test('a state path of /dev/null reads as empty and is not set aside as .damaged', async () => {
  assert.deepEqual(await loadState('/dev/null'), { version: 1 });
  await assertDevNullUntouched();
  assert.equal(await lstat('/dev/null.damaged').catch(() => null), null);
});

test('the service log linked to /dev/null: written into, never chmod-ed or rotated', async () => {
  const logs = join(dir, 'logs');
  await mkdir(logs);
  await symlink('/dev/null', join(logs, LOG_FILE_NAME));
  const log = new RotatingLogFile(logs, { maxBytes: 10 });
  for (let i = 0; i < 5; i++) log.write(`line ${i} longer than the rotation size\n`);
  log.close();
  await assertDevNullUntouched();
  assert.deepEqual(await readdir(logs), [LOG_FILE_NAME], 'nothing rotated');
});

test('the network copy refuses a FIFO of the backup\'s name, and retention never removes a non-regular file', async () => {
  const copyDir = join(dir, 'copies');
  await mkdir(copyDir);
  const name = file.split('/').at(-1)!;
  mkfifo(join(copyDir, name));
  await assert.rejects(copyAndVerify(file, copyDir), (e: unknown) => isLrError(e, 'LR_IO') && /is not a regular file/.test((e as Error).message));
  assert.ok((await lstat(join(copyDir, name))).isFIFO(), 'the FIFO was neither replaced nor removed');
  assert.deepEqual((await readdir(copyDir)).filter((n) => n.endsWith('.tmp')), []);

  // An old "backup" that is a FIFO: retention keeping one file leaves it alone.
  const old = join(dir, backupFileName(database, new Date(2020, 0, 1)));
  mkfifo(old);
  const r = await applyRetention(dir, database, 1, file);
  assert.ok(!r.removed.includes(old));
  assert.ok((await lstat(old)).isFIFO());
});
