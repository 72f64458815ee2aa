/**
 * Damage inside a view definition (the exotic fixture: views on views,
 * triggers, routines, an event, odd tables): the rows all come back, the
 * objects whose definitions were hit are named in the report, and the
 * others are created.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDsn } from '../../src/db/dsn.js';
import { openBackup } from '../../src/decrypt/open.js';
import { restoreBackup } from '../../src/restore/restore.js';
import { connectServer, createTempDatabase, dropDatabase, dropTempDatabases, dsnFor } from '../helpers/db.js';
import { injectDamage } from './inject.js';
import { DAMAGE_VERSIONS, damageRun, makeGoodBackup, PASSWORD, type GoodBackup } from './good-backup.js';
import { verifyDamagedRestore } from './verify.js';

let good: GoodBackup;

// Every version a reader opens: version 2 (chunks stored as they are) and 3 (each chunk's span a zstd frame, sealed).
for (const version of DAMAGE_VERSIONS) describe(damageRun(version), () => {
  before(async () => {
    good = await makeGoodBackup({ prefix: 'lrdmgobj_src', kind: 'exotic', chunkSize: 1024, pieceBytes: 4096, formatVersion: version });
  });
  after(async () => {
    await good?.cleanup();
    await dropTempDatabases();
  });

  async function objectNames(db: string): Promise<Set<string>> {
    const conn = await connectServer();
    try {
      const [views] = (await conn.query('SELECT TABLE_NAME AS n FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?', [db])) as unknown as [{ n: string }[]];
      const [triggers] = (await conn.query('SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?', [db])) as unknown as [{ n: string }[]];
      const [routines] = (await conn.query('SELECT ROUTINE_NAME AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?', [db])) as unknown as [{ n: string }[]];
      const [events] = (await conn.query('SELECT EVENT_NAME AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?', [db])) as unknown as [{ n: string }[]];
      return new Set([...views, ...triggers, ...routines, ...events].map((r) => r.n));
    } finally {
      await conn.end();
    }
  }

  for (const which of [0, 1]) {
    test(`a flipped byte inside view definition #${which + 1}: rows all restored, the lost objects named`, async (t) => {
      const views = good.map.entries.filter((e) => e.path.startsWith('objects/view/'));
      assert.ok(views.length >= 2, 'the exotic fixture has two views');
      const entry = views[which]!;
      const damage = injectDamage(good.bytes, good.layout, 'flip-view', which + 1, { plaintextOffset: Math.floor((entry.dataStart + entry.dataEnd) / 2) });
      const file = join(good.dir, `view-${which}.lrb`);
      await writeFile(file, damage.bytes);
      const target = await createTempDatabase('lrdmgobj_t', { create: false });
      const report = await restoreBackup({ opened: await openBackup(file, PASSWORD), dsn: parseDsn(dsnFor(target)) });
      const verdict = await verifyDamagedRestore({ source: good.source, target, map: good.map, chunkSize: good.chunkSize, damage, report });
      assert.equal(verdict.lost, verdict.minimum, 'object entries hold no rows: no row is lost unless it shares the chunk');
      assert.equal(report.outcome, 'partial');

      // Objects whose entry (header or body) meets the damaged chunk are lost, and named; every other one exists.
      const [lo, hi] = [damage.lostChunks[0]! * good.chunkSize, (damage.lostChunks[0]! + 1) * good.chunkSize];
      const hitNames = good.map.entries
        .filter((e) => e.path.startsWith('objects/') && e.headerStart < hi && lo < e.dataEnd)
        .map((e) => (JSON.parse(good.plaintext.toString('utf8', e.dataStart, e.dataEnd)) as { name: string }).name);
      assert.ok(hitNames.length > 0);
      const named = new Set(report.objectErrors.map((o) => o.name));
      t.diagnostic(`${damage.note}: definitions hit ${hitNames.join(', ')}; report names ${[...named].join(', ')}`);
      for (const n of hitNames) assert.ok(named.has(n), `${n} was lost but the report does not name it`);
      const inSource = await objectNames(good.source);
      const inTarget = await objectNames(target);
      for (const n of inSource) assert.equal(inTarget.has(n), !named.has(n), `${n}: exists in the target exactly when the report does not name it`);
      const kinds = Object.values(report.objects);
      assert.equal(kinds.reduce((s, k) => s + k.expected - k.restored, 0), report.objectErrors.length, 'counts agree with the names');
      await dropDatabase(target);
    });
  }
});
