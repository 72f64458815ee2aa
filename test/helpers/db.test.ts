import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { quoteId, type Connection } from '../../src/db/connect.js';
import {
  compareDatabases, connectServer, createTempDatabase, describeDifferences, dropDatabase, ensureServer, type Difference,
} from './db.js';

let source: string;

async function withConn<T>(body: (c: Connection) => Promise<T>): Promise<T> {
  const c = await connectServer();
  try {
    return await body(c);
  } finally {
    await c.end();
  }
}

/** A copy the plain SQL way: CREATE TABLE ... LIKE, then INSERT ... SELECT. */
async function copyOf(src: string): Promise<string> {
  const dst = await createTempDatabase('lrcmp');
  await withConn(async (c) => {
    const [tables] = await c.query(`SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'`, [src]);
    for (const { t } of tables as { t: string }[]) {
      await c.query(`CREATE TABLE ${quoteId(dst)}.${quoteId(t)} LIKE ${quoteId(src)}.${quoteId(t)}`);
      await c.query(`INSERT INTO ${quoteId(dst)}.${quoteId(t)} SELECT * FROM ${quoteId(src)}.${quoteId(t)}`);
    }
  });
  return dst;
}

/** Copy the source, apply `change` to the copy, and return the differences. */
async function diffAfter(...sql: string[]): Promise<Difference[]> {
  const copy = await copyOf(source);
  await withConn(async (c) => {
    await c.query(`USE ${quoteId(copy)}`);
    for (const s of sql) await c.query(s);
  });
  const diffs = await compareDatabases(source, copy);
  await dropDatabase(copy);
  return diffs;
}

function only(diffs: Difference[], kind: Difference['kind'], table: string): void {
  assert.ok(diffs.length > 0, 'expected a difference, got none');
  assert.ok(diffs.every((d) => d.kind === kind && d.table === table), describeDifferences(diffs));
}

before(async () => {
  await ensureServer();
  source = await createTempDatabase('lrcmp');
  await withConn(async (c) => {
    await c.query(`USE ${quoteId(source)}`);
    await c.query(`CREATE TABLE t (
      id int NOT NULL AUTO_INCREMENT PRIMARY KEY, txt varchar(50) NULL, ci varchar(20) COLLATE utf8mb4_general_ci, b blob NULL,
      n int NULL, f float NULL, d decimal(10,2), big mediumtext NULL, KEY ci (ci)
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
    await c.query(`INSERT INTO t (id, txt, ci, b, n, f, d, big) VALUES
      (1, 'x', 'abc', X'000102', NULL, 16777216, 1.10, REPEAT('long ', 50000)),
      (2, NULL, 'Abc', NULL, 0, 0.1, -0.01, ''),
      (3, '', 'ÄÖ', X'', 1, NULL, 0, NULL),
      (4, 'NULL', '😀', X'FF', -1, -1.5, 99999999.99, 'text'),
      (5, 'tab\\there', 'a\\0b', X'5C27', 2, 1e-30, 0, 'x')`);
    await c.query(`CREATE TABLE dup (a int, b varchar(10)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
    await c.query(`INSERT INTO dup VALUES (1, 'A'), (1, 'A'), (2, 'B'), (NULL, NULL)`);
    await c.query(`CREATE TABLE \`we ird\` (\`c ol\` varchar(5) PRIMARY KEY) ENGINE=MyISAM DEFAULT CHARSET=latin1`);
    await c.query(`INSERT INTO \`we ird\` VALUES ('é'), ('x')`);
  });
});

test('a copy made with CREATE TABLE ... LIKE and INSERT ... SELECT is identical', async () => {
  const copy = await copyOf(source);
  assert.deepEqual(await compareDatabases(source, copy), []);
  assert.deepEqual(await compareDatabases(copy, source), []);
});

test('one changed byte in a blob', async () => {
  const d = await diffAfter(`UPDATE t SET b = X'000103' WHERE id = 1`);
  only(d, 'rows', 't');
  assert.match(d[0]!.detail, /primary key 1/);
});

test('one changed byte in a long text (hashed, not hexed)', async () => {
  only(await diffAfter(`UPDATE t SET big = CONCAT(LEFT(big, 1000), 'X', SUBSTRING(big, 1002)) WHERE id = 1`), 'rows', 't');
});

test("NULL versus '' and versus the text 'NULL'", async () => {
  only(await diffAfter(`UPDATE t SET txt = '' WHERE id = 2`), 'rows', 't');
  only(await diffAfter(`UPDATE t SET txt = 'NULL' WHERE id = 2`), 'rows', 't');
  only(await diffAfter(`UPDATE t SET txt = NULL WHERE id = 4`), 'rows', 't');
  only(await diffAfter(`UPDATE t SET b = NULL WHERE id = 3`), 'rows', 't');
});

test('a trailing space, and a change of case under a case-insensitive collation', async () => {
  only(await diffAfter(`UPDATE t SET txt = 'x ' WHERE id = 1`), 'rows', 't');
  only(await diffAfter(`UPDATE t SET ci = 'ABC' WHERE id = 1`), 'rows', 't');
  only(await diffAfter(`UPDATE \`we ird\` SET \`c ol\` = 'X' WHERE \`c ol\` = 'x'`), 'rows', 'we ird');
});

test('numbers beyond what the default text shows', async () => {
  only(await diffAfter(`UPDATE t SET f = 16777218 WHERE id = 1`), 'rows', 't');
  only(await diffAfter(`UPDATE t SET d = 1.11 WHERE id = 1`), 'rows', 't');
});

test('a missing row', async () => {
  const d = await diffAfter(`DELETE FROM t WHERE id = 3`);
  assert.ok(d.some((x) => x.kind === 'row-count' && x.table === 't'), describeDifferences(d));
});

test('a duplicated row in a table without a primary key, same row count', async () => {
  // {A, A, B, NULL} becomes {A, B, B, NULL}: counts match, the multiset does not.
  only(await diffAfter(`DELETE FROM dup WHERE a = 1 LIMIT 1`, `INSERT INTO dup VALUES (2, 'B')`), 'rows', 'dup');
  const d = await diffAfter(`INSERT INTO dup VALUES (1, 'A')`);
  assert.ok(d.some((x) => x.kind === 'row-count' && x.table === 'dup'), describeDifferences(d));
});

test('schema differences: columns, indexes, counters, missing and extra tables', async () => {
  const cols = await diffAfter(`ALTER TABLE t MODIFY txt varchar(51) NULL`);
  assert.deepEqual(cols.map((x) => `${x.kind}:${x.table}`), ['columns:t', 'create-table:t'], describeDifferences(cols));
  const noDdl = await compareDatabases(source, source, { createTable: false, autoIncrement: false });
  assert.deepEqual(noDdl, []);
  only(await diffAfter(`ALTER TABLE t DROP KEY ci`), 'create-table', 't');
  only(await diffAfter(`ALTER TABLE t AUTO_INCREMENT = 100`), 'auto-increment', 't');
  only(await diffAfter(`DROP TABLE dup`), 'missing-table', 'dup');
  only(await diffAfter(`CREATE TABLE extra (a int)`), 'extra-table', 'extra');
  only(await diffAfter(`ALTER TABLE \`we ird\` ENGINE=InnoDB`), 'create-table', 'we ird');
});

test('views, triggers, routines and events are compared by name and definition', async () => {
  const make = [
    `CREATE VIEW v AS SELECT id FROM t WHERE n > 0`,
    `CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.n = 1`,
    `CREATE FUNCTION fn(x int) RETURNS int DETERMINISTIC RETURN x + 1`,
    `CREATE EVENT ev ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE DO DELETE FROM dup`,
  ];
  const a = await copyOf(source);
  const b = await copyOf(source);
  await withConn(async (c) => {
    for (const db of [a, b]) {
      await c.query(`USE ${quoteId(db)}`);
      for (const s of make) await c.query(s);
    }
    assert.deepEqual(await compareDatabases(a, b), [], 'same objects in differently named databases');
    await c.query(`USE ${quoteId(b)}`);
    await c.query(`CREATE OR REPLACE VIEW v AS SELECT id FROM t WHERE n > 1`);
    await c.query(`DROP TRIGGER tr`);
    await c.query(`DROP FUNCTION fn`);
    await c.query(`CREATE FUNCTION fn(x bigint) RETURNS int DETERMINISTIC RETURN x + 1`);
    await c.query(`ALTER EVENT ev ENABLE`);
  });
  const d = await compareDatabases(a, b);
  assert.deepEqual(d.map((x) => `${x.kind}:${x.table}`).sort(), ['event:ev', 'routine:FUNCTION fn', 'trigger:tr', 'view:v'], describeDifferences(d));
  assert.deepEqual(await compareDatabases(a, b, { tables: ['t'] }), [], 'objects are skipped when tables are named');
});
