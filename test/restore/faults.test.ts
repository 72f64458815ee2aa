/**
 * Faults on the restore side against the real server: two restores started
 * together into one new database (the server's named lock lets exactly one
 * run; the other changes nothing).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { backupOf, makeSource, passwordFile, tempDir } from '../helpers/backup.js';
import { compareDatabases, createTempDatabase, describeDifferences, dropTempDatabases, dsnFor } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';

let source: string;
let file: string;
let pwFile: string;

before(async () => {
  const dir = await tempDir();
  pwFile = await passwordFile(dir);
  source = await makeSource({ patients: 3000, prefix: 'lr_faults_src' });
  file = (await backupOf(source, dir, { pieceBytes: 256 * 1024 })).file;
});
after(dropTempDatabases);

for (let round = 1; round <= 5; round++) {
  test(`two restores into one new database started together (round ${round}): one runs, one is refused, the survivor is identical`, async () => {
    const target = await createTempDatabase('lr_faults_twin', { create: false });
    const args = ['restore', file, '--target', dsnFor(target), '--password-file', pwFile];
    const [a, b] = await Promise.all([runCli(args), runCli(args)]);
    assert.deepEqual([a.code, b.code].sort(), [0, 1], `${a.stderr}\n${b.stderr}`);
    const refused = a.code === 1 ? a : b;
    assert.match(refused.stderr, new RegExp(`^lastresort: Another restore into ${target} on .* is running, so this one did not start and changed nothing\\.`, 'm'));
    assert.equal(refused.stderr.split('\n').filter((l) => l.startsWith('lastresort:')).length, 1, refused.stderr);
    const diffs = await compareDatabases(source, target);
    assert.deepEqual(diffs, [], describeDifferences(diffs));
  });
}
