/**
 * Faults on the restore side against real servers: two restores started
 * together into one new database (the server's named lock lets exactly one
 * run; the other changes nothing), and a target server whose disk fills (a
 * private MariaDB with its data folder on a small tmpfs: the restore ends
 * partial and keeps its progress record; after the tmpfs grows, --resume
 * completes it), and a target server frozen (SIGSTOP) mid-restore for
 * longer than --db-timeout (the tool notices and says so, then retries or
 * stops with the resume command; the data ends identical).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execSync, spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { backupOf, makeSource, passwordFile, tempDir } from '../helpers/backup.js';
import { compareDatabases, createTempDatabase, describeDifferences, dropTempDatabases, dsnFor, serverDsn } from '../helpers/db.js';
import { CLI, runCli } from '../helpers/cli.js';
import { startSecondServer, type SecondServer } from '../helpers/second-server.js';
import { parseDsn } from '../../src/db/dsn.js';
import { PROGRESS_TABLE } from '../../src/restore/progress-table.js';
import type { RestoreReport } from '../../src/restore/report.js';

let source: string;
let file: string;
let pwFile: string;
let dir: string;
const servers: SecondServer[] = [];

before(async () => {
  dir = await tempDir();
  pwFile = await passwordFile(dir);
  // InnoDB: on a full disk MyISAM does not fail, it waits for free space (the server's state 'Waiting for someone to free space');
  // that case has its own test, test/restore/disk-full-myisam.test.ts.
  source = await makeSource({ patients: 3000, prefix: 'lr_faults_src', engine: 'InnoDB' });
  file = (await backupOf(source, dir, { pieceBytes: 256 * 1024 })).file;
});
after(async () => {
  for (const s of servers) await s.stop();
  for (const d of [dir, ...servers.map((s) => s.dir)]) await rm(d, { recursive: true, force: true });
  await dropTempDatabases();
});

/**
 * A database of the second server copied onto the test server by the
 * server's own dump tool, so that compare.ts (one server) can hold it
 * against the source.
 */
async function copyToTestServer(server: SecondServer, database: string): Promise<string> {
  const copy = await createTempDatabase('lr_faults_copy');
  const shared = parseDsn(serverDsn(), { requireDatabase: false });
  execSync(`mariadb-dump --no-defaults -h127.0.0.1 -P${server.port} -uroot --routines --events --triggers --hex-blob ${database} | mariadb --no-defaults -h${shared.host} -P${shared.port} -u${shared.user} ${copy}`, { stdio: ['ignore', 'ignore', 'pipe'] });
  return copy;
}

async function rowCountsOn(server: SecondServer, database: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const c = await server.connect(database);
  try {
    for (const t of await tablesOf(server, database)) {
      const [[row]] = (await c.query(`SELECT COUNT(*) AS n FROM \`${t}\``)) as unknown as [{ n: number }[]];
      counts.set(t, Number(row.n));
    }
  } finally {
    await c.end();
  }
  return counts;
}

async function tablesOf(server: SecondServer, database: string): Promise<string[]> {
  const c = await server.connect();
  try {
    const [rows] = (await c.query('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [database])) as unknown as [{ t: string }[]];
    return rows.map((r) => r.t);
  } finally {
    await c.end();
  }
}

/** The report's counts are what the server holds; a table with nothing back names no "after N". */
async function reportCountsAreTheServers(server: SecondServer, saved: RestoreReport): Promise<void> {
  const held = await rowCountsOn(server, 'filled');
  for (const x of saved.tables) {
    assert.equal(x.rowsRestored, held.get(x.name) ?? 0, `${x.name}: the report says ${x.rowsRestored}, the server holds ${held.get(x.name)}`);
    if (x.rowsRestored === 0) assert.equal(x.lostKeyRanges, undefined, `${x.name}: ${JSON.stringify(x.lostKeyRanges)}`);
  }
  assert.ok(saved.tables.some((x) => x.rowsRestored === 0 && (x.rowsExpected ?? 0) > 0), 'some table got nothing back');
}

test("target server's disk fills: partial, the progress record is kept; after the disk grows --resume completes, identical to the source", async (t) => {
  const server = await startSecondServer({ tmpfsSize: '40m' });
  if (!server) return t.skip('cannot mount a tmpfs here');
  servers.push(server);
  const target = server.dsnFor('filled');
  const report = join(dir, 'filled.json');
  const logFile = join(dir, 'filled.log');
  const first = await runCli(['--log-file', logFile, 'restore', file, '--target', target, '--password-file', pwFile, '--report', report]);
  const why = async () => `exit ${first.code}\n${first.stderr}\nlog:\n${(await readFile(logFile, 'utf8').catch(() => '')).split('\n').slice(-12).join('\n')}`;
  assert.doesNotMatch(first.stdout + first.stderr, /ER_RECORD_FILE_FULL|EE_WRITE|errno|MaxListenersExceededWarning/);
  if (first.stdout === '') {
    // The disk filled under a statement outside any table (the progress record's own), or MariaDB itself
    // died of it (it can abort on a failed write): one line naming the cause, and the way on.
    assert.equal(first.code, 1, await why());
    assert.match(first.stderr, /^lastresort: (The database server at .* has no room left: its disk is full\.|No database server answers at .*\.) .*[Tt]hen continue the restore with: lastresort restore .* --resume$/m, await why());
    t.diagnostic(`no report: ${first.stderr.trim().split('\n').pop()}`);
  } else {
    assert.ok(first.code === 3 || first.code === 1, await why());
    assert.match(first.stdout, /The target server's disk is full: free space there, then resume with the command below/, await why());
    assert.match(first.stdout, /filled keeps its progress record, so this restore can be finished once the problem is fixed: lastresort restore .* --resume/);
    const saved = JSON.parse(await readFile(report, 'utf8')) as RestoreReport;
    assert.equal(saved.resumable, true);
    assert.ok((await tablesOf(server, 'filled')).includes(PROGRESS_TABLE), 'the progress record is kept');
    assert.ok(saved.tables.some((x) => x.error === "the target server's disk is full: free space, then resume"));
    await reportCountsAreTheServers(server, saved);
    assert.match(await readFile(report.replace(/\.json$/, '.md'), 'utf8'), /Finish this restore \(once the problem above is fixed\)/);
  }

  server.resize('512m');
  await server.ensureRunning();
  const resumed = await runCli(['restore', file, '--target', target, '--password-file', pwFile, '--resume']);
  assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  assert.match(resumed.stdout, /All \d+ tables restored\./);
  assert.ok(!(await tablesOf(server, 'filled')).includes(PROGRESS_TABLE), 'the record goes once every table is complete');
  const copy = await copyToTestServer(server, 'filled');
  const diffs = await compareDatabases(source, copy);
  assert.deepEqual(diffs, [], describeDifferences(diffs));
});

for (let round = 1; round <= 5; round++) {
  test(`two restores into one new database started together (round ${round}): one runs, one is refused, the survivor is identical`, async () => {
    const target = await createTempDatabase('lr_faults_twin', { create: false });
    const args = ['restore', file, '--target', dsnFor(target), '--password-file', pwFile];
    const [a, b] = await Promise.all([runCli(args), runCli(args)]);
    assert.deepEqual([a.code, b.code].sort(), [0, 1], `${a.stderr}\n${b.stderr}`);
    const refused = a.code === 1 ? a : b;
    assert.match(refused.stderr, new RegExp(`^lastresort: Another restore into ${target} on .* is running, so this one did not start and changed nothing\\.`, 'm'));
    assert.equal(refused.stderr.split('\n').filter((l) => l.startsWith('lastresort:')).length, 1, refused.stderr);
    const diffs = await compareDatabases(source, target);
    assert.deepEqual(diffs, [], describeDifferences(diffs));
  });
}

async function progressRows(server: SecondServer, database: string): Promise<number> {
  const c = await server.connect();
  try {
    const [[row]] = (await c.query(`SELECT COUNT(*) AS n FROM \`${database}\`.${PROGRESS_TABLE}`)) as unknown as [{ n: number }[]];
    return Number(row.n);
  } catch {
    return 0;
  } finally {
    await c.end();
  }
}

test('target server frozen mid-restore for longer than --db-timeout: noticed and said; after it thaws the data ends identical', async (t) => {
  const server = (await startSecondServer())!;
  servers.push(server);
  const target = server.dsnFor('frozen');
  const args = ['--db-timeout', '3', 'restore', file, '--target', target, '--password-file', pwFile];
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && (await progressRows(server, 'frozen')) < 4) await new Promise((r) => setTimeout(r, 50));
  server.freeze();
  const frozenAt = Date.now();
  // Frozen well past the timeout (3 s) and the probe that confirms it (3 s more).
  while (Date.now() - frozenAt < 15_000 && !/stopped answering/.test(out)) await new Promise((r) => setTimeout(r, 100));
  const noticedMs = Date.now() - frozenAt;
  await new Promise((r) => setTimeout(r, 2000));
  server.thaw();
  const code = await closed;
  assert.match(out, /The database server at .* stopped answering \(nothing for \d+ s\)/, out);
  assert.ok(noticedMs < 12_000, `noticed after ${noticedMs} ms`);
  t.diagnostic(`noticed ${noticedMs} ms after the freeze; the first run ended with exit ${code}`);
  if (code !== 0) {
    // It gave up before the server came back: the line says how to go on, and that works.
    assert.equal(code, 1, out);
    assert.match(out, /continue the restore with: lastresort restore .* --resume/);
    const resumed = await runCli(['restore', file, '--target', target, '--password-file', pwFile, '--resume']);
    assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
  }
  const copy = await copyToTestServer(server, 'frozen');
  const diffs = await compareDatabases(source, copy);
  assert.deepEqual(diffs, [], describeDifferences(diffs));
});

test('target server killed mid-restore and started again: the person is told it is waiting; the restore continues, identical', async (t) => {
  const server = (await startSecondServer())!;
  servers.push(server);
  const child = spawn(process.execPath, [CLI, 'restore', file, '--target', server.dsnFor('crashed'), '--password-file', pwFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && (await progressRows(server, 'crashed')) < 4) await new Promise((r) => setTimeout(r, 50));
  server.kill();
  const killedAt = Date.now();
  while (Date.now() - killedAt < 10_000 && !/waiting for it to answer/.test(out)) await new Promise((r) => setTimeout(r, 50));
  const toldMs = Date.now() - killedAt;
  await server.ensureRunning();
  const code = await closed;
  t.diagnostic(`told ${toldMs} ms after the kill; exit ${code}`);
  assert.match(out, /The connection to the target server was lost; waiting for it to answer, then continuing where the restore stopped/);
  assert.ok(toldMs < 2000, `told after ${toldMs} ms`);
  assert.equal(code, 0, out);
  const copy = await copyToTestServer(server, 'crashed');
  const diffs = await compareDatabases(source, copy);
  assert.deepEqual(diffs, [], describeDifferences(diffs));
});
