/**
 * Property test over random damage (seeded loop): whatever the damage, the
 * restore ends in bounded time with a report or a coded error, every row it
 * loads is byte-identical to the source, and the report's counts are the
 * server's. LR_DAMAGE_ITERATIONS=n runs more patterns (default 16).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDsn } from '../../src/db/dsn.js';
import { openBackup } from '../../src/decrypt/open.js';
import { restoreBackup } from '../../src/restore/restore.js';
import { isLrError } from '../../src/errors.js';
import { createTempDatabase, dropDatabase, dropTempDatabases, dsnFor } from '../helpers/db.js';
import { DAMAGE_VERSIONS, damageRun, makeGoodBackup, PASSWORD, type GoodBackup } from './good-backup.js';
import { randomDamage } from './random-damage.js';
import { verifyDamagedRestore } from './verify.js';

const ITERATIONS = Number(process.env.LR_DAMAGE_ITERATIONS ?? 16);
const FIRST_SEED = Number(process.env.LR_DAMAGE_SEED ?? 1);
/** A restore of this small backup takes about a second; a minute means it hangs. */
const TIME_LIMIT_MS = 60_000;
const EXPECTED_CODES = new Set(['LR_HEADER_DAMAGED', 'LR_NOT_BACKUP', 'LR_UNSUPPORTED_VERSION', 'LR_HOSTILE_HEADER']);

let good: GoodBackup;

// Every version a reader opens: version 2 (chunks stored as they are) and 3 (each chunk's span a zstd frame, sealed).
for (const version of DAMAGE_VERSIONS) describe(damageRun(version), () => {
  before(async () => {
    good = await makeGoodBackup({ prefix: 'lrprop_src', patients: 60, chunkSize: 1024, pieceBytes: 16 * 1024, formatVersion: version });
  });
  after(async () => {
    await good?.cleanup();
    await dropTempDatabases();
  });

  function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout;
    return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
  }

  for (let seed = FIRST_SEED; seed < FIRST_SEED + ITERATIONS; seed++) {
    test(`random damage, seed ${seed}`, async (t) => {
      const damage = randomDamage(good.bytes, good.layout, seed);
      const note = `seed ${seed}: ${damage.ops.join('; ')}`;
      t.diagnostic(note);
      const file = join(good.dir, `random-${seed}.lrb`);
      await writeFile(file, damage.bytes);
      const target = await createTempDatabase('lrprop_t', { create: false });
      let opened;
      try {
        opened = await openBackup(file, PASSWORD);
      } catch (err) {
        assert.ok(isLrError(err) && EXPECTED_CODES.has(err.code), `${note}: unexpected error ${String(err)}`);
        return;
      }
      const heapBefore = process.memoryUsage().heapUsed;
      const report = await within(TIME_LIMIT_MS, note, restoreBackup({ opened, dsn: parseDsn(dsnFor(target)) }));
      // The backup is 1 MB: a restore that grows the heap by far more holds what it should stream.
      assert.ok(process.memoryUsage().heapUsed - heapBefore < 256 << 20, `${note}: heap grew without bound`);
      const verdict = await verifyDamagedRestore({ source: good.source, target, map: good.map, chunkSize: good.chunkSize, damage: { note, lostChunks: damage.lostChunks, truncated: damage.truncated }, report });
      t.diagnostic(`lost ${verdict.lost} rows (minimum ${damage.lostChunks ? verdict.minimum : '?'}), outcome ${report.outcome}`);
      await dropDatabase(target);
    });
  }
});
