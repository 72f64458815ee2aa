/**
 * Reading one snapshot over two connections, big tables in key ranges:
 *   - the ranges cover every key once, in order, at the extremes of signed and
 *     unsigned BIGINT, with sparse keys and with empty ranges;
 *   - a two-connection backup cut into many ranges holds, table for table, the
 *     same rows in the same order as a one-connection backup (equal row counts
 *     and content checksums), and restores to a database equal to the source
 *     through SQL;
 *   - the connections share one snapshot: a transaction that commits while
 *     they start theirs is held until all have started, and is in none;
 *   - a user without the RELOAD privilege gets a one-connection backup that is
 *     just as whole; one that may not read routine bodies gets no backup.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readdir } from 'node:fs/promises';
import { parseDsn, formatDsn } from '../../src/db/dsn.js';
import { quoteId } from '../../src/db/connect.js';
import { openBackup } from '../../src/decrypt/open.js';
import type { Manifest } from '../../src/archive/layout.js';
import { readCatalog } from '../../src/backup/catalog.js';
import { cutRanges, planRanges, tableBytes, type KeyRange } from '../../src/db/ranges.js';
import { restoreBackup } from '../../src/restore/restore.js';
import { PASSWORD, backupOf, makeSource, manifestOf, tempDir } from '../helpers/backup.js';
import { compareDatabases, connectServer, createTempDatabase, describeDifferences, dropTempDatabases, dsnFor, serverDsn } from '../helpers/db.js';

let source: string;
let dir: string;

before(async () => {
  dir = await tempDir();
  source = await makeSource({ kind: 'exotic' });
  const conn = await connectServer(source);
  try {
    // Keys at the ends of their types, sparse keys, and a dense stretch.
    await conn.query('CREATE TABLE edge_signed (id BIGINT PRIMARY KEY, note VARCHAR(40))');
    await conn.query("INSERT INTO edge_signed VALUES (-9223372036854775808, 'min'), (-5, 'neg'), (0, 'zero'), (1, 'one'), (1000000000000, 'far'), (9223372036854775807, 'max')");
    await conn.query('CREATE TABLE edge_unsigned (id BIGINT UNSIGNED PRIMARY KEY, note TEXT)');
    await conn.query("INSERT INTO edge_unsigned VALUES (0, 'zero'), (1, 'one'), (9223372036854775808, 'half'), (18446744073709551615, 'max')");
    await conn.query('CREATE TABLE dense (id INT PRIMARY KEY, body VARCHAR(200), n INT NULL)');
    const rows = Array.from({ length: 3000 }, (_, i) => [i < 2900 ? i + 1 : 100000 + i * 37, `row ${i}\tescaped\\${'x'.repeat(i % 150)}`, i % 7 === 0 ? null : i]);
    await conn.query('INSERT INTO dense VALUES ?', [rows]);
    await conn.query('ANALYZE TABLE dense, edge_signed, edge_unsigned');
  } finally {
    await conn.end();
  }
});
after(dropTempDatabases);

function covers(ranges: KeyRange[], min: bigint, max: bigint): void {
  assert.equal(ranges[0].from, null, 'the first range has no lower bound');
  assert.equal(ranges[ranges.length - 1].to, null, 'the last range has no upper bound');
  for (let i = 1; i < ranges.length; i++) {
    assert.equal(ranges[i].from, ranges[i - 1].to, 'each range starts where the one before ends');
    assert.ok(ranges[i].from !== null && ranges[i].from! > min && ranges[i].from! <= max, 'inner bounds lie within the keys');
    if (i > 1) assert.ok(ranges[i].from! > ranges[i - 1].from!, 'in key order');
  }
}

test('key ranges cover every key once, in order, whatever the span and the number asked for', () => {
  const I64_MIN = -(2n ** 63n);
  const U64_MAX = 2n ** 64n - 1n;
  fc.assert(
    fc.property(fc.bigInt({ min: I64_MIN, max: U64_MAX }), fc.bigInt({ min: 0n, max: U64_MAX - I64_MIN }), fc.integer({ min: 1, max: 5000 }), (min, width, parts) => {
      const max = min + width;
      const ranges = cutRanges(min, max, parts);
      assert.ok(ranges.length >= 1 && ranges.length <= Math.max(1, parts));
      covers(ranges, min, max);
    }),
    { numRuns: 3000, seed: 11 },
  );
  assert.equal(cutRanges(5n, 5n, 10).length, 1, 'one key: one range');
  assert.equal(cutRanges(1n, 3n, 10).length, 3, 'no more ranges than keys');
});

test('the planner cuts big tables on their integer key only, reading the bounds in the snapshot', async () => {
  const conn = await connectServer(source);
  try {
    const catalog = await readCatalog(conn, source, { createdAt: '' });
    const sizes = await tableBytes(conn, source);
    const plan = async (name: string) => planRanges(conn, catalog.tables.find((t) => t.name === name)!, sizes.get(name), 1024);
    const dense = await plan('dense');
    assert.ok(dense.length > 4, `dense is cut (${dense.length} ranges)`);
    covers(dense, 1n, 100000n + 2999n * 37n);
    const edges = await plan('edge_unsigned');
    assert.ok(edges.length > 1);
    covers(edges, 0n, 2n ** 64n - 1n);
    for (const t of catalog.tables.filter((t) => t.primaryKey.length !== 1)) assert.equal((await plan(t.name)).length, 1, `${t.name} (no single-column key) is read whole`);
  } finally {
    await conn.end();
  }
});

test('two connections in many key ranges: the same rows in the same order as one connection, and a faithful restore', async () => {
  const one = await backupOf(source, dir, { connections: 1, now: new Date(2026, 0, 1) });
  const two = await backupOf(source, dir, { connections: 2, pieceBytes: 1024, rangeBytes: 1024, now: new Date(2026, 0, 2) });
  assert.equal(one.connections, 1);
  assert.equal(two.connections, 2);
  const [m1, m2] = [await manifestOf(one.file), await manifestOf(two.file)];
  const strip = (m: Manifest) => m.tables.map(({ name, rows, bytes, checksum }) => ({ name, rows, bytes, checksum }));
  assert.deepEqual(strip(m2), strip(m1), 'every table: same rows, same bytes, same checksum');
  assert.ok(m2.tables.find((t) => t.name === 'dense')!.pieces > m1.tables.find((t) => t.name === 'dense')!.pieces, 'the two-connection backup was cut finer');

  const target = await createTempDatabase('lr_par_restore', { create: false });
  const report = await restoreBackup({ opened: await openBackup(two.file, PASSWORD), dsn: parseDsn(dsnFor(target)) });
  assert.equal(report.outcome, 'complete');
  const diffs = await compareDatabases(source, target);
  assert.deepEqual(diffs, [], describeDifferences(diffs));
});

test('the connections share one snapshot: a commit made while they start is held, and in none of them', async () => {
  const writer = await connectServer(source);
  let committed: Promise<number> | null = null;
  let heldWhileStarting = false;
  try {
    const result = await backupOf(source, dir, {
      connections: 2,
      pieceBytes: 1024,
      rangeBytes: 1024,
      now: new Date(2026, 0, 3),
      betweenSnapshots: async () => {
        // One transaction touching two tables that different connections read. The freeze holds it at its
        // first write (LOCK TABLES ... READ on every table) or at its COMMIT (BACKUP STAGE BLOCK_COMMIT).
        committed = (async () => {
          await writer.query('START TRANSACTION');
          await writer.query("INSERT INTO dense VALUES (5000000, 'late', 1)");
          await writer.query("INSERT INTO edge_signed VALUES (42, 'late')");
          await writer.query('COMMIT');
          return Date.now();
        })();
        const settled = await Promise.race([committed.then(() => true), new Promise((r) => setTimeout(() => r(false), 300))]);
        heldWhileStarting = settled === false;
      },
    });
    assert.equal(result.connections, 2);
    assert.ok(heldWhileStarting, 'the commit waited while the connections started their snapshots');
    assert.ok(committed && (await committed) > 0, 'and went through afterwards');

    const target = await createTempDatabase('lr_par_snap', { create: false });
    await restoreBackup({ opened: await openBackup(result.file, PASSWORD), dsn: parseDsn(dsnFor(target)) });
    const check = await connectServer(target);
    try {
      for (const [table, id] of [['dense', 5000000], ['edge_signed', 42]] as const) {
        const [rows] = (await check.query(`SELECT COUNT(*) AS n FROM ${quoteId(table)} WHERE id = ?`, [id])) as unknown as [{ n: number }[]];
        assert.equal(Number(rows[0].n), 0, `${table} does not hold the late row`);
      }
    } finally {
      await check.end();
    }
  } finally {
    await writer.query('DELETE FROM dense WHERE id = 5000000').catch(() => {});
    await writer.query('DELETE FROM edge_signed WHERE id = 42').catch(() => {});
    await writer.end();
  }
});

test('without the RELOAD privilege but with LOCK TABLES the backup is still one moment over two connections, just as whole', async () => {
  const admin = await connectServer();
  const user = `lr_noreload_${process.pid}`;
  try {
    await admin.query(`CREATE OR REPLACE USER ?@'127.0.0.1' IDENTIFIED BY 'pw-for-test'`, [user]);
    await admin.query(`CREATE OR REPLACE USER ?@'localhost' IDENTIFIED BY 'pw-for-test'`, [user]);
    for (const host of ['127.0.0.1', 'localhost']) await admin.query(`GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES, EXECUTE ON ${quoteId(source)}.* TO ?@?`, [user, host]);
    const base = parseDsn(serverDsn(), { requireDatabase: false });
    const dsn = parseDsn(formatDsn({ ...base, user, password: 'pw-for-test', database: source }, { withPassword: true }));
    const { runBackup } = await import('../../src/backup/index.js');

    // Routines it did not define are listed to this user, their bodies are not: no backup rather than one without them.
    const refusedDir = await tempDir();
    await assert.rejects(runBackup({ source: dsn, outDir: refusedDir }), (err: Error & { code?: string }) => err.code === 'LR_DB_ACCESS' && /may not read the definition of function child_count/.test(err.message));
    assert.deepEqual(await readdir(refusedDir), [], 'no file, not even a temporary one');
    for (const host of ['127.0.0.1', 'localhost']) await admin.query('GRANT SELECT ON mysql.proc TO ?@?', [user, host]);

    const result = await runBackup({ source: dsn, outDir: dir, connections: 2, pieceBytes: 1024, rangeBytes: 1024, now: new Date(2026, 0, 4) });
    // The exotic source has MyISAM tables: LOCK TABLES ... READ on every table stands in for BACKUP STAGE (moment.ts).
    assert.equal(result.connections, 2, 'two connections share the moment');
    assert.equal(result.oneMoment, true, String(result.notOneMoment));
    assert.ok(result.tablesHeld.length > 0, 'the MyISAM tables were held');
    const target = await createTempDatabase('lr_par_one', { create: false });
    await restoreBackup({ opened: await openBackup(result.file, PASSWORD), dsn: parseDsn(dsnFor(target)) });
    const diffs = await compareDatabases(source, target);
    assert.deepEqual(diffs, [], describeDifferences(diffs));
  } finally {
    await admin.query(`DROP USER IF EXISTS ?@'127.0.0.1', ?@'localhost'`, [user, user]).catch(() => {});
    await admin.end();
  }
});
