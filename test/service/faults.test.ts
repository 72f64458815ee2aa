/**
 * Faults of the worst night on the producer's side, produced for real: a
 * backup folder on a tmpfs of 1, 4 and 16 MB (each smaller than the
 * backup), a daemon whose folder fills one night and has room the next,
 * SIGTERM and SIGINT during `backup`, temporaries a killed run left, and
 * runs started together.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { backupOf, makeSource, passwordFile, tempDir as makeTempDir } from '../helpers/backup.js';
import { dropTempDatabases, dsnFor } from '../helpers/db.js';
import { CLI, runCli } from '../helpers/cli.js';
import { setRootLogger } from '../../src/log.js';
import { runDaemon } from '../../src/service/daemon.js';
import { loadState } from '../../src/service/state.js';
import { computeAlerts } from '../../src/service/alerts.js';
import { listBackups } from '../../src/service/retention.js';
import type { CycleResult } from '../../src/service/cycle.js';
import { configOf, FakeClock, filesIn, mountTmpfs, serviceDir, unmount } from './helpers.js';
import { startSecondServer, type SecondServer } from '../helpers/second-server.js';
import { generateOpenDental } from '../../fixtures/opendental.js';
import { enrollAdmin } from '../../src/keys/enroll.js';
import { FAST_TEST_KDF } from '../../src/keys/crypto.js';
import { parseDsn } from '../../src/db/dsn.js';
import { ADMIN, PASSWORD } from '../helpers/backup.js';

let source: string;
let backupBytes: number;
let backupFile: string;
const mounts: string[] = [];
const servers: SecondServer[] = [];
const dirs: string[] = [];

/** A new folder, removed when the file ends (the backups here are 35 MB each). */
async function tempDir(prefix: string): Promise<string> {
  const dir = await makeTempDir(prefix);
  dirs.push(dir);
  return dir;
}

before(async () => {
  // Big enough that its backup (about 35 MB) overflows every folder below.
  source = await makeSource({ patients: 9000, prefix: 'lrsvc_faults' });
  const dir = await tempDir('lrsvc-size-');
  const made = await backupOf(source, dir);
  backupBytes = made.bytes;
  backupFile = made.file;
});
after(async () => {
  for (const m of mounts) unmount(m);
  for (const server of servers) await server.stop();
  for (const d of [...dirs, ...servers.map((x) => x.dir)]) await rm(d, { recursive: true, force: true });
  await dropTempDatabases();
});

async function smallFolder(t: { skip: (m: string) => void }, size: string): Promise<string | null> {
  const dir = join(await tempDir('lrsvc-tmpfs-'), 'out');
  const problem = await mountTmpfs(dir, `size=${size}`);
  if (problem) {
    t.skip(problem);
    return null;
  }
  mounts.push(dir);
  return dir;
}

// A version 3 (compressed) backup of this source is about 12 MB: every folder is smaller.
for (const size of ['1m', '4m', '8m']) {
  test(`backup into a ${size} folder: one plain line naming it and the space needed, exit 1, nothing left`, async (t) => {
    const out = await smallFolder(t, size);
    if (!out) return;
    assert.ok(backupBytes > 8 << 20, `the backup (${backupBytes} bytes) is bigger than every folder`);
    const r = await runCli(['backup', '--source', dsnFor(source), '--out', out]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(`^lastresort: The disk holding ${out} is full \\([\\d.]+ [KM]B free\\); no backup was written\\. The backup needs about [\\d.]+ MB: free that much there, or choose another folder\\.$`));
    assert.deepEqual((await filesIn(out)).all, []);
  });
}

test('decrypt into a 4 MB folder: one plain line, exit 1, no partial or temporary file', async (t) => {
  const out = await smallFolder(t, '4m');
  if (!out) return;
  const pw = await passwordFile(await tempDir('lrsvc-pw-'));
  const r = await runCli(['decrypt', backupFile, '--out', join(out, 'backup.tar'), '--password-file', pw]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^lastresort: The disk holding ${out} is full \\([^)]+\\); no decrypted file was written\\. The decrypted file needs about [\\d.]+ MB`));
  assert.deepEqual((await filesIn(out)).all, []);
});

test('daemon --once into a 4 MB folder: BACKUP_FAILED in the state file, the log and status', async (t) => {
  const out = await smallFolder(t, '4m');
  if (!out) return;
  const sd = await serviceDir(source, { outDir: out });
  dirs.push(sd.dir);
  const r = await runCli(['daemon', '--once', '--config', sd.configPath]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /is full .*no backup was written\. The backup needs about/);
  assert.deepEqual((await filesIn(out)).all, []);
  const state = JSON.parse(await readFile(sd.stateFile, 'utf8'));
  assert.equal(state.lastAttempt.outcome, 'failed');
  assert.equal(state.lastAttempt.code, 'LR_IO');
  const log = await readFile(join(sd.logDir, 'lastresort.log'), 'utf8');
  assert.match(log, /"outcome":"failed".*is full/);
  const s = await runCli(['status', '--json', '--config', sd.configPath]);
  assert.equal(s.code, 1);
  assert.deepEqual(JSON.parse(s.stdout).alerts.map((a: { code: string }) => a.code), ['BACKUP_FAILED']);
});

test('the long-running daemon survives a night whose folder is full and makes the next one', async (t) => {
  const out = await smallFolder(t, '1m');
  if (!out) return;
  const logLines: Record<string, unknown>[] = [];
  setRootLogger(pino({ level: 'info' }, new Writable({ write(c, _e, cb) { for (const l of String(c).trim().split('\n')) logLines.push(JSON.parse(l)); cb(); } })));
  const sd = await serviceDir(source, { outDir: out, window: '01:00-02:00' });
  dirs.push(sd.dir);
  const clock = new FakeClock(new Date(2025, 5, 2, 12).getTime(), new Date(2025, 5, 5, 0).getTime());
  const stop = new AbortController();
  const nights: [string, CycleResult][] = [];
  await runDaemon({ configPath: sd.configPath, clock, signal: stop.signal, random: () => 0.1, retryPausesMs: [20 * 60_000], onNight: (night, r) => {
    nights.push([night, r]);
    if (nights.length === 1) {
      // The person makes room: a bigger disk at the same place.
      unmount(out);
      assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=128m', 'tmpfs', out]).status, 0);
    }
    if (nights.length === 2) stop.abort();
  } });
  assert.deepEqual(nights.map(([, r]) => r.outcome), ['failed', 'ok']);
  assert.match(nights[0]![1].error!.message, /is full/);
  assert.ok(logLines.some((l) => l.msg === 'giving up for tonight: the window closed'));
  assert.equal((await filesIn(out)).backups.length, 1);
  assert.equal((await filesIn(out)).temporaries.length, 0);
  const config = await configOf(sd);
  assert.deepEqual(computeAlerts(config, await loadState(sd.stateFile), clock.now()).map((a) => a.code), []);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`backup stopped by ${signal} mid-write: a line, exit 1, no file or temporary left`, async () => {
    const out = await tempDir('lrsvc-sig-');
    const child = spawn(process.execPath, [CLI, 'backup', '--source', dsnFor(source), '--out', out, '--max-rate', '2000000'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (await filesIn(out)).temporaries.length === 0) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await filesIn(out)).temporaries.length, 1, 'the backup started writing');
    await new Promise((r) => setTimeout(r, 300));
    child.kill(signal);
    assert.equal(await closed, 1, stderr);
    assert.match(stderr, /stopped before it finished; no file was written/);
    assert.deepEqual((await filesIn(out)).all, []);
  });
}

test("the next backup removes a killed run's temporary at once, never a running one's or another tool's", async () => {
  const out = await tempDir('lrsvc-left-');
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // a process that has ended
  const name = (pid: number | null) => `.${source}-20250101-010000.lrb.0123abcd${pid === null ? '' : `.${pid}`}.tmp`;
  const killed = join(out, name(dead));
  const running = join(out, name(process.pid)); // this test process is alive
  const noPid = join(out, name(null)); // a copy's (or older version's): kept for a day
  const others = ['.something.tmp', 'notes.tmp', `.${source}.lrb.0123abcd.${dead}.tmp`].map((n) => join(out, n));
  for (const f of [killed, running, noPid, ...others]) await writeFile(f, 'partial');
  const r = await runCli(['backup', '--source', dsnFor(source), '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const left = (await filesIn(out)).all.sort();
  assert.ok(!left.includes(name(dead)), 'the killed run\'s temporary is gone');
  for (const f of [running, noPid, ...others]) assert.ok(await stat(f).then(() => true, () => false), `${f} kept`);
  assert.equal((await filesIn(out)).backups.length, 1);
});

test('two daemon --once at once: one runs, the other is refused with one line, exit 1, and touches nothing', async () => {
  const sd = await serviceDir(source, { maxRate: 10_000_000 });
  dirs.push(sd.dir);
  await mkdir(sd.outDir, { recursive: true });
  const [a, b] = await Promise.all([runCli(['daemon', '--once', '--config', sd.configPath]), runCli(['daemon', '--once', '--config', sd.configPath])]);
  const codes = [a.code, b.code].sort();
  assert.deepEqual(codes, [0, 1], `${a.stderr}\n${b.stderr}`);
  const refused = a.code === 1 ? a : b;
  assert.match(refused.stderr, /^lastresort: Another backup with these settings is running \(process \d+\), so this one did not start\./);
  assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
  assert.equal((await filesIn(sd.outDir)).backups.length, 1);
  const state = JSON.parse(await readFile(sd.stateFile, 'utf8'));
  assert.equal(state.lastAttempt.outcome, 'ok');
  assert.equal((await filesIn(sd.dir)).all.filter((n) => n.includes('.lock')).length, 0, 'the lock is gone');
});

test("a lock left by a killed daemon (its process gone) is taken over; a live one's is not", async () => {
  const sd = await serviceDir(source);
  dirs.push(sd.dir);
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  await writeFile(`${sd.stateFile}.lock`, `${dead} 2025-01-01T00:00:00.000Z\n`);
  const r = await runCli(['daemon', '--once', '--config', sd.configPath]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((await filesIn(sd.outDir)).backups.length, 1);
  assert.equal(await stat(`${sd.stateFile}.lock`).then(() => true, () => false), false, 'released at the end');
  // This test process is alive: its lock stands, and the run is refused.
  await writeFile(`${sd.stateFile}.lock`, `${process.pid} 2025-01-01T00:00:00.000Z\n`);
  const refused = await runCli(['daemon', '--once', '--config', sd.configPath]);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, new RegExp(`Another backup with these settings is running \\(process ${process.pid}\\)`));
  assert.equal((await filesIn(sd.outDir)).backups.length, 1);
});

test('two backups in the same second into one folder: two files, each whole', async () => {
  const out = await tempDir('lrsvc-same-');
  const now = new Date();
  const results = await Promise.all([backupOf(source, out, { now }), backupOf(source, out, { now })]);
  const names = results.map((r) => r.file).sort();
  assert.notEqual(names[0], names[1]);
  assert.equal((await filesIn(out)).backups.length, 2);
  for (const r of results) assert.equal((await stat(r.file)).size, r.bytes);
  // The second of the second sorts as the newer one.
  const listed = await listBackups(out, source);
  assert.match(listed[0]!, /-2\.lrb$/);
  // And from the command line, two at once into one folder: two files.
  const cli = await Promise.all([0, 1].map(() => runCli(['backup', '--source', dsnFor(source), '--out', out])));
  assert.deepEqual(cli.map((r) => r.code), [0, 0], cli.map((r) => r.stderr).join('\n'));
  assert.equal((await filesIn(out)).backups.length, 4);
});

/** An Open Dental-shaped source on a private server (to freeze or kill), its admin enrolled. */
async function sourceOnSecondServer(): Promise<SecondServer> {
  const server = (await startSecondServer())!;
  servers.push(server);
  const c = await server.connect();
  try {
    await generateOpenDental(c, { database: 'od', patients: 3000, seed: 7 });
  } finally {
    await c.end();
  }
  await enrollAdmin({ source: parseDsn(server.dsnFor('od')), userName: ADMIN, password: PASSWORD, kdf: FAST_TEST_KDF });
  return server;
}

/** Starts `daemon --once` on `sd`; resolves once its temporary file exists (the backup is writing). */
async function onceWriting(sd: { configPath: string; outDir: string }) {
  await mkdir(sd.outDir, { recursive: true });
  const child = spawn(process.execPath, [CLI, 'daemon', '--once', '--config', sd.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await filesIn(sd.outDir)).temporaries.length === 0) await new Promise((r) => setTimeout(r, 20));
  assert.equal((await filesIn(sd.outDir)).temporaries.length, 1, 'the backup started writing');
  await new Promise((r) => setTimeout(r, 300));
  return { closed, stderr: () => stderr };
}

test('source frozen mid-backup (SIGSTOP, dbTimeout 3 s): the night ends with BACKUP_FAILED, the server named, no file', async () => {
  const server = await sourceOnSecondServer();
  const sd = await serviceDir(null, { source: server.dsnFor('od'), maxRate: 1_000_000, dbTimeout: 3 });
  dirs.push(sd.dir);
  const run = await onceWriting(sd);
  server.freeze();
  const frozenAt = Date.now();
  const code = await run.closed;
  const tookMs = Date.now() - frozenAt;
  server.thaw();
  assert.equal(code, 1, run.stderr());
  assert.ok(tookMs < 30_000, `ended ${tookMs} ms after the freeze`);
  assert.match(run.stderr(), /^lastresort: The database server at root@127\.0\.0\.1:\d+\/od stopped answering during the backup \(nothing for 3 s or more\); no backup was written\./m);
  assert.deepEqual((await filesIn(sd.outDir)).all, []);
  const s = await runCli(['status', '--json', '--config', sd.configPath]);
  const status = JSON.parse(s.stdout);
  assert.deepEqual(status.alerts.map((a: { code: string }) => a.code), ['BACKUP_FAILED']);
  assert.match(status.alerts[0].message, /stopped answering/);
  const state = JSON.parse(await readFile(sd.stateFile, 'utf8'));
  assert.equal(state.lastAttempt.code, 'LR_DB_UNREACHABLE');
  const log = await readFile(join(sd.logDir, 'lastresort.log'), 'utf8');
  assert.match(log, /"msg":"the database server stopped answering"/);
});

test('source killed mid-backup: LR_DB_UNREACHABLE in plain words, not driver text under LR_DB; no file', async () => {
  const server = await sourceOnSecondServer();
  const sd = await serviceDir(null, { source: server.dsnFor('od'), maxRate: 1_000_000 });
  dirs.push(sd.dir);
  const run = await onceWriting(sd);
  server.kill();
  assert.equal(await run.closed, 1, run.stderr());
  assert.match(run.stderr(), /^lastresort: The database server at .* closed the connection during the backup; no backup was written\. Check that it is running, then try again\.$/m);
  assert.doesNotMatch(run.stderr(), /Can't add new command|PROTOCOL_CONNECTION_LOST|ECONNRESET/);
  assert.deepEqual((await filesIn(sd.outDir)).all, []);
  const state = JSON.parse(await readFile(sd.stateFile, 'utf8'));
  assert.equal(state.lastAttempt.code, 'LR_DB_UNREACHABLE');
});
