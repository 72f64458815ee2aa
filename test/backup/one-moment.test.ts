/**
 * One moment across every table, whatever the engines (issue 25), each over
 * MyISAM+MyISAM, Aria+Aria, MyISAM+InnoDB, and InnoDB+InnoDB as the control:
 *   - an office writing pairs (a row into pair_a, then one with the same key
 *     into pair_b) during a two-connection backup: after the restore at most
 *     one pair is half there, and the writer's longest wait agrees with the
 *     writesHeldMs the backup reports;
 *   - a long SELECT on pair_a, with the office's UPDATE of pair_a queued
 *     behind it, while the backup starts (on MyISAM and Aria nothing can hold
 *     pair_a still until the SELECT ends): the office's writes to other tables
 *     never wait longer than the bounded lock wait plus a second (plus, on a
 *     held table, the hold the backup reports); the backup gets its moment
 *     once the SELECT ends, or, when the window closes first, still makes the
 *     file, marked not one moment, naming the connection in the way;
 *   - an account without LOCK TABLES gets a file marked not one moment that
 *     names the grant; one with LOCK TABLES but without RELOAD still gets one
 *     moment on a database of non-transactional tables.
 * Every file's signed header (identify --json) says what the result says.
 * All on a private MariaDB server (test/helpers/second-server.ts).
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDsn, parseDsn } from '../../src/db/dsn.js';
import { quoteId } from '../../src/db/connect.js';
import { openBackup } from '../../src/decrypt/open.js';
import { restoreBackup } from '../../src/restore/restore.js';
import { runBackup, type BackupOptions, type BackupResult } from '../../src/backup/index.js';
import { PASSWORD, tempDir } from '../helpers/backup.js';
import { runCli } from '../helpers/cli.js';
import { connectServer, createTempDatabase, dropDatabase, dsnFor, serverDsn } from '../helpers/db.js';
import { startSecondServer, type SecondServer } from '../helpers/second-server.js';
import { MIXES, allInnoDB, halfPairs, makePairSource, names, startLongSelect, startNoteWriter, startPairWriter, type EngineMix, type LongSelect, type Writer, type WriterStats } from '../helpers/office.js';

/** Small pieces and ranges: the backup reads over two connections and lasts a second or more. */
const SPLIT: Partial<BackupOptions> = { connections: 2, pieceBytes: 16 << 10, rangeBytes: 64 << 10 };
/** A generous bound on the hold when the backup reports one moment (the tables it holds are a few MB). */
const HELD_BOUND_MS = 15_000;
const LOCK_WAIT_S = 1;
/** No case may hang the suite: a backup that never gets its moment ends with its window, and a test with this. */
const CASE = { timeout: 90_000 };

// A private server: other tests' backups (BACKUP STAGE, FLUSH TABLES WITH READ LOCK) and long statements on a
// shared one would hold these offices' writes and stand in these backups' way, and the waits measured here would be theirs.
let server: SecondServer | null = null;
before(async () => {
  server = await startSecondServer();
  assert.ok(server, 'a private MariaDB server');
  process.env.LASTRESORT_TEST_DSN = server.dsnFor('');
});

const users: string[] = [];
after(async () => {
  if (!server) return;
  const admin = await connectServer();
  try {
    for (const user of users) await admin.query(`DROP USER IF EXISTS ?@'127.0.0.1', ?@'localhost'`, [user, user]);
  } finally {
    await admin.end();
  }
});
after(async () => {
  await server?.stop();
  delete process.env.LASTRESORT_TEST_DSN;
});

/** Restores `file` into a fresh database, counts its pairs, and drops it (the private server's data folder is small). */
async function restoredPairs(file: string, prefix: string): Promise<{ half: number; whole: number }> {
  const target = await createTempDatabase(prefix, { create: false });
  try {
    const report = await restoreBackup({ opened: await openBackup(file, PASSWORD), dsn: parseDsn(dsnFor(target)) });
    assert.equal(report.outcome, 'complete');
    return await halfPairs(target);
  } finally {
    await dropDatabase(target);
  }
}

function describeRun(result: BackupResult, stats: WriterStats): string {
  const waits = Object.entries(stats.longest).map(([kind, { ms, sql }]) => `${kind} ${ms.toFixed(0)} ms (${sql.split(' ').slice(0, 3).join(' ')})`).join(', ');
  return `backup ${result.durationMs} ms over ${result.connections} connection(s); oneMoment ${result.oneMoment} (${result.notOneMoment ?? '-'}); writesHeldMs ${result.writesHeldMs} over [${result.tablesHeld?.join(', ')}]; writer ${stats.rounds} rounds, longest ${waits}`;
}

/** The fields every result carries, whatever happened, and their agreement with the engines. */
function assertMomentFields(mix: EngineMix, result: BackupResult): void {
  assert.equal(typeof result.oneMoment, 'boolean', 'the result says whether it is one moment');
  assert.equal(typeof result.writesHeldMs, 'number', 'and how long writes were held');
  assert.ok(result.writesHeldMs >= 0 && Number.isFinite(result.writesHeldMs));
  assert.ok(Array.isArray(result.tablesHeld), 'and over which tables');
  if (result.oneMoment) assert.equal(result.notOneMoment, null, 'one moment: no reason against');
  else assert.ok(typeof result.notOneMoment === 'string' && result.notOneMoment.length > 0, 'not one moment: the reason, in words');
  if (!result.oneMoment) return;
  if (allInnoDB(mix)) {
    assert.ok(!names(result.tablesHeld, 'pair_a') && !names(result.tablesHeld, 'pair_b'), `InnoDB tables are not held: [${result.tablesHeld.join(', ')}]`);
    assert.ok(result.writesHeldMs < 1000, `on InnoDB, writes are held only for the instant the snapshots start (${result.writesHeldMs} ms)`);
  } else {
    assert.ok(names(result.tablesHeld, 'pair_a'), `pair_a (${mix.a}) is among the tables held: [${result.tablesHeld.join(', ')}]`);
    assert.equal(names(result.tablesHeld, 'pair_b'), mix.b !== 'InnoDB', `pair_b (${mix.b}) is held exactly when it is non-transactional: [${result.tablesHeld.join(', ')}]`);
    assert.ok(!names(result.tablesHeld, 'office_inno'), 'the InnoDB table office_inno is not held');
  }
}

/** The signed header says what the result says (identify --json shows it). */
async function assertHeaderAgrees(result: BackupResult): Promise<void> {
  const r = await runCli(['identify', result.file, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const { moment } = JSON.parse(r.stdout) as { moment: unknown };
  const { oneMoment, notOneMoment, writesHeldMs, tablesHeld } = result;
  assert.deepEqual(moment, { oneMoment, notOneMoment, writesHeldMs, tablesHeld: tablesHeld.length }, 'identify --json gives the moment facts of the signed header');
}

/** A backup of `source` (as `dsn`, default root) while the office writes pairs; its result and what the writer saw. */
async function backupDuringPairs(source: string, opts: Partial<BackupOptions> = {}): Promise<{ result: BackupResult; stats: WriterStats }> {
  const dir = await tempDir('lr-moment-');
  const writer = startPairWriter(source);
  return whileWriting(writer, async () => {
    await writer.rounds(20); // the office is at work before the backup starts
    const result = await runBackup({ source: parseDsn(dsnFor(source)), outDir: dir, ...SPLIT, ...opts });
    await sleep(100); // and after it ends
    return result;
  });
}

/** Runs the backup while `writer` writes, then stops the writer. */
async function whileWriting(writer: Writer, backup: () => Promise<BackupResult>): Promise<{ result: BackupResult; stats: WriterStats }> {
  try {
    const result = await backup();
    return { result, stats: await writer.stop() };
  } catch (err) {
    await writer.stop().catch(() => {});
    throw err;
  }
}

/**
 * A backup with lockWaitSeconds 1 (and `opts`) while a SELECT of `seconds` runs on pair_a, started
 * `headStartMs` before it, and the office writes to other tables.
 */
async function backupBehindSelect(source: string, seconds: number, opts: Partial<BackupOptions> = {}, headStartMs = 0): Promise<{ result: BackupResult; stats: WriterStats; long: LongSelect; selectEnded: boolean }> {
  const dir = await tempDir('lr-moment-');
  const long = await startLongSelect(source, 'pair_a', seconds);
  await sleep(headStartMs);
  let selectEnded = false;
  void long.ended.then(() => (selectEnded = true));
  try {
    const run = await whileWriting(startNoteWriter(source), () => runBackup({ source: parseDsn(dsnFor(source)), outDir: dir, ...SPLIT, lockWaitSeconds: LOCK_WAIT_S, ...opts }));
    return { ...run, long, selectEnded };
  } finally {
    await long.close();
  }
}

/** An account on `source` with only `grants` (database-level) and its DSN. */
async function accountWith(source: string, grants: string): Promise<BackupOptions['source']> {
  const user = `lr_moment_${users.length}_${process.pid}`;
  users.push(user);
  const admin = await connectServer();
  try {
    for (const host of ['127.0.0.1', 'localhost']) {
      await admin.query(`CREATE OR REPLACE USER ?@? IDENTIFIED BY 'pw-for-test'`, [user, host]);
      await admin.query(`GRANT ${grants} ON ${quoteId(source)}.* TO ?@?`, [user, host]);
    }
  } finally {
    await admin.end();
  }
  const base = parseDsn(serverDsn(), { requireDatabase: false });
  return parseDsn(formatDsn({ ...base, user, password: 'pw-for-test', database: source }, { withPassword: true }));
}

for (const mix of MIXES) {
  describe(mix.label, () => {
    let source = '';
    before(async () => {
      source = await makePairSource(mix);
    });
    test('pairs written during the backup come back whole, all but at most one', CASE, (t) => pairsCome(t, mix, source));
    test('a long SELECT on pair_a, an UPDATE queued behind it: the office waits at most the bounded lock wait, and the moment comes once the SELECT ends', CASE, (t) => momentAfterSelect(t, mix, source));
    test('a SELECT (and the UPDATE behind it) that outlasts the window: the file is made, marked not one moment, naming the connection in the way', CASE, (t) => windowEnds(t, mix, source));
    test('without LOCK TABLES (nor RELOAD): the file is made, and says it is not one moment for want of LOCK TABLES', CASE, (t) => withoutLockTables(t, mix, source));
    test('with LOCK TABLES but without RELOAD: still one moment where the tables allow it, and the pairs agree', CASE, (t) => withoutReload(t, mix, source));
  });
}

async function pairsCome(t: TestContext, mix: EngineMix, source: string): Promise<void> {
  const { result, stats } = await backupDuringPairs(source);
  t.diagnostic(describeRun(result, stats));
  assert.equal(result.connections, 2, 'read over two connections');
  const { half, whole } = await restoredPairs(result.file, 'lr_moment_pairs');
  t.diagnostic(`${whole} whole pairs in the file, ${half} half, of ${stats.rounds} written`);
  assert.ok(whole > 0, 'pairs written before the moment are in the file');
  assert.ok(stats.rounds > whole + half, 'pairs were still being written after the moment');
  assert.ok(half <= 1, `at most one pair half there, not ${half} (of ${whole + half})`);
  assertMomentFields(mix, result);
  assert.equal(result.oneMoment, true, `one moment: ${result.notOneMoment}`);
  const longest = stats.longest.pairs.ms;
  assert.ok(longest <= result.writesHeldMs + 1000, `the writer's longest wait (${longest.toFixed(0)} ms) is no longer than the hold the backup reports (${result.writesHeldMs} ms) plus a second`);
  assert.ok(result.writesHeldMs < HELD_BOUND_MS, `writes held ${result.writesHeldMs} ms`);
  await assertHeaderAgrees(result);
}

async function momentAfterSelect(t: TestContext, mix: EngineMix, source: string): Promise<void> {
  const { result, stats, selectEnded } = await backupBehindSelect(source, 4, { lockWindowSeconds: 20 });
  t.diagnostic(describeRun(result, stats) + `; the SELECT ${selectEnded ? 'had ended' : 'was still running'} when the backup finished`);
  assertOfficeWaits(stats, result);
  assertMomentFields(mix, result);
  assert.equal(result.oneMoment, true, `one moment once the SELECT ended: ${result.notOneMoment}`);
  if (!allInnoDB(mix)) assert.ok(selectEnded, 'the moment came after the SELECT ended (pair_a cannot be held still before)');
  assert.ok(existsSync(result.file));
}

async function windowEnds(t: TestContext, mix: EngineMix, source: string): Promise<void> {
  // A head start: the backup names the longest-running statement on the server.
  const { result, stats, long } = await backupBehindSelect(source, 14, { lockWindowSeconds: 3 }, 4000);
  t.diagnostic(describeRun(result, stats) + `; the SELECT ran on connection ${long.selectId}, the UPDATE queued behind it on ${long.updateId}`);
  assertOfficeWaits(stats, result);
  assertMomentFields(mix, result);
  assert.ok(existsSync(result.file), 'the file is made');
  if (allInnoDB(mix)) {
    assert.equal(result.oneMoment, true, `a SELECT stands in no InnoDB snapshot's way: ${result.notOneMoment}`);
  } else {
    assert.equal(result.oneMoment, false, 'marked not one moment');
    const standsInWay = new RegExp(`\\bconnection (${long.selectId}|${long.updateId})\\b`);
    assert.match(result.notOneMoment!, standsInWay, 'the reason names the connection that stood in the way (the SELECT, or the UPDATE queued behind it)');
  }
  await assertHeaderAgrees(result);
  await restoredPairs(result.file, 'lr_moment_window');
}

async function withoutLockTables(t: TestContext, mix: EngineMix, source: string): Promise<void> {
  const dsn = await accountWith(source, 'SELECT, SHOW VIEW, TRIGGER, EVENT');
  const result = await runBackup({ source: dsn, outDir: await tempDir('lr-moment-'), ...SPLIT });
  t.diagnostic(`${result.connections} connection(s); oneMoment ${result.oneMoment} (${result.notOneMoment ?? '-'}); writesHeldMs ${result.writesHeldMs}`);
  assert.ok(existsSync(result.file), 'the file is made');
  assertMomentFields(mix, result);
  if (allInnoDB(mix)) {
    assert.equal(result.oneMoment, true, `InnoDB needs no lock for its snapshot: ${result.notOneMoment}`);
  } else {
    assert.equal(result.oneMoment, false, 'marked not one moment');
    assert.match(result.notOneMoment!, /LOCK TABLES/, 'the reason names the grant to add');
  }
  await assertHeaderAgrees(result);
  await restoredPairs(result.file, 'lr_moment_nolock');
}

async function withoutReload(t: TestContext, mix: EngineMix, source: string): Promise<void> {
  const dsn = await accountWith(source, 'SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES');
  const { result, stats } = await backupDuringPairs(source, { source: dsn });
  t.diagnostic(describeRun(result, stats));
  assertMomentFields(mix, result);
  if (mix.b === mix.a) {
    // One engine for the office's tables (with the producer's own InnoDB keyring, rarely written).
    assert.equal(result.oneMoment, true, `one moment without RELOAD: ${result.notOneMoment}`);
  } else if (!result.oneMoment) {
    assert.match(result.notOneMoment!, /RELOAD/, 'a mix without one moment names the grant to add');
  }
  const { half, whole } = await restoredPairs(result.file, 'lr_moment_noreload');
  t.diagnostic(`${whole} whole pairs in the file, ${half} half`);
  if (!result.oneMoment) return;
  assert.ok(half <= 1, `one moment claimed: at most one pair half there, not ${half}`);
  assert.ok(stats.longest.pairs.ms <= result.writesHeldMs + 1000, `the writer's longest wait (${stats.longest.pairs.ms.toFixed(0)} ms) agrees with writesHeldMs (${result.writesHeldMs})`);
}

/**
 * The office's writes while a SELECT stood in the lock's way: on InnoDB never
 * longer than the lock wait plus a second; on a MyISAM/Aria table, that plus
 * the hold the backup reports (its moment's, or, in a file that is not one
 * moment, its failed tries').
 */
function assertOfficeWaits(stats: WriterStats, result: BackupResult): void {
  assert.ok(stats.rounds > 0, 'the office wrote during the backup');
  const bound = LOCK_WAIT_S * 1000 + 1000;
  const inno = stats.longest.inno.ms;
  const note = stats.longest.note.ms;
  assert.ok(inno <= bound, `an InnoDB write waited ${inno.toFixed(0)} ms (${stats.longest.inno.sql}), more than the lock wait plus a second`);
  assert.ok(note <= bound + result.writesHeldMs, `a write to office_note waited ${note.toFixed(0)} ms (${stats.longest.note.sql}), more than the lock wait plus a second plus the ${result.writesHeldMs} ms held`);
}
