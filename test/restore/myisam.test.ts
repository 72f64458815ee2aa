/**
 * MyISAM loads on the real 2025 Open Dental schema (fixtures/opendental-2025):
 * every table comes back with the same rows (CHECKSUM TABLE and COUNT(*) on
 * both sides, and the byte-for-byte comparison through SQL), still MyISAM,
 * with the source's indexes, all of them enabled. And a restore killed while
 * a MyISAM table's indexes are being built by sort (ENABLE KEYS), its build
 * also stopped on the server so that the index is left half-made, resumes to
 * exactly the source.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { quoteId } from '../../src/db/connect.js';
import { backupOf, makeSource, passwordFile, tempDir } from '../helpers/backup.js';
import { CLI, runCli } from '../helpers/cli.js';
import { compareDatabases, connectServer, createTempDatabase, describeDifferences, dropTempDatabases, dsnFor, queryIn } from '../helpers/db.js';

after(dropTempDatabases);

let source = '';
let file = '';
let pw = '';

before(async () => {
  source = await makeSource({ kind: 'opendental2025', patients: 60, prefix: 'lr_myi_src' });
  // One table big enough that its index build by sort lasts long enough to be caught and killed.
  await queryIn(source, 'CREATE TABLE aaa_sorted (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, pat BIGINT NOT NULL, note VARCHAR(60) NOT NULL, made DATETIME NOT NULL, KEY pat (pat), KEY note (note), KEY made (made, pat)) ENGINE=MyISAM');
  await queryIn(source, "INSERT INTO aaa_sorted (pat, note, made) SELECT seq % 7919, CONCAT('note ', seq * 2654435761 % 1000003), '2020-01-01' + INTERVAL (seq * 37 % 100000) MINUTE FROM seq_1_to_600000");
  const dir = await tempDir('lr-myisam-');
  file = (await backupOf(source, dir)).file;
  pw = await passwordFile(dir);
});

interface TableFacts { engine: string; checksum: string; rows: number; indexes: string; disabled: string[] }

/** Per table: engine, CHECKSUM TABLE, COUNT(*), the index definitions, and any index left disabled. */
async function facts(database: string): Promise<Map<string, TableFacts>> {
  const c = await connectServer(database);
  try {
    const [tables] = (await c.query("SELECT TABLE_NAME AS t, ENGINE AS e FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME")) as unknown as [{ t: string; e: string }[]];
    const out = new Map<string, TableFacts>();
    for (const { t, e } of tables) {
      const [[sum]] = (await c.query(`CHECKSUM TABLE ${quoteId(t)} EXTENDED`)) as unknown as [{ Checksum: string | null }[]];
      const [[{ n }]] = (await c.query(`SELECT COUNT(*) AS n FROM ${quoteId(t)}`)) as unknown as [{ n: number }[]];
      const [idx] = (await c.query(`SHOW INDEX FROM ${quoteId(t)}`)) as unknown as [Record<string, unknown>[]];
      const indexes = idx.map((i) => [i.Key_name, i.Non_unique, i.Seq_in_index, i.Column_name, i.Sub_part, i.Index_type].join(' ')).join('; ');
      const disabled = idx.filter((i) => /disabled/i.test(String(i.Comment))).map((i) => String(i.Key_name));
      out.set(t, { engine: e, checksum: String(sum.Checksum), rows: Number(n), indexes, disabled });
    }
    return out;
  } finally {
    await c.end();
  }
}

async function assertIdentical(target: string): Promise<void> {
  const diffs = await compareDatabases(source, target);
  assert.deepEqual(diffs, [], describeDifferences(diffs));
  const [want, got] = [await facts(source), await facts(target)];
  assert.deepEqual([...got.keys()], [...want.keys()]);
  assert.ok(want.size >= 80, `the real schema's tables are all there (${want.size})`);
  for (const [t, w] of want) {
    const g = got.get(t)!;
    assert.equal(g.engine, w.engine, `${t}: engine`);
    if (t !== 'lastresort_keyring') assert.equal(g.engine, 'MyISAM', `${t} is MyISAM`); // the keyring is the producer's own InnoDB table
    assert.equal(g.checksum, w.checksum, `${t}: CHECKSUM TABLE`);
    assert.equal(g.rows, w.rows, `${t}: rows`);
    assert.equal(g.indexes, w.indexes, `${t}: indexes`);
    assert.deepEqual(g.disabled, [], `${t}: no index left disabled`);
  }
}

test('the real 2025 schema on MyISAM comes back identical: checksums, counts, engines and indexes', async () => {
  const target = await createTempDatabase('lr_myi_to', { create: false });
  const r = await runCli(['restore', file, '--target', dsnFor(target), '--password-file', pw, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { outcome: string; engineNote?: { tablesEngine: string; serverDefault: string }; serverNotes: string[] };
  assert.equal(report.outcome, 'complete');
  await assertIdentical(target);
  // This server's default engine is InnoDB: the report says what Open Dental's upgrade will need.
  const [{ e }] = await queryIn(target, 'SELECT @@GLOBAL.default_storage_engine AS e');
  assert.equal(e, 'InnoDB', 'the test server keeps its default engine');
  assert.deepEqual(report.engineNote && { ...report.engineNote, line: undefined }, { tablesEngine: 'MyISAM', serverDefault: 'InnoDB', line: undefined });
  assert.equal(report.serverNotes.filter((l) => /default_storage_engine=MyISAM/.test(l)).length, 1, report.serverNotes.join('\n'));
  const human = await runCli(['restore', file, '--target', dsnFor(await createTempDatabase('lr_myi_words', { create: false })), '--password-file', pw]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout + human.stderr, /default_storage_engine is InnoDB: before Open Dental's upgrade, set default_storage_engine=MyISAM/);
});

/** Waits for the big table's ENABLE KEYS to be running on the server; its processlist id, or null if the restore ended first. */
async function buildRunning(target: string, exited: () => boolean): Promise<number | null> {
  const c = await connectServer();
  try {
    while (!exited()) {
      const [p] = (await c.query("SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'ALTER TABLE `aaa_sorted` ENABLE KEYS%'", [target])) as unknown as [{ id: number }[]];
      if (p.length) return Number(p[0].id);
      await new Promise((r) => setTimeout(r, 2));
    }
    return null;
  } finally {
    await c.end();
  }
}

for (const serverToo of [true, false]) {
  test(`a restore killed during a MyISAM index build${serverToo ? ', the build stopped on the server too,' : ''} resumes to exactly the source`, async () => {
    let caught = false;
    for (let attempt = 0; attempt < 4 && !caught; attempt++) {
      const target = await createTempDatabase('lr_myi_kill', { create: false });
      const args = ['restore', file, '--target', dsnFor(target), '--password-file', pw, '--json'];
      const child = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
      let exited = false;
      const closed = new Promise((r) => child.once('close', r)).then(() => (exited = true));
      const id = await buildRunning(target, () => exited);
      child.kill('SIGKILL');
      await closed;
      if (id === null) continue;
      caught = true;
      if (serverToo) {
        const c = await connectServer();
        await c.query(`KILL QUERY ${id}`).catch(() => {}); // the build stops half-way: the index is not whole
        await c.end();
      }
      const [mark] = await queryIn(target, "SELECT COUNT(*) AS n FROM _lastresort_restore WHERE item = 't:1:indexed'");
      assert.equal(Number(mark.n), 0, 'the build was not recorded as done');
      const resumed = await runCli([...args, '--resume']);
      const problems = JSON.stringify((JSON.parse(resumed.stdout) as { tables: { error?: string }[] }).tables.filter((t) => t.error));
      assert.equal(resumed.code, 0, `${resumed.stderr} ${problems}`);
      assert.equal(JSON.parse(resumed.stdout).outcome, 'complete');
      await assertIdentical(target);
    }
    assert.ok(caught, 'the restore was caught during an index build');
  });
}
