/**
 * The Windows lane (npm run test:windows): the real dist/windows/lastresort.exe
 * under Wine against the MariaDB here over TCP, as on a practice's Windows
 * server: enroll, backup, identify, check, restore, validate, with the
 * restored database compared with the source through SQL, InnoDB and MyISAM;
 * and backups crossing between the Windows executable and the Linux CLI.
 * Not part of `npm test` (Wine on a loaded 2-core machine is slow to start,
 * and Wine is not Windows: see the README's Windows section for what it
 * cannot show).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backupOf, makeSource, passwordFile, tempDir, ADMIN } from '../helpers/backup.js';
import { compareDatabases, createTempDatabase, describeDifferences, dropTempDatabases, dsnFor } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { VECTOR_PASSWORD, vectorPlaintext } from '../vectors/plaintext.js';
import { EXE, preparePrefix, runExe, winPath } from './wine.js';

const LONG = { timeout: 30 * 60_000 };
let dir: string;
let pw: string;

before(async () => {
  assert.ok(existsSync(EXE), `${EXE} is missing: run npm run package:windows`);
  preparePrefix();
  dir = await tempDir('lr wine '); // a space in every path the executable is given
  pw = await passwordFile(dir);
});
after(dropTempDatabases);

/** The Windows program's whole round trip on one source: its own producer key, its own backup, its own restore. */
async function roundTrip(source: string, opts: { testKdf: boolean }): Promise<string> {
  const producerKey = winPath(join(dir, `${source}-producer.json`));
  const out = join(dir, `${source} backups`);
  const enroll = await runExe(['keys', 'enroll', '--source', dsnFor(source), '--user', ADMIN, '--password-file', winPath(pw), '--producer-key', producerKey, ...(opts.testKdf ? ['--test-kdf'] : [])]);
  assert.equal(enroll.code, 0, enroll.stderr);
  const backup = await runExe(['backup', '--source', dsnFor(source), '--out', winPath(out), '--producer-key', producerKey, '--json']);
  assert.equal(backup.code, 0, backup.stderr);
  const made = JSON.parse(backup.stdout) as { file: string; database: string };
  assert.equal(made.database, source);
  assert.match(made.file, /^Z:\\.*\.lrb$/, 'the executable names its file in Windows form');
  const [name] = (await readdir(out)).filter((f) => f.endsWith('.lrb'));
  const file = winPath(join(out, name!));
  assert.equal(made.file, file);

  const id = await runExe(['identify', file, '--json']);
  assert.equal(id.code, 0, id.stderr);
  const shown = JSON.parse(id.stdout);
  assert.equal(shown.database, source);
  assert.equal(shown.admin.userName, ADMIN);
  assert.equal(shown.kdf.memoryKiB, opts.testKdf ? 8 * 1024 : 256 * 1024);
  const check = await runExe(['check', file, '--json']);
  assert.equal(check.code, 0, check.stderr);
  assert.equal(JSON.parse(check.stdout).intact, true);

  const target = await createTempDatabase('lr_wine_restored', { create: false });
  const restore = await runExe(['restore', file, '--target', dsnFor(target), '--password-file', winPath(pw), '--json']);
  assert.equal(restore.code, 0, restore.stderr);
  const diffs = await compareDatabases(source, target);
  assert.deepEqual(diffs, [], describeDifferences(diffs));
  const validate = await runExe(['validate', file, '--target', dsnFor(target), '--password-file', winPath(pw)]);
  assert.equal(validate.code, 0, validate.stderr);
  assert.match(validate.stdout, /every row is identical/);
  return join(out, name!);
}

test('InnoDB: enroll (the real 256 MiB argon2id, in WebAssembly), backup, identify, check, restore, validate, all by the Windows executable', LONG, async () => {
  const source = await makeSource({ patients: 30 });
  const file = await roundTrip(source, { testKdf: false });
  // The Linux CLI opens what the Windows executable made: the same format, the same key derivation.
  const target = await createTempDatabase('lr_wine_linux', { create: false });
  const r = await runCli(['restore', file, '--target', dsnFor(target), '--password-file', pw]);
  assert.equal(r.code, 0, r.stderr);
  const diffs = await compareDatabases(source, target);
  assert.deepEqual(diffs, [], describeDifferences(diffs));
});

test('MyISAM (the real 2025 Open Dental schema): the same round trip by the Windows executable', LONG, async () => {
  const source = await makeSource({ kind: 'opendental2025', patients: 15, engine: 'MyISAM' });
  await roundTrip(source, { testKdf: true });
});

test('the Windows executable restores a backup the Linux CLI made, and a wrong password exits 4 with one line', LONG, async () => {
  const source = await makeSource({ patients: 10, engine: 'MyISAM' });
  const { file } = await backupOf(source, dir);
  const target = await createTempDatabase('lr_wine_from_linux', { create: false });
  const r = await runExe(['restore', winPath(file), '--target', dsnFor(target), '--password-file', winPath(pw)]);
  assert.equal(r.code, 0, r.stderr);
  const diffs = await compareDatabases(source, target);
  assert.deepEqual(diffs, [], describeDifferences(diffs));
  const wrong = join(dir, 'wrong.txt');
  await writeFile(wrong, 'not the password\n');
  const bad = await runExe(['decrypt', winPath(file), '--out', winPath(join(dir, 'never.tar')), '--password-file', winPath(wrong)]);
  assert.equal(bad.code, 4, bad.stderr);
  assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  assert.equal(existsSync(join(dir, 'never.tar')), false);
});

test('the Windows executable decrypts the committed good vector byte for byte', LONG, async () => {
  const vpw = join(dir, 'vector-pw.txt');
  await writeFile(vpw, VECTOR_PASSWORD + '\n');
  const out = join(dir, 'vector.bin');
  const r = await runExe(['decrypt', winPath(join('test', 'vectors', 'good.lrb')), '--out', winPath(out), '--password-file', winPath(vpw)]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await readFile(out), vectorPlaintext());
});
