/**
 * Mapping a backup into lanes: the skim of a real backup (from its headers
 * only, through the random-access reader) must find exactly the entries the
 * in-order tar reader finds, at the same places; the plan built from it must
 * queue every table exactly once, largest first, with the catalog first and
 * the objects and manifest last. Restoring with one lane (the in-order path,
 * which damaged files take) must give the same database as the source.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDsn } from '../../src/db/dsn.js';
import { openBackup, payloadOf } from '../../src/decrypt/open.js';
import { readTar } from '../../src/archive/tar-reader.js';
import { skimArchive, type SkimmedArchive } from '../../src/archive/skim.js';
import { roleOf } from '../../src/archive/layout.js';
import { PayloadReader } from '../../src/format/random-access.js';
import { planLanes, takeFrom } from '../../src/restore/lanes.js';
import { restoreBackup } from '../../src/restore/restore.js';
import { PASSWORD, backupOf, makeSource, tempDir } from '../helpers/backup.js';
import { compareDatabases, createTempDatabase, describeDifferences, dropTempDatabases, dsnFor } from '../helpers/db.js';

let source: string;
let file: string;
let skim: SkimmedArchive;

before(async () => {
  const dir = await tempDir();
  source = await makeSource({ kind: 'exotic' });
  file = (await backupOf(source, dir, { pieceBytes: 64 * 1024 })).file;
  const opened = await openBackup(file, PASSWORD);
  const reader = await PayloadReader.open(opened.unlocked);
  try {
    const s = await skimArchive((offset, length) => reader.read(offset, length));
    assert.ok(s, 'a whole backup maps from its headers');
    skim = s;
  } finally {
    await reader.close();
  }
});
after(dropTempDatabases);

test('the skim finds every entry the in-order reader finds, where it finds it', async () => {
  const opened = await openBackup(file, PASSWORD);
  const inOrder: { path: string; offset: number; size: number }[] = [];
  for await (const { entry, body } of readTar(payloadOf(opened).segments)) {
    inOrder.push({ path: entry.path, offset: entry.offset, size: entry.size });
    for await (const _ of body); // drain
  }
  assert.deepEqual(skim.entries.map((e) => e.path), inOrder.map((e) => e.path));
  skim.entries.forEach((e, i) => {
    assert.ok(e.start < inOrder[i].offset && inOrder[i].offset + inOrder[i].size <= e.end, `${e.path} lies within its span`);
    if (i > 0) assert.equal(e.start, skim.entries[i - 1].end, 'entries follow one another');
  });
  assert.ok(skim.entries.length > 10);
});

test('the plan: catalog first, each table once (largest first), objects last, and lanes share the queue', () => {
  const plan = planLanes(skim);
  assert.ok(plan);
  const size = (s: { start: number; end: number }) => s.end - s.start;
  const all = [...plan.head, ...plan.tables, ...plan.tail].sort((a, b) => a.start - b.start);
  assert.equal(all[0].start, 0);
  for (let i = 1; i < all.length; i++) assert.equal(all[i].start, all[i - 1].end, 'the spans cover the archive once, without gaps');
  assert.equal(all[all.length - 1].end, skim.end);
  for (let i = 1; i < plan.tables.length; i++) assert.ok(size(plan.tables[i]) <= size(plan.tables[i - 1]), 'largest first');
  assert.equal(roleOf(skim.entries[0].path).role, 'catalog');
  assert.equal(plan.head[0].end, skim.entries[0].end);
  // Two lanes drawing from one queue get each table exactly once.
  const queue = [...plan.tables];
  const a = takeFrom(queue);
  const b = takeFrom(queue);
  const taken = [];
  for (let turn = 0; ; turn++) {
    const next = (turn % 3 === 0 ? b : a).next();
    if (next.done) break;
    taken.push(next.value);
  }
  for (const rest of [...a, ...b]) taken.push(rest);
  assert.deepEqual(taken.map((s) => s.start).sort((x, y) => x - y), plan.tables.map((s) => s.start).sort((x, y) => x - y));
});

test('a layout the plan does not know is read in order: one table, or a table in two places', () => {
  const tables = skim.entries.filter((e) => ['schema', 'data', 'summary'].includes(roleOf(e.path).role));
  const firstTable = roleOf(tables[0].path);
  const oneTable = { ...skim, entries: skim.entries.filter((e) => { const r = roleOf(e.path); return !('table' in r) || r.table === (firstTable as { table: number }).table; }) };
  assert.equal(planLanes(oneTable), null);
  const moved = [...skim.entries];
  moved.splice(moved.length - 1, 0, tables[0]); // a table entry again among the objects
  assert.equal(planLanes({ ...skim, entries: moved }), null);
});

test('restored with one lane (the in-order path), the database equals the source', async () => {
  const name = await createTempDatabase('lr_dst', { create: false });
  const report = await restoreBackup({ opened: await openBackup(file, PASSWORD), dsn: parseDsn(dsnFor(name)), lanes: 1 });
  assert.equal(report.outcome, 'complete');
  const diffs = await compareDatabases(source, name);
  assert.deepEqual(diffs, [], describeDifferences(diffs));
});
