/**
 * A file holding tables named like the restore's own progress table
 * (`_lastresort_restore` in two cases, one shaped like it with rows saying
 * every piece is in), a view of that name in a third case and a trigger on
 * it (test/vectors/bookkeeping/progress-name.lrb, made with the project's
 * writer). The restore refuses those four and names them, and the rest comes
 * back identical, through SQL, to a source database built from the same
 * payload: an InnoDB and a MyISAM table, a view and a trigger.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quoteId } from '../../src/db/connect.js';
import { compareDatabases, connectServer, createTempDatabase, describeDifferences, dropTempDatabases, dsnFor, queryIn } from '../helpers/db.js';
import { passwordFile, tempDir } from '../helpers/backup.js';
import { runCli } from '../helpers/cli.js';
import { VECTOR_PASSWORD } from '../vectors/plaintext.js';
import { progressNamePayload, REFUSED_OBJECTS, REFUSED_TABLES, VECTOR_FILE } from '../vectors/bookkeeping/spec.js';
import type { RestoreReport } from '../../src/restore/report.js';

const FILE = fileURLToPath(new URL(`../vectors/bookkeeping/${VECTOR_FILE}`, import.meta.url));
let work: string;
let password: string;
let source: string;

/** The payload's ordinary tables and objects, made directly on the server. */
async function buildSource(): Promise<string> {
  const db = await createTempDatabase('lr_pname_src');
  const conn = await connectServer(db);
  try {
    const payload = progressNamePayload();
    for (const t of payload.tables.filter((x) => !REFUSED_TABLES.includes(x.name))) {
      await conn.query(t.create);
      for (const line of t.rows.split('\n').filter(Boolean)) await conn.query(`INSERT INTO ${quoteId(t.name)} VALUES (?)`, [line.split('\t')]);
    }
    for (const o of payload.objects.filter((x) => !REFUSED_OBJECTS.includes(x.name))) {
      await conn.query('SET SESSION sql_mode = ?', [o.sqlMode]);
      await conn.query(o.create);
    }
  } finally {
    await conn.end();
  }
  return db;
}

before(async () => {
  work = await tempDir('lr-pname-');
  password = await passwordFile(work, VECTOR_PASSWORD);
  source = await buildSource();
});

after(dropTempDatabases);

test('tables, a view and a trigger named like the progress table are refused; the rest of the file restores identical', async () => {
  const target = await createTempDatabase('lr_pname', { create: false });
  const reportPath = join(work, 'report.json');
  const r = await runCli(['restore', FILE, '--target', dsnFor(target), '--password-file', password, '--report', reportPath]);
  assert.equal(r.code, 3, `exit code (stderr: ${r.stderr})`);
  const report = JSON.parse(await readFile(reportPath, 'utf8')) as RestoreReport;

  for (const name of REFUSED_TABLES) {
    const t = report.tables.find((x) => x.name === name);
    assert.equal(t?.status, 'failed', `${name}: ${JSON.stringify(t)}`);
    assert.match(t?.error ?? '', /was refused: _lastresort_restore \(in any case\) is the name the restore keeps its own progress under/);
  }
  assert.deepEqual(report.objectErrors.map((o) => o.name).sort(), [...REFUSED_OBJECTS].sort(), JSON.stringify(report.objectErrors));
  for (const o of report.objectErrors) assert.match(o.error, /^not created: /);
  assert.ok(!report.resumable, 'nothing a resume could finish: the progress record is dropped');

  const left = await queryIn(target, "SELECT TABLE_NAME AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND LOWER(TABLE_NAME) = '_lastresort_restore'");
  assert.deepEqual(left, [], 'no table or view of the progress name is left in the target');
  const differences = await compareDatabases(source, target);
  assert.deepEqual(differences, [], describeDifferences(differences));
  for (const t of ['patient', 'ledger']) {
    const [a] = await queryIn(source, `CHECKSUM TABLE ${quoteId(t)}`);
    const [b] = await queryIn(target, `CHECKSUM TABLE ${quoteId(t)}`);
    assert.equal(b.Checksum, a.Checksum, `${t}: CHECKSUM TABLE`);
  }
  const engines = await queryIn(target, 'SELECT TABLE_NAME AS n, ENGINE AS e FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = ? ORDER BY 1', ['BASE TABLE']);
  assert.deepEqual(engines, [{ n: 'ledger', e: 'MyISAM' }, { n: 'patient', e: 'InnoDB' }]);
});
