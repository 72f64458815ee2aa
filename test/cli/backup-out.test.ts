/**
 * `backup --out` naming a file (or a path under one) instead of a folder:
 * one plain line and exit 2, the file untouched, no internal-error file
 * (mkdir's EEXIST used to surface as an internal error with a crash file).
 * A folder that does not exist yet is still made.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSource, tempDir } from '../helpers/backup.js';
import { dropTempDatabases, dsnFor } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';

let source: string;
let dir: string;

before(async () => {
  dir = await tempDir('lr-backup-out-');
  source = await makeSource({ patients: 5, prefix: 'lr_backup_out', engine: 'MyISAM' });
});
after(dropTempDatabases);

const crashFiles = async () => (await readdir(tmpdir())).filter((n) => n.startsWith('lastresort-error-'));

for (const under of [false, true]) {
  test(`backup --out naming ${under ? 'a path under a file' : 'an existing file'}: one line, exit 2, the file untouched, no crash file`, async () => {
    const file = join(dir, `existing-${under}.lrb`);
    await writeFile(file, 'not a folder\n');
    const out = under ? join(file, 'backups') : file;
    const crashesBefore = await crashFiles();
    const r = await runCli(['backup', '--source', dsnFor(source), '--out', out]);
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], new RegExp(`^lastresort: --out names the folder to write the backup into, and ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.* is a file, not a folder\\.`));
    assert.doesNotMatch(r.stderr, /internal error|EEXIST|ENOTDIR/);
    assert.equal(await readFile(file, 'utf8'), 'not a folder\n');
    assert.deepEqual(await crashFiles(), crashesBefore);
  });
}

test('backup --out naming a folder that does not exist yet: it is made and holds the backup', async () => {
  const out = join(dir, 'new', 'folder');
  const r = await runCli(['backup', '--source', dsnFor(source), '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await readdir(out)).filter((n) => n.endsWith('.lrb')).length, 1);
});
