/**
 * Retention against real backups and real folders: old backups go only
 * after a newer one is verified, in each place separately, and the only
 * good backup is never removed: not when tonight's backup fails, not when
 * the copy fails for lack of room (a naive "make room first" would), not
 * when a wrongly dated file sorts after it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { makeSource, tempDir } from '../helpers/backup.js';
import { dropTempDatabases } from '../helpers/db.js';
import { runCycle } from '../../src/service/cycle.js';
import type { ServiceConfig } from '../../src/service/config.js';
import { closedPort, configOf, FakeClock, filesIn, mountTmpfs, serviceDir, unmount } from './helpers.js';

const DAY = 86_400_000;
let source: string;
const mounts: string[] = [];

before(async () => {
  source = await makeSource({ patients: 20, prefix: 'lrsvc_keep' });
});
after(async () => {
  for (const m of mounts) unmount(m);
  await dropTempDatabases();
});

test('keep=2: three nights leave the two newest in each place', async () => {
  const share = join(await tempDir('lrsvc-share-'), 'share');
  await mkdir(share);
  const sd = await serviceDir(source, { keep: 2, copyTo: share });
  const config = await configOf(sd);
  const clock = new FakeClock(Date.now());
  const made: string[] = [];
  for (let night = 0; night < 3; night++) {
    const r = await runCycle({ config, clock });
    assert.equal(r.outcome, 'ok', r.error?.message);
    made.push(basename(r.backup!.file));
    assert.equal(r.removed.length, night < 2 ? 0 : 2, `night ${night}`);
    clock.ms += DAY;
  }
  assert.deepEqual((await filesIn(sd.outDir)).backups.sort(), made.slice(1).sort());
  assert.deepEqual((await filesIn(share)).backups.sort(), made.slice(1).sort());
});

test('the only good backup survives a failed night, and its copy survives a copy that ran out of room', async (t) => {
  const sd = await serviceDir(source, { keep: 1 });
  let config: ServiceConfig = await configOf(sd);
  const clock = new FakeClock(Date.now());

  const first = await runCycle({ config, clock });
  assert.equal(first.outcome, 'ok', first.error?.message);

  // A share with room for one backup and a half: a second copy cannot fit beside the first.
  const share = join(await tempDir('lrsvc-small-'), 'share');
  const pages = Math.ceil((first.backup!.bytes * 1.5) / 4096);
  const problem = await mountTmpfs(share, `size=${pages * 4096}`);
  if (problem) return t.skip(problem);
  mounts.push(share);
  config = { ...config, copyTo: share };

  clock.ms += DAY;
  const second = await runCycle({ config, clock });
  assert.equal(second.outcome, 'ok', second.error?.message);
  const goodCopy = (await filesIn(share)).backups;
  assert.equal(goodCopy.length, 1);
  assert.deepEqual((await filesIn(sd.outDir)).backups, [basename(second.backup!.file)]); // keep=1, the newer one verified

  // Night three: the database is down. Nothing may be removed anywhere.
  clock.ms += DAY;
  const down = await runCycle({ config: { ...config, source: `mysql://root@127.0.0.1:${await closedPort()}/x` }, clock });
  assert.equal(down.outcome, 'failed');
  assert.deepEqual((await filesIn(sd.outDir)).backups, [basename(second.backup!.file)]);
  assert.deepEqual((await filesIn(share)).backups, goodCopy);

  // Night four: the backup works but its copy does not fit. The old copy stays, whole.
  clock.ms += DAY;
  const before = await readFile(join(share, goodCopy[0]!));
  const fourth = await runCycle({ config, clock });
  assert.equal(fourth.outcome, 'copy-failed');
  assert.match(fourth.copy!.message!, /is full/);
  assert.deepEqual((await filesIn(share)).all, goodCopy);
  assert.ok((await readFile(join(share, goodCopy[0]!))).equals(before));
  assert.deepEqual((await filesIn(sd.outDir)).backups, [basename(fourth.backup!.file)]);
});

test('a wrongly dated file that sorts after tonight cannot push the verified backup out; other files are left alone', async () => {
  const sd = await serviceDir(source, { keep: 1 });
  await mkdir(sd.outDir, { recursive: true });
  const future = join(sd.outDir, `${source}-20991231-235959.lrb`);
  await writeFile(future, 'not a backup at all');
  const otherDatabase = join(sd.outDir, `${source}x-20200101-000000.lrb`);
  const notes = join(sd.outDir, 'README.txt');
  await writeFile(otherDatabase, 'another database');
  await writeFile(notes, 'notes');
  const r = await runCycle({ config: await configOf(sd), clock: new FakeClock(Date.now()) });
  assert.equal(r.outcome, 'ok', r.error?.message);
  assert.ok((await stat(r.backup!.file)).size > 0);
  assert.deepEqual(r.removed, [future]);
  assert.deepEqual((await filesIn(sd.outDir)).all.sort(), [basename(r.backup!.file), basename(otherDatabase), 'README.txt'].sort());
});
