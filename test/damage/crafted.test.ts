/**
 * Crafted frames (forge.ts) in a real backup of a real database, restored
 * into a fresh database on the real server and checked against the source
 * with SQL (verify.ts): forged frames with indexes near 2^48 cost nothing,
 * a shortened head costs its chunk and moves no later byte, a final frame
 * swapped with the one before costs nothing, an authentic frame beyond the
 * final is dropped, a fake frame inserted before a genuine one costs
 * nothing (the restore looks a frame on, as the in-order reader does). On each, `check` without the password finds the chunks
 * the restore lost, and decrypting never yields more than the plaintext.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDsn } from '../../src/db/dsn.js';
import { openBackup, payloadOf } from '../../src/decrypt/open.js';
import { restoreBackup } from '../../src/restore/restore.js';
import { checkFile } from '../../src/identify/check.js';
import type { RestoreReport } from '../../src/restore/report.js';
import { createTempDatabase, dropDatabase, dropTempDatabases, dsnFor } from '../helpers/db.js';
import { passwordFile } from '../helpers/backup.js';
import { runCli } from '../helpers/cli.js';
import { authenticBeyondFinal, fakeFrameBefore, forgeFarAhead, forgeFarFinalAfterCut, shortenHead, swapFinal, type Crafted } from './forge.js';
import { DAMAGE_VERSIONS, damageRun, makeGoodBackup, PASSWORD, type GoodBackup } from './good-backup.js';
import { toRanges, verifyDamagedRestore } from './verify.js';

let good: GoodBackup;

// Every version a reader opens: version 2 (chunks stored as they are) and 3 (each chunk's span a zstd frame, sealed).
for (const version of DAMAGE_VERSIONS) describe(damageRun(version), () => {
  before(async () => {
    good = await makeGoodBackup({ prefix: 'lrcraft_src', patients: 120, formatVersion: version });
  });
  after(async () => {
    await good?.cleanup();
    await dropTempDatabases();
  });

  async function written(name: string, crafted: Crafted): Promise<string> {
    const file = join(good.dir, `${name}.lrb`);
    await writeFile(file, crafted.bytes);
    return file;
  }

  /** The decrypted payload, segment by segment: stops (and fails) as soon as it passes the plaintext's size. */
  async function decryptedBytes(file: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    let bytes = 0;
    for await (const s of payloadOf(await openBackup(file, PASSWORD)).segments) {
      bytes += s.data ? s.data.length : s.hole;
      assert.ok(bytes <= good.plaintext.length, `decrypting yielded ${bytes} bytes, more than the ${good.plaintext.length} of plaintext`);
      parts.push(s.data ?? Buffer.alloc(s.hole));
    }
    return Buffer.concat(parts);
  }

  const cases: [string, () => Promise<Crafted>][] = [
    ['nine forged frames near 2^48 (seed 1)', async () => forgeFarAhead(good.bytes, good.layout, 1)],
    ['nine forged frames near 2^48 (seed 2)', async () => forgeFarAhead(good.bytes, good.layout, 2)],
    ['a forged final frame at 2^48-1 after a cut', async () => forgeFarFinalAfterCut(good.bytes, good.layout, 1)],
    ['a head shortened to S = 500', async () => shortenHead(good.bytes, good.layout, Math.floor(good.layout.frames.length / 2))],
    ['the final frame swapped with the one before', async () => swapFinal(good.bytes, good.layout)],
    ['an authentic frame beyond the final', async () => authenticBeyondFinal(good.bytes, good.layout, (await openBackup(good.file, PASSWORD)).unlocked.payloadKey)],
    // Restore reads tables at their place in the file: the fake sits at chunk i's place, the genuine one a frame on.
    ['a fake frame before a genuine chunk in the middle', async () => fakeFrameBefore(good.bytes, good.layout, Math.floor(good.layout.frames.length / 3))],
    ['a fake frame before chunk 1', async () => fakeFrameBefore(good.bytes, good.layout, 1)],
  ];

  for (const [label, make] of cases) {
    test(`${label}: the restore keeps every intact table; check and decrypt agree`, async (t) => {
      const crafted = await make();
      t.diagnostic(crafted.note);
      const file = await written(label.replace(/\W+/g, '-'), crafted);

      const plain = await decryptedBytes(file);
      const kept = crafted.truncated ? crafted.lostChunks[0]! * good.chunkSize : good.plaintext.length;
      assert.equal(plain.length, kept, 'decrypt yields the plaintext, or all of it up to the cut');
      const expected = Buffer.from(good.plaintext.subarray(0, kept));
      for (const c of crafted.lostChunks) if (c * good.chunkSize < kept) expected.fill(0, c * good.chunkSize, Math.min(kept, (c + 1) * good.chunkSize));
      assert.ok(plain.equals(expected), 'every byte at its place, lost chunks as zeros');

      const target = await createTempDatabase('lrcraft_t', { create: false });
      const report: RestoreReport = await restoreBackup({ opened: await openBackup(file, PASSWORD), dsn: parseDsn(dsnFor(target)) });
      const verdict = await verifyDamagedRestore({ source: good.source, target, map: good.map, chunkSize: good.chunkSize, damage: crafted, report });
      const lost = crafted.truncated ? [] : crafted.lostChunks;
      assert.deepEqual(report.damage.damagedRanges, toRanges(lost), 'the restore lost exactly the chunks the crafting destroyed');
      assert.equal(report.damage.truncated, crafted.truncated);
      if (crafted.lostChunks.length === 0) {
        assert.equal(verdict.lost, 0, 'no row lost');
        assert.equal(report.outcome, 'complete');
        assert.ok(report.tables.length > 0 && report.tables.every((x) => x.status === 'restored'), 'every table restored');
      }

      const check = await checkFile(file);
      assert.deepEqual({ ranges: check.damagedRanges, chunks: check.chunks, truncated: check.truncated }, { ranges: report.damage.damagedRanges, chunks: report.damage.chunks, truncated: report.damage.truncated }, 'check without the password finds the same');
      await dropDatabase(target);
    });
  }

  test('the CLI: restore of nine forged frames near 2^48 exits 0 with every table restored; check exits 0', async () => {
    const file = await written('cli-far-ahead', forgeFarAhead(good.bytes, good.layout, 3));
    const target = await createTempDatabase('lrcraft_t', { create: false });
    const r = await runCli(['restore', file, '--target', dsnFor(target), '--password-file', await passwordFile(good.dir), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as RestoreReport;
    assert.equal(report.outcome, 'complete');
    assert.equal(report.damage.damagedChunks, 0);
    assert.equal(report.tables.filter((x) => x.status === 'restored').length, good.map.rows.size, 'every table restored');
    const c = await runCli(['check', file, '--json']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(JSON.parse(c.stdout).chunks, good.layout.frames.length);
    await dropDatabase(target);
  });
});
