/**
 * The three checks every damaged restore must pass, through SQL against the
 * source database:
 *   (a) every restored row exists byte for byte in the source;
 *   (b) the rows lost per table lie between the rows touching the damage and
 *       that plus one row on each side of each damaged range;
 *   (c) the report's counts, statuses and damage block equal what happened.
 */
import assert from 'node:assert/strict';
import { quoteId, type Connection } from '../../src/db/connect.js';
import type { RestoreReport } from '../../src/restore/report.js';
import type { LostRange } from '../../src/restore/clean-rows.js';
import { connectServer } from '../helpers/db.js';
import { query, rowCounts, wrongRows } from './sql.js';
import { minimumLoss, plaintextRanges, toRanges, type RowMap } from './row-map.js';

export { toRanges };

/**
 * For a table with a one-column integer key: every lost key lies inside a
 * range the report gave (after < key < before, null meaning open).
 */
async function lostKeysInRanges(conn: Connection, source: string, target: string, table: string, ranges: LostRange[]): Promise<void> {
  const pk = await query(conn, `SELECT COLUMN_NAME AS c, DATA_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_KEY = 'PRI'`, [source, table]);
  if (pk.length !== 1 || !/int$/.test(String(pk[0]!.t))) return;
  const k = quoteId(String(pk[0]!.c));
  const lost = await query(conn, `SELECT s.${k} AS k FROM ${quoteId(source)}.${quoteId(table)} s LEFT JOIN ${quoteId(target)}.${quoteId(table)} r ON r.${k} = s.${k} WHERE r.${k} IS NULL`);
  for (const { k: key } of lost) {
    const n = Number(key);
    const inside = ranges.some((r) => (r.after === null || n > Number(r.after[0])) && (r.before === null || n < Number(r.before[0])));
    assert.ok(inside, `${table}: lost key ${n} is in no reported range (${JSON.stringify(ranges)})`);
  }
}

export interface Verdict {
  /** Per table: source rows, restored rows, and the bounds on the loss. */
  tables: { name: string; source: number; restored: number; lost: number; min: number; max: number }[];
  lost: number;
  minimum: number;
}

/**
 * Runs (a), (b) and (c) and returns the figures. `damage.lostChunks` is the
 * truth from the injector: the upper bound uses it, the lower bound uses
 * the chunks the reader said it lost (their rows cannot have come back).
 */
/** What verify needs to know of the damage: null where it is unknown (bytes moved), and that check is skipped. */
export interface KnownDamage {
  note: string;
  lostChunks: number[] | null;
  truncated: boolean | null;
}

export async function verifyDamagedRestore(o: { source: string; target: string; map: RowMap; chunkSize: number; damage: KnownDamage; report: RestoreReport }): Promise<Verdict> {
  const { map, chunkSize, damage, report } = o;
  const conn = await connectServer();
  try {
    const sourceCounts = await rowCounts(conn, o.source);
    const targetCounts = await rowCounts(conn, o.target);
    // Chunks the truth says are lost; a truncated file also loses everything after the cut.
    const truth = plaintextRanges(toRanges(damage.lostChunks ?? []), chunkSize, map.plaintextBytes);
    if (damage.truncated && truth.length > 0) truth[truth.length - 1]![1] = map.plaintextBytes;
    const said = plaintextRanges(report.damage.damagedRanges, chunkSize, map.plaintextBytes);
    if (report.damage.truncated) said.push([report.damage.chunks * chunkSize, map.plaintextBytes]);
    const upper = minimumLoss(map, truth);
    const lower = minimumLoss(map, said);

    const verdict: Verdict = { tables: [], lost: 0, minimum: 0 };
    for (const [name, sourceRows] of sourceCounts) {
      if (!map.rows.has(name)) continue; // not in the backup (e.g. created by the restore)
      const restored = targetCounts.get(name) ?? 0;
      // (a) nothing restored that the source does not hold, byte for byte
      if (targetCounts.has(name)) assert.equal(await wrongRows(conn, o.source, o.target, name), 0, `${name}: restored rows that differ from the source (${damage.note})`);
      assert.ok(restored <= sourceRows, `${name}: more rows restored than the source has`);
      const lost = sourceRows - restored;
      const up = upper.get(name)!;
      const min = lower.get(name)!.touched;
      const max = up.touched + 2 * up.ranges;
      // (b) lost at least what touched the damage the reader reported, at most the truth's minimum plus a row per side
      assert.ok(lost >= min, `${name}: lost ${lost} rows, but ${min} rows touch the reported damage: unauthenticated rows were loaded? (${damage.note})`);
      if (damage.lostChunks && lost > max) {
        const hit = map.entries.filter((e) => truth.some(([s, x]) => e.headerStart < x && s < e.dataEnd)).map((e) => `${e.path} [${e.headerStart}, ${e.dataStart}, ${e.dataEnd})`);
        assert.fail(`${name}: lost ${lost} rows, at most ${max} allowed (${up.touched} touch the damage, ${up.ranges} damaged ranges) (${damage.note}); damaged plaintext ${JSON.stringify(truth)} meets ${hit.join('; ')}`);
      }
      verdict.tables.push({ name, source: sourceRows, restored, lost, min: up.touched, max });
      verdict.lost += lost;
      verdict.minimum += up.touched;

      // (c) the report says what happened
      const t = report.tables.find((x) => x.name === name);
      if (!t) {
        // Only when both lists of tables (catalog first, manifest last) were lost can a table go unnamed.
        assert.ok(restored === 0 && report.outcome !== 'complete' && !report.tables.some((x) => x.status === 'missing'), `${name}: not in the report`);
        continue;
      }
      assert.equal(t.rowsRestored, restored, `${name}: report says ${t.rowsRestored} restored, the server holds ${restored}`);
      if (t.rowsExpected !== null) {
        assert.equal(t.rowsExpected, sourceRows, `${name}: rowsExpected`);
        assert.equal(t.rowsLost, sourceRows - restored, `${name}: rowsLost`);
      }
      if (t.lostKeyRanges) await lostKeysInRanges(conn, o.source, o.target, name, t.lostKeyRanges);
      const reached = targetCounts.has(name);
      // Without the table's summary (and the manifest) its row count is unknown: partial at best.
      const status = !reached && restored === 0 && t.status === 'missing' ? 'missing' : t.rowsExpected === null ? 'partial' : lost === 0 && !t.error ? 'restored' : restored === 0 && sourceRows > 0 ? 'failed' : 'partial';
      if (!(status === 'failed' && t.status === 'missing')) assert.equal(t.status, status, `${name}: status ${t.status}, expected ${status} (lost ${lost}, restored ${restored}, error ${t.error ?? 'none'})`);
    }
    const anyLoss = verdict.lost > 0 || report.objects.views.restored < report.objects.views.expected;
    assert.equal(report.outcome, anyLoss || report.damage.damagedChunks > 0 || report.damage.truncated ? 'partial' : 'complete', `outcome (${damage.note})`);
    assert.equal(report.damage.damagedChunks, report.damage.damagedRanges.reduce((n, [a, b]) => n + b - a + 1, 0), 'damagedChunks is the sum of damagedRanges');
    if (damage.truncated !== null) assert.equal(report.damage.truncated, damage.truncated, `truncated (${damage.note})`);
    return verdict;
  } finally {
    await conn.end();
  }
}
