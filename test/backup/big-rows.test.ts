/**
 * Rows of 16 MiB and more (Open Dental's images kept in the database), which
 * the protocol sends as several packets, and rows whose packet is exactly
 * 16 MiB - 1 (followed by an empty part) or one byte either side, all read
 * from the socket as they come (src/db/big-packets.ts):
 *   - backups over one and two connections (the two in key ranges, a big row
 *     in each) hold the same rows in the same order, and the two-connection
 *     one restores to a database equal to the source through SQL, which
 *     validate (reading the big rows back the same way) confirms;
 *   - the connections share a budget of bytes in flight (piece-budget.ts):
 *     read with a slow consumer, they hold one big row whole and of the
 *     others no more than the ordinary limit (a connection is held back in
 *     the middle of a row), where each connection on its own would keep a
 *     whole big row ahead (37 MiB in flight here instead of 20);
 *   - a dump stopped (its sink failed, or the person pressed Ctrl-C) while the
 *     budget holds back a read that is not the one being written, before its
 *     first piece: the read is abandoned, its connection ends, and the backup
 *     fails at once instead of waiting forever on a paused result set.
 */
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseDsn } from '../../src/db/dsn.js';
import { connect } from '../../src/db/connect.js';
import { openBackup } from '../../src/decrypt/open.js';
import type { Manifest } from '../../src/archive/layout.js';
import { readCatalog } from '../../src/backup/catalog.js';
import { beginSnapshot, type Snapshot } from '../../src/backup/snapshot.js';
import { RangeReader, type Unit } from '../../src/backup/range-reader.js';
import { selectRowsSql } from '../../src/db/rows.js';
import { cutRanges } from '../../src/db/ranges.js';
import { restoreBackup } from '../../src/restore/restore.js';
import { validateRestore } from '../../src/validate/validate.js';
import { PASSWORD, backupOf, makeSource, manifestOf, tempDir } from '../helpers/backup.js';
import { compareDatabases, connectServer, createTempDatabase, describeDifferences, dropTempDatabases, dsnFor, queryIn, raiseMaxAllowedPacket } from '../helpers/db.js';

const MIB = 1 << 20;
/** Ids of the big rows: one in each key range of five ids (cutRanges(1, 40, 8)). */
const BIG = new Map([
  [5, 20 * MIB],
  [10, 17 * MIB],
  [15, 20 * MIB],
  [20, 18 * MIB],
]);
const NEEDED_PACKET = 64 * MIB;

let source: string;
let dir: string;

/** Text like base64, with the bytes the encoding escapes here and there (and one at a part's edge). */
function imageText(bytes: number): string {
  const b = Buffer.from(randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64').slice(0, bytes), 'latin1');
  for (const at of [0, 1000, (16 << 20) - 40, bytes - 1]) if (at < bytes) b[at] = [0x09, 0x5c, 0x0a, 0x0d][at % 4];
  return b.toString('latin1');
}

before(async () => {
  dir = await tempDir();
  source = await makeSource({ kind: 'exotic', prefix: 'lr_bigrows' });
  await raiseMaxAllowedPacket(NEEDED_PACKET);
  const conn = await connectServer(source); // a new session reads the raised limit
  try {
    await conn.query('CREATE TABLE image_store (id INT PRIMARY KEY, name VARCHAR(40), raw LONGTEXT NOT NULL, bin LONGBLOB NULL) DEFAULT CHARSET=latin1');
    for (let id = 1; id <= 40; id++) {
      const raw = BIG.has(id) ? imageText(BIG.get(id)!) : `small\t${id}\\`;
      // id 30: a blob of 17 MiB of random bytes (escaped, not hex), so a big packet from a binary column too.
      const bin = id === 30 ? randomBytes(17 * MIB) : id % 3 === 0 ? null : Buffer.from([0, 9, 10, id]);
      await conn.query('INSERT INTO image_store VALUES (?, ?, ?, ?)', [id, `image ${id}`, raw, bin]);
    }
    // Row packet = id (1 + 1 byte) + value (4-byte prefix + n): 0xFFFFFF exactly for n = 0xFFFFFF - 6.
    await conn.query('CREATE TABLE edge_sizes (id INT PRIMARY KEY, v LONGTEXT NOT NULL) DEFAULT CHARSET=latin1');
    for (const [id, n] of [[1, 0xffffff - 6], [2, 0xffffff - 7], [3, 0xffffff - 5]]) {
      const v = Buffer.alloc(n, 0x61);
      v[n - 1] = 0x09; // escaped, at the end of the first part
      v[n - 2] = 0x5c;
      await conn.query('INSERT INTO edge_sizes VALUES (?, ?)', [id, v.toString('latin1')]);
    }
  } finally {
    await conn.end();
  }
});
after(dropTempDatabases);

test('rows of 16 MiB and more: one and two connections give the same rows in the same order, and a faithful restore', async () => {
  const one = await backupOf(source, dir, { connections: 1, now: new Date(2026, 0, 1) });
  const two = await backupOf(source, dir, { connections: 2, pieceBytes: 64 << 10, rangeBytes: 64 << 10, now: new Date(2026, 0, 2) });
  assert.equal(two.connections, 2);
  const [m1, m2] = [await manifestOf(one.file), await manifestOf(two.file)];
  const strip = (m: Manifest) => m.tables.map(({ name, rows, bytes, checksum }) => ({ name, rows, bytes, checksum }));
  assert.deepEqual(strip(m2), strip(m1), 'every table: same rows, same bytes, same checksum');

  const target = await createTempDatabase('lr_bigrows_restore', { create: false });
  const report = await restoreBackup({ opened: await openBackup(two.file, PASSWORD), dsn: parseDsn(dsnFor(target)) });
  assert.equal(report.outcome, 'complete');
  const diffs = await compareDatabases(source, target);
  assert.deepEqual(diffs, [], describeDifferences(diffs));
  const validated = await validateRestore(await openBackup(two.file, PASSWORD), parseDsn(dsnFor(target)));
  assert.equal(validated.match, true, validated.differences.join('\n'));
});

/** image_store in 8 key ranges, read over two connections of one snapshot with small pieces. */
async function imageRanges(): Promise<{ snapshot: Snapshot; units: Unit[]; reader: RangeReader }> {
  const dsn = parseDsn(dsnFor(source));
  const first = await connect(dsn);
  const snapshot = await beginSnapshot(dsn, first, { connections: 2 });
  assert.equal(snapshot.conns.length, 2);
  const catalog = await readCatalog(first, source, { createdAt: new Date().toISOString() });
  const table = catalog.tables.find((t) => t.name === 'image_store')!;
  const units = cutRanges(1n, 40n, 8).map((range) => ({ table, sql: selectRowsSql(table, range) }));
  return { snapshot, units, reader: new RangeReader(snapshot.conns, units, { pieceBytes: 64 << 10, ahead: 2 }) };
}

test('two connections at big rows share one budget: one big row whole in flight, and little of another', async () => {
  const { snapshot, units, reader } = await imageRanges();
  try {
    let rows = 0;
    let big = 0;
    let largest = 0;
    for (let u = 0; u < units.length; u++) {
      for await (const p of reader.pieces(u)) {
        rows += p.rows;
        largest = Math.max(largest, p.bytes.length);

        if (p.bytes.length >= 16 * MIB) {
          big++;
          // A slow consumer (a slow disk): without the budget, the other connection's big row would wait whole meanwhile.
          await new Promise((r) => setTimeout(r, 300));
        }
        reader.written(p);
      }
    }
    assert.equal(rows, 40);
    assert.equal(big, BIG.size + 1, 'every big row came as a piece of its own size');
    assert.equal(reader.budget.used, 0, 'every byte taken was released');
    // One row whole; the other connection was held within a socket read (64 KiB) of the limit.
    const bound = largest + reader.budget.limit + MIB;
    assert.ok(reader.budget.peak <= bound, `peak in flight ${(reader.budget.peak / MIB).toFixed(1)} MiB, over ${(bound / MIB).toFixed(1)} MiB`);
  } finally {
    for (const conn of snapshot.conns) await conn.end();
  }
});

/**
 * `p`, or a failure once `seconds` have passed: a hang becomes a failed test
 * whose clean-up runs (a paused socket alone keeps no event loop alive, and
 * its open snapshot would block dropping the database).
 */
async function settles<T>(p: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still waiting after ${seconds} s`)), seconds * 1000)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * This source's image_store SELECTs still running on the server after a few
 * seconds' grace (none once every connection that ran one is gone); any left
 * are killed, so that the database can be dropped.
 */
async function imageSelectsLeft(): Promise<number> {
  const sql = "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND COMMAND = 'Query' AND INFO LIKE 'SELECT%image_store%' AND ID <> CONNECTION_ID()";
  let left: Record<string, unknown>[] = [];
  for (let i = 0; i < 50; i++) {
    left = await queryIn(source, sql, [source]);
    if (left.length === 0) break;
    await sleep(100);
  }
  for (const { id } of left) await queryIn(source, `KILL CONNECTION ${Number(id)}`).catch(() => {});
  return left.length;
}

test('a read the budget holds back before its first piece is abandoned when the reader is closed: its connection ends', { timeout: 30_000 }, async () => {
  const { snapshot, reader } = await imageRanges();
  let left = 0;
  try {
    // Unit 0 (the first connection) written whole: the first connection starts unit 2 (ids 11-15, a 20 MiB row).
    for await (const p of reader.pieces(0)) reader.written(p);
    // Unit 1 (the second connection) is being written: its 17 MiB row, taken and not yet written, puts the budget over.
    const head = reader.pieces(1);
    const big = await head.next();
    assert.ok(!big.done && big.value.bytes.length >= 16 * MIB, 'unit 1 starts with its big row');
    assert.ok(reader.budget.over);
    await sleep(500); // unit 2's SELECT is running, its connection held back with no piece to give
    // The sink fails (a full disk): the dump stops as dump.ts does, then the connections end as runBackup's do.
    await head.return(undefined);
    reader.close();
    snapshot.conns[1].destroy();
    await settles(snapshot.conns[0].end(), 15, 'ending the first connection'); // waited forever: unit 2's paused result set was never read
  } finally {
    for (const conn of snapshot.conns) conn.destroy();
    left = await imageSelectsLeft();
  }
  assert.equal(left, 0, 'no SELECT of this test left on the server');
});

test('a backup stopped while the budget holds a read back fails at once and leaves no query running', { timeout: 30_000 }, async () => {
  const others = (await queryIn(source, "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME <> 'image_store'", [source])).map((r) => String(r.t));
  const [{ b }] = await queryIn(source, "SELECT DATA_LENGTH AS b FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'image_store'", [source]);
  // image_store alone, in eight key ranges (ids 1-5, 6-10, ...: a big row at the end of each of the first four), read over two connections.
  const rangeBytes = Math.ceil(Number(b) / 8);
  const stop = new AbortController();
  const backup = backupOf(source, dir, {
    connections: 2,
    exclude: others,
    pieceBytes: 64 << 10,
    rangeBytes,
    now: new Date(2026, 0, 3),
    signal: stop.signal,
    // Ctrl-C once unit 0's big row is written: the second connection's big row (unit 1) is next, the first one's unit 2 held meanwhile.
    onProgress: (p) => {
      if (p.bytes >= 16 * MIB) stop.abort();
    },
  });
  let left = 0;
  try {
    await assert.rejects(settles(backup, 15, 'the stopped backup'), (err: Error & { code?: string }) => err.code === 'LR_INTERRUPTED');
  } finally {
    left = await imageSelectsLeft();
  }
  assert.equal(left, 0, 'no SELECT of the backup left on the server');
});
