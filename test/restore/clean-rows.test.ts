/**
 * cleanRows and LossTracker on rows bigger than the body pieces (an image
 * kept in the database): a row straddling many pieces goes on in its parts,
 * byte for byte, and the lost key range names the right keys when the key
 * column comes after the big value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BodyPiece } from '../../src/archive/tar-reader.js';
import { cleanRows, LossTracker } from '../../src/restore/clean-rows.js';

/** Rows of (big text, key, note): the key column comes after a value many pieces long. */
function rowsText(keys: number[]): Buffer {
  return Buffer.from(keys.map((k) => `${String.fromCharCode(64 + k).repeat(5000)}\t${k}\tnote ${k}\n`).join(''), 'latin1');
}

function* slices(bytes: Buffer, size: number): Generator<BodyPiece> {
  for (let at = 0; at < bytes.length; at += size) yield { data: bytes.subarray(at, at + size) };
}

async function* feed(pieces: Iterable<BodyPiece>): AsyncGenerator<BodyPiece> {
  yield* pieces;
}

async function collect(pieces: Iterable<BodyPiece>, tracker: LossTracker): Promise<{ out: Buffer; dropped: number }> {
  const counts = { droppedBytes: 0 };
  const parts: Buffer[] = [];
  for await (const b of cleanRows(feed(pieces), tracker, counts)) parts.push(b);
  return { out: Buffer.concat(parts), dropped: counts.droppedBytes };
}

test('rows longer than the pieces pass whole and unchanged; the last key is kept for a later loss', async () => {
  const all = rowsText([1, 2, 3, 4, 5, 6]);
  const tracker = new LossTracker(['DocNum'], [1]);
  const { out, dropped } = await collect(slices(all, 700), tracker);
  assert.equal(out.toString('latin1'), all.toString('latin1'));
  assert.equal(dropped, 0);
  assert.deepEqual(tracker.ranges, []);
  tracker.damage();
  assert.deepEqual(tracker.ranges, [{ columns: ['DocNum'], after: ['6'], before: null }]);
});

test('a hole inside a long row drops that row only and names the keys either side', async () => {
  const all = rowsText([1, 2, 3, 4, 5, 6]);
  const row3 = all.indexOf('\t3\t', 0, 'latin1') - 5000;
  const holeStart = row3 + 1200;
  const holeEnd = holeStart + 900;
  const pieces: BodyPiece[] = [...slices(all.subarray(0, holeStart), 700), { hole: holeEnd - holeStart }, ...slices(all.subarray(holeEnd), 700)];
  const tracker = new LossTracker(['DocNum'], [1]);
  const { out, dropped } = await collect(pieces, tracker);
  assert.equal(out.toString('latin1'), rowsText([1, 2, 4, 5, 6]).toString('latin1'));
  assert.equal(dropped, rowsText([3]).length);
  assert.deepEqual(tracker.ranges, [{ columns: ['DocNum'], after: ['2'], before: ['4'] }]);
});

test('a loss right at the start names no row before, and the key of the first whole row after', async () => {
  const all = rowsText([7, 8, 9]);
  const tracker = new LossTracker(['DocNum'], [1]);
  const { out } = await collect([{ hole: 10 }, ...slices(all.subarray(10), 333)], tracker);
  assert.equal(out.toString('latin1'), rowsText([8, 9]).toString('latin1'));
  assert.deepEqual(tracker.ranges, [{ columns: ['DocNum'], after: null, before: ['8'] }]);
});
