/**
 * Resume into non-transactional tables: a MyISAM table with a key and one
 * without, each several data pieces long. The restore is killed (SIGKILL)
 * while a piece of one of them is being loaded, so part of that piece is
 * in the table; --resume must end with exactly the source's rows (no
 * duplicates, no rows turned into key warnings), compared through SQL.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { quoteId } from '../../src/db/connect.js';
import { backupOf, makeSource, passwordFile, tempDir } from '../helpers/backup.js';
import { CLI, runCli } from '../helpers/cli.js';
import { compareDatabases, connectServer, createTempDatabase, dropTempDatabases, dsnFor } from '../helpers/db.js';

after(dropTempDatabases);

type Row = Record<string, string | number>;
async function rows(sql: string, values: unknown[] = [], database?: string): Promise<Row[]> {
  const c = await connectServer(database);
  try {
    const [r] = await c.query(sql, values);
    return r as Row[];
  } finally {
    await c.end();
  }
}

/** Tables 1 and 2 of the catalog (names sort first): 400,000 rows each, about 3 pieces of 4 MiB. */
async function sourceWithMyIsam(): Promise<string> {
  const source = await makeSource({ patients: 1, prefix: 'lr_myisam_src' });
  const db = quoteId(source);
  await rows(`CREATE TABLE ${db}.aaa_keyed (id INT PRIMARY KEY, note VARCHAR(40)) ENGINE=MyISAM`);
  await rows(`CREATE TABLE ${db}.aab_nokey (n INT, note VARCHAR(40)) ENGINE=MyISAM`);
  await rows(`INSERT INTO ${db}.aaa_keyed SELECT seq, CONCAT('keyed row number ', seq) FROM seq_1_to_400000`, [], source);
  await rows(`INSERT INTO ${db}.aab_nokey SELECT seq % 1000, CONCAT('row without a key ', seq) FROM seq_1_to_400000`, [], source);
  return source;
}

/** The progress record shows a piece of table 1 or 2 started and not recorded, with some of its rows already in. */
async function cutMidPiece(target: string): Promise<boolean> {
  const progress = `${quoteId(target)}._lastresort_restore`;
  const marks = await rows(`SELECT item, value FROM ${progress} WHERE item IN ('t:1:loading', 't:2:loading')`).catch(() => []);
  for (const m of marks) {
    const t = String(m.item).split(':')[1];
    const [done] = await rows(`SELECT COUNT(*) AS n, COALESCE(SUM(value), 0) AS r FROM ${progress} WHERE item LIKE ?`, [`t:${t}:p:%`]);
    const piece = Number(m.value);
    const recorded = (await rows(`SELECT 1 FROM ${progress} WHERE item = ?`, [`t:${t}:p:${piece}`])).length > 0;
    const table = t === '1' ? 'aaa_keyed' : 'aab_nokey';
    const [{ n }] = await rows(`SELECT COUNT(*) AS n FROM ${quoteId(target)}.${table}`);
    if (!recorded && Number(n) > Number(done.r)) return true;
  }
  return false;
}

test('a restore killed in the middle of a MyISAM piece resumes to exactly the source (with and without a key)', async () => {
  const source = await sourceWithMyIsam();
  const dir = await tempDir('lr-myisam-');
  const { file } = await backupOf(source, dir);
  const pw = await passwordFile(dir);
  let caught = false;
  for (let attempt = 0; attempt < 5 && !caught; attempt++) {
    const target = await createTempDatabase('lr_myisam', { create: false });
    const args = ['restore', file, '--target', dsnFor(target), '--password-file', pw, '--json'];
    const child = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
    const closed = new Promise((r) => child.once('close', r));
    let exited = false;
    void closed.then(() => (exited = true));
    while (!exited && !caught) {
      caught = await cutMidPiece(target);
      if (!caught) await new Promise((r) => setTimeout(r, 2));
    }
    child.kill('SIGKILL');
    await closed;
    if (!caught) continue;
    const resumed = await runCli([...args, '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(JSON.parse(resumed.stdout).outcome, 'complete');
    assert.deepEqual(await compareDatabases(source, target), []);
  }
  assert.ok(caught, 'the restore was killed while a MyISAM piece was loading');
});
