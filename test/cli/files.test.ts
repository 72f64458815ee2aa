/**
 * Files the tool writes: `decrypt --out` never replaces a file unless --force,
 * and every output, report and log file ends up mode 0600 even when a file of
 * another mode was there before.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/system/atomic-file.js';
import { isLrError } from '../../src/errors.js';
import { backupOf, makeSource, passwordFile, tempDir } from '../helpers/backup.js';
import { createTempDatabase, dropTempDatabases, dsnFor } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
let file: string;
let pwFile: string;

before(async () => {
  const source = await makeSource({ patients: 10, prefix: 'lr_files_src' });
  dir = await tempDir();
  file = (await backupOf(source, dir)).file;
  pwFile = await passwordFile(dir);
});
after(dropTempDatabases);

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

/** A file a person left there earlier, readable by everyone. */
async function oldFile(name: string, text = 'old contents\n'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  await chmod(path, 0o644);
  return path;
}

test('decrypt --out refuses an existing file unless --force, and the output is 0600 either way', async () => {
  const out = await oldFile('existing.tar');
  const refused = await runCli(['decrypt', file, '--out', out, '--password-file', pwFile]);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /already exists\. Choose another name, or add --force to replace it\./);
  assert.equal(refused.stderr.trim().split('\n').length, 1, 'one line');
  assert.equal(await readFile(out, 'utf8'), 'old contents\n', 'the file is untouched');
  assert.equal(await modeOf(out), 0o644);

  const forced = await runCli(['decrypt', file, '--out', out, '--password-file', pwFile, '--force']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.notEqual(await readFile(out, 'utf8'), 'old contents\n');
  assert.equal(await modeOf(out), 0o600, 'replaced by a 0600 file');

  const fresh = join(dir, 'fresh.tar');
  const created = await runCli(['decrypt', file, '--out', fresh, '--password-file', pwFile]);
  assert.equal(created.code, 0, created.stderr);
  assert.equal(await modeOf(fresh), 0o600);
  assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), [], 'no temporary file left');
});

test('restore --report over existing 0644 files leaves 0600 files; --log-file too', async () => {
  const report = await oldFile('report.json');
  const md = await oldFile('report.md');
  const logFile = await oldFile('restore.log', '');
  const target = await createTempDatabase('lr_files_tgt', { create: false });
  const r = await runCli(['--log-file', logFile, 'restore', file, '--target', dsnFor(target), '--password-file', pwFile, '--report', report]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(await readFile(report, 'utf8')).outcome, 'complete', 'the new report replaced the old file');
  assert.match(await readFile(md, 'utf8'), /complete/i);
  for (const path of [report, md, logFile]) assert.equal(await modeOf(path), 0o600, path);
  assert.ok((await stat(logFile)).size > 0, 'the log was written');
});

test('writeFileAtomic: a replaced file becomes 0600; with replace: false an existing file is refused and kept', async () => {
  const path = await oldFile('settings.json');
  await writeFileAtomic(path, '{}\n');
  assert.equal(await modeOf(path), 0o600);
  assert.equal(await readFile(path, 'utf8'), '{}\n');
  await assert.rejects(writeFileAtomic(path, 'new\n', { replace: false }), (e: unknown) => isLrError(e, 'LR_USAGE'));
  assert.equal(await readFile(path, 'utf8'), '{}\n');
  assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), [], 'no temporary file left');
});
