/**
 * The damage suite (issue 4): each kind of damage, made from one good backup
 * of a real database, restored into a fresh database on the real server and
 * checked against the source with SQL (verify.ts says what is checked).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDsn } from '../../src/db/dsn.js';
import { openBackup } from '../../src/decrypt/open.js';
import { restoreBackup } from '../../src/restore/restore.js';
import { isLrError } from '../../src/errors.js';
import type { RestoreReport } from '../../src/restore/report.js';
import { createTempDatabase, dropDatabase, dropTempDatabases, dsnFor, connectServer } from '../helpers/db.js';
import { passwordFile } from '../helpers/backup.js';
import { runCli } from '../helpers/cli.js';
import { injectDamage, type Damage, type DamageKind } from './inject.js';
import { DAMAGE_VERSIONS, damageRun, makeGoodBackup, PASSWORD, type GoodBackup } from './good-backup.js';
import { verifyDamagedRestore, type Verdict } from './verify.js';

let good: GoodBackup;

after(async () => {
  await dropTempDatabases();
});

async function damaged(kind: DamageKind, seed: number, opts: { plaintextOffset?: number } = {}): Promise<{ damage: Damage; file: string }> {
  const damage = injectDamage(good.bytes, good.layout, kind, seed, opts);
  const file = join(good.dir, `${kind}-${seed}.lrb`);
  await writeFile(file, damage.bytes);
  return { damage, file };
}

async function restoreDamaged(kind: DamageKind, seed: number, opts: { plaintextOffset?: number } = {}): Promise<{ damage: Damage; report: RestoreReport; verdict: Verdict; target: string }> {
  const { damage, file } = await damaged(kind, seed, opts);
  const target = await createTempDatabase('lrdmg_t', { create: false });
  const report = await restoreBackup({ opened: await openBackup(file, PASSWORD), dsn: parseDsn(dsnFor(target)) });
  const verdict = await verifyDamagedRestore({ source: good.source, target, map: good.map, chunkSize: good.chunkSize, damage, report });
  return { damage, report, verdict, target };
}

/** The reader lost no chunk the damage did not touch. */
function lostOnlyWhatWasHit(report: RestoreReport, damage: Damage): void {
  const hit = new Set(damage.lostChunks);
  for (const [a, b] of report.damage.damagedRanges) for (let c = a; c <= b; c++) assert.ok(hit.has(c), `chunk ${c} reported lost, but the damage did not touch it (${damage.note})`);
}

const ROW_DAMAGE: DamageKind[] = ['flip-1', 'flip-5', 'flip-20', 'zero-1mib', 'flip-last', 'truncate-random', 'truncate-boundary', 'zero-first-header', 'delete-1000', 'insert-1000', 'swap-2', 'append-garbage'];

// Every version a reader opens: version 2 (chunks stored as they are) and 3 (each chunk's span a zstd frame, sealed).
for (const version of DAMAGE_VERSIONS) describe(damageRun(version), () => {
  before(async () => {
    // About 9,000 rows in 4 KiB chunks (spans) and pieces of 64 KiB and more: damage meets rows, piece headers and entries.
    good = await makeGoodBackup({ prefix: 'lrdmg_src', patients: 300, formatVersion: version });
  });
  after(async () => {
    await good?.cleanup();
  });

  describe('each kind of damage restores what survived, and says what did not', () => {
    for (const kind of ROW_DAMAGE) {
      for (const seed of [1, 2, 3]) {
        test(`${kind} (seed ${seed})`, async (t) => {
          const { damage, report, verdict, target } = await restoreDamaged(kind, seed);
          t.diagnostic(`${damage.note}: lost ${verdict.lost} rows, minimum ${verdict.minimum}`);
          lostOnlyWhatWasHit(report, damage);
          if (!damage.truncated) assert.equal(report.damage.chunks, good.layout.frames.length, 'chunks');
          assert.equal(report.damage.headerCopyUsed, kind === 'zero-first-header');
          if (damage.lostChunks.length === 0) {
            assert.equal(verdict.lost, 0, `nothing was lost, yet rows are missing (${damage.note})`);
            assert.equal(report.outcome, 'complete');
          } else if (!damage.truncated) {
            assert.deepEqual(new Set(report.damage.damagedRanges.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i))), new Set(damage.lostChunks), 'exactly the chunks hit are reported');
            assert.equal(report.damage.bytesLost, damage.lostChunks.reduce((n, c) => n + Math.min(good.chunkSize, good.plaintext.length - c * good.chunkSize), 0), 'bytesLost');
          }
          if (damage.truncated) {
            // Tables that start after the cut were never reached: missing, with their rows counted as lost.
            const cut = report.damage.chunks * good.chunkSize;
            for (const [name, [start]] of good.map.extents) {
              const row = report.tables.find((x) => x.name === name)!;
              if (start >= cut) assert.equal(row.status, 'missing', `${name} starts after the cut`);
            }
          }
          await dropDatabase(target);
        });
      }
    }
  });

  describe("damage inside a table's CREATE statement", () => {
    // The first table's schema.sql follows the catalog (which holds the other copy of every CREATE):
    // one chunk can hold the end of both, and the table comes from what is left of the catalog.
    const first = () => good.map.entries.find((e) => e.path === 'tables/00001/schema.sql')!.pax['LR.table']!;
    for (const [label, table] of [['patient', () => 'patient'], ['the first table, next to the end of the catalog', first]] as const) {
      for (const at of [0.5, 0]) {
        test(`${label}, ${at ? 'mid-statement' : 'its first byte'}: made from the catalog copy, keeps every row the damage did not touch`, async () => {
          const name = table();
          const entry = good.map.entries.find((e) => e.path.endsWith('/schema.sql') && e.pax['LR.table'] === name)!;
          const { report, verdict, target, damage } = await restoreDamaged('flip-schema', 1, { plaintextOffset: Math.floor(entry.dataStart + at * (entry.dataEnd - entry.dataStart)) });
          lostOnlyWhatWasHit(report, damage);
          assert.equal(report.damage.damagedChunks, 1);
          const conn = await connectServer();
          try {
            const show = async (db: string) => ((await conn.query(`SHOW CREATE TABLE \`${db}\`.\`${name}\``)) as unknown as [Record<string, string>[]])[0][0]!['Create Table']!.replace(/ AUTO_INCREMENT=\d+/, '');
            assert.equal(await show(target), await show(good.source), `${name} was created as in the source`);
          } finally {
            await conn.end();
          }
          assert.ok(verdict.tables.find((x) => x.name === name), `${name} was checked`);
          await dropDatabase(target);
        });
      }
    }
  });

  describe('damage that leaves nothing to restore is a clear error', () => {
    const cases: { kind: DamageKind; code: string; exit: number; says: RegExp }[] = [
      { kind: 'zero-both-headers', code: 'LR_HEADER_DAMAGED', exit: 3, says: /Both copies of this backup's header are damaged/ },
      { kind: 'truncate-header', code: 'LR_HEADER_DAMAGED', exit: 3, says: /header/ },
      { kind: 'truncate-0', code: 'LR_NOT_BACKUP', exit: 5, says: /is empty/ },
    ];
    for (const c of cases) {
      for (const seed of [1, 2]) {
        test(`${c.kind} (seed ${seed}): ${c.code}, exit ${c.exit}`, async () => {
          const { file } = await damaged(c.kind, seed);
          await assert.rejects(openBackup(file, PASSWORD), (err: unknown) => isLrError(err) && err.code === c.code && c.says.test(err.message));
          const target = await createTempDatabase('lrdmg_t', { create: false });
          const r = await runCli(['restore', file, '--target', dsnFor(target), '--password-file', await passwordFile(good.dir), '--json']);
          assert.equal(r.code, c.exit, r.stderr);
          assert.match(r.stderr, c.says);
          assert.equal(r.stdout, '', 'nothing on stdout');
          const conn = await connectServer();
          const [dbs] = (await conn.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [target])) as unknown as [unknown[]];
          await conn.end();
          assert.equal(dbs.length, 0, 'nothing was created on the server');
        });
      }
    }
  });

  describe('the CLI on a damaged backup', () => {
    test('restore exits 3 with outcome partial and a filled damage block; the report file says the same', async () => {
      const { file, damage } = await damaged('flip-5', 7);
      const target = await createTempDatabase('lrdmg_t', { create: false });
      const reportPath = join(good.dir, 'report.json');
      const r = await runCli(['restore', file, '--target', dsnFor(target), '--password-file', await passwordFile(good.dir), '--json', '--report', reportPath]);
      assert.equal(r.code, 3, r.stderr);
      const report = JSON.parse(r.stdout) as RestoreReport;
      assert.equal(report.outcome, 'partial');
      assert.deepEqual(Object.keys(report.damage).sort(), ['bytesLost', 'chunks', 'damagedChunks', 'damagedRanges', 'headerCopyUsed', 'truncated']);
      assert.equal(report.damage.chunks, good.layout.frames.length);
      assert.equal(report.damage.damagedChunks, 5);
      assert.equal(report.damage.truncated, false);
      assert.equal(report.damage.headerCopyUsed, false);
      assert.deepEqual(JSON.parse(await readFile(reportPath, 'utf8')).damage, report.damage);
      await verifyDamagedRestore({ source: good.source, target, map: good.map, chunkSize: good.chunkSize, damage, report });
      // Every partial table names the key range it lost, so the office knows which patients to re-check.
      for (const t of report.tables.filter((x) => x.status === 'partial')) assert.ok((t.lostKeyRanges ?? []).length > 0, `${t.name}: no key range given`);
      assert.match(await readFile(reportPath.replace(/\.json$/, '.md'), 'utf8'), /\| partial \|/);
      await dropDatabase(target);
    });
  });
});
