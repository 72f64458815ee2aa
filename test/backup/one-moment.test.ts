/**
 * One moment across every table (issue 25). This first slice holds the
 * control only: on InnoDB, an office writing pairs (a row into pair_a, then
 * one with the same key into pair_b) during a two-connection backup gets,
 * after the restore, all its pairs whole but at most one. The MyISAM, Aria and
 * mixed cases, and the long SELECT and privilege cases, follow with the
 * producer's one-moment fields (lockWaitSeconds, oneMoment, writesHeldMs).
 */
import { before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDsn } from '../../src/db/dsn.js';
import { openBackup } from '../../src/decrypt/open.js';
import { restoreBackup } from '../../src/restore/restore.js';
import { runBackup, type BackupResult } from '../../src/backup/index.js';
import { PASSWORD, tempDir } from '../helpers/backup.js';
import { createTempDatabase, dsnFor } from '../helpers/db.js';
import { MIXES, allInnoDB, halfPairs, makePairSource, startPairWriter, type WriterStats } from '../helpers/office.js';

for (const mix of MIXES.filter(allInnoDB)) {
  describe(mix.label, () => {
    let source = '';
    before(async () => {
      source = await makePairSource(mix);
    });

    test('pairs written during the backup come back whole, all but at most one', async (t: TestContext) => {
      const dir = await tempDir('lr-moment-');
      const writer = startPairWriter(source);
      let result: BackupResult;
      let stats: WriterStats;
      try {
        await sleep(200);
        result = await runBackup({ source: parseDsn(dsnFor(source)), outDir: dir, connections: 2, pieceBytes: 16 << 10, rangeBytes: 64 << 10 });
        await sleep(100);
      } finally {
        stats = await writer.stop();
      }
      t.diagnostic(`backup ${result.durationMs} ms over ${result.connections} connections; writer ${stats.rounds} rounds, longest ${stats.longest.pairs.ms.toFixed(0)} ms`);
      assert.equal(result.connections, 2, 'read over two connections');
      const target = await createTempDatabase('lr_moment_pairs', { create: false });
      const report = await restoreBackup({ opened: await openBackup(result.file, PASSWORD), dsn: parseDsn(dsnFor(target)) });
      assert.equal(report.outcome, 'complete');
      const { half, whole } = await halfPairs(target);
      t.diagnostic(`${whole} whole pairs in the file, ${half} half, of ${stats.rounds} written`);
      assert.ok(whole > 0, 'pairs written before the moment are in the file');
      assert.ok(stats.rounds > whole + half, 'pairs were still being written after the moment');
      assert.ok(half <= 1, `at most one pair half there, not ${half} (of ${whole + half})`);
    });
  });
}
