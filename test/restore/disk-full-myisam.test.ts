/**
 * A MyISAM restore onto a server whose disk fills (a private MariaDB, its
 * data folder on a small tmpfs). MyISAM does not fail a write on a full
 * disk, it waits "for someone to free space", so without a watch the
 * restore froze with no word. Wanted: the full disk noticed within seconds,
 * one plain line, no load of the restore left on the server, the report and
 * the resume command written; once the tmpfs is bigger, --resume makes the
 * database identical to the source.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { backupOf, makeSource, passwordFile, tempDir } from '../helpers/backup.js';
import { compareDatabases, createTempDatabase, describeDifferences, dropTempDatabases, serverDsn } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { startSecondServer, type SecondServer } from '../helpers/second-server.js';
import { parseDsn } from '../../src/db/dsn.js';
import { PROGRESS_TABLE } from '../../src/restore/progress-table.js';
import type { RestoreReport } from '../../src/restore/report.js';

let source: string;
let file: string;
let pwFile: string;
let dir: string;
let server: SecondServer | null = null;

before(async () => {
  dir = await tempDir('lr-diskfull-');
  pwFile = await passwordFile(dir);
  source = await makeSource({ patients: 10000, prefix: 'lr_diskfull_src', engine: 'MyISAM' });
  file = (await backupOf(source, dir, { pieceBytes: 256 * 1024 })).file;
});
after(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
  await dropTempDatabases();
});

async function onServer<T>(s: SecondServer, query: string, values: unknown[] = []): Promise<T[]> {
  const c = await s.connect();
  try {
    return (await c.query(query, values))[0] as T[];
  } finally {
    await c.end();
  }
}

test('MyISAM restore onto a full disk: noticed and said, loads ended, report and resume command; --resume after the disk grows is identical', async (t) => {
  server = await startSecondServer({ tmpfsSize: '40m' });
  if (!server) return t.skip('cannot mount a tmpfs here');
  const target = server.dsnFor('filled');
  const report = join(dir, 'filled.json');
  const started = Date.now();
  const first = await runCli(['restore', file, '--target', target, '--password-file', pwFile, '--report', report], { timeoutMs: 240_000 });
  const seconds = (Date.now() - started) / 1000;
  t.diagnostic(`first pass: exit ${first.code} after ${seconds.toFixed(1)} s`);
  assert.ok(first.code === 3 || first.code === 1, `exit ${first.code}\n${first.stderr}`);
  assert.ok(seconds < 90, `the restore ended ${seconds.toFixed(1)} s after it started`);
  assert.match(first.stderr, /The target server's disk is full: free space, then resume\. Stopping the loads/, first.stderr);
  assert.match(first.stdout, /The target server's disk is full: free space there, then resume with the command below/, first.stdout);
  assert.match(first.stdout, /lastresort restore .* --resume/);
  const saved = JSON.parse(await readFile(report, 'utf8')) as RestoreReport;
  assert.equal(saved.resumable, true);
  assert.ok(saved.tables.some((x) => x.error === "the target server's disk is full: free space, then resume"));
  const left = await onServer<{ id: number }>(server, "SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER LIKE 'lr\\_restore\\_%'");
  assert.deepEqual(left, [], 'no load of the restore is left on the server');
  const tables = await onServer<{ t: string; e: string }>(server, 'SELECT TABLE_NAME AS t, ENGINE AS e FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', ['filled']);
  assert.ok(tables.some((x) => x.t === PROGRESS_TABLE), 'the progress record is kept');

  server.resize('512m');
  await server.ensureRunning();
  const resumed = await runCli(['restore', file, '--target', target, '--password-file', pwFile, '--resume'], { timeoutMs: 240_000 });
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  const engines = await onServer<{ e: string }>(server, 'SELECT DISTINCT ENGINE AS e FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME <> ?', ['filled', 'lastresort_keyring']);
  assert.deepEqual(engines.map((x) => x.e), ['MyISAM'], 'every table still MyISAM');
  const copy = await createTempDatabase('lr_diskfull_copy');
  const shared = parseDsn(serverDsn(), { requireDatabase: false });
  execSync(`mariadb-dump --no-defaults -h127.0.0.1 -P${server.port} -uroot --hex-blob filled | mariadb --no-defaults -h${shared.host} -P${shared.port} -u${shared.user} ${copy}`, { stdio: ['ignore', 'ignore', 'pipe'] });
  const diffs = await compareDatabases(source, copy);
  assert.deepEqual(diffs, [], describeDifferences(diffs));
});
