/**
 * What a long-running service meets, produced for real: the database down,
 * the copy folder missing, not a folder or read-only, a full disk (a tiny
 * tmpfs) for the backup and for the copy, and SIGTERM in the middle of a
 * backup. Each leaves no partial file and shows up in `status`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeSource, tempDir } from '../helpers/backup.js';
import { dropTempDatabases } from '../helpers/db.js';
import { CLI, runCli } from '../helpers/cli.js';
import { closedPort, filesIn, mountTmpfs, serviceDir, unmount } from './helpers.js';

let source: string;
const mounts: string[] = [];

before(async () => {
  source = await makeSource({ patients: 60, prefix: 'lrsvc_fail' });
});
after(async () => {
  for (const m of mounts) unmount(m);
  await dropTempDatabases();
});

async function statusJson(configPath: string): Promise<{ code: number | null; status: { alerts: { code: string; message: string }[]; lastSuccess: unknown; lastCopy: { ok: boolean } | null } }> {
  const r = await runCli(['status', '--json', '--config', configPath]);
  return { code: r.code, status: JSON.parse(r.stdout) };
}

test('database down: exit 1 with one plain line, nothing written, BACKUP_FAILED in status', async () => {
  const port = await closedPort();
  const sd = await serviceDir(null, { source: `mysql://root@127.0.0.1:${port}/opendental` });
  const r = await runCli(['daemon', '--once', '--config', sd.configPath]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^lastresort: No database server answers at root@127\.0\.0\.1:\d+\/opendental\. Check that MySQL\/MariaDB is running/m);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.deepEqual((await filesIn(sd.outDir)).all, []);
  const { code, status } = await statusJson(sd.configPath);
  assert.equal(code, 1);
  assert.deepEqual(status.alerts.map((a) => a.code), ['BACKUP_FAILED']);
  assert.match(status.alerts[0]!.message, /No database server answers/);
  const log = await readFile(join(sd.logDir, 'lastresort.log'), 'utf8');
  assert.match(log, /"code":"LR_DB_UNREACHABLE"/);
  assert.match(log, /"cause":\{[^}]*"code":"ECONNREFUSED"/);
});

for (const [what, prepare, expected] of [
  ['missing', async (dir: string) => join(dir, 'not-mounted'), /does not exist \(is the network share mounted\?\)/],
  ['a regular file, not a folder', async (dir: string) => {
    await writeFile(join(dir, 'a-file'), 'x');
    return join(dir, 'a-file', 'share');
  }, /copy (folder|path) .* (is not a folder|does not exist)/],
] as const) {
  test(`copyTo ${what}: the local backup is kept, exit 3, COPY_FAILED in status`, async () => {
    const dir = await tempDir('lrsvc-copyfail-');
    const copyTo = await prepare(dir);
    const sd = await serviceDir(source, { copyTo });
    const r = await runCli(['daemon', '--once', '--config', sd.configPath]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /ALERT \(COPY_FAILED\)/);
    assert.match(r.stderr, expected);
    assert.equal((await filesIn(sd.outDir)).backups.length, 1);
    const { code, status } = await statusJson(sd.configPath);
    assert.equal(code, 1);
    assert.deepEqual(status.alerts.map((a) => a.code), ['COPY_FAILED']);
    assert.ok(status.lastSuccess);
  });
}

test('copyTo on a read-only filesystem (root ignores permissions, not ro mounts): exit 3, local kept', async (t) => {
  const dir = await tempDir('lrsvc-ro-');
  const share = join(dir, 'share');
  const problem = await mountTmpfs(share, 'ro,size=64k');
  if (problem) return t.skip(problem);
  mounts.push(share);
  const sd = await serviceDir(source, { copyTo: share });
  const r = await runCli(['daemon', '--once', '--config', sd.configPath]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /Cannot write to the copy folder .* \(read-only\)/);
  assert.equal((await filesIn(sd.outDir)).backups.length, 1);
  assert.deepEqual((await statusJson(sd.configPath)).status.alerts.map((a) => a.code), ['COPY_FAILED']);
});

test('disk full where backups go (256 KB tmpfs): exit 1, no partial .lrb or temporary left, alert', async (t) => {
  const dir = await tempDir('lrsvc-full-');
  const out = join(dir, 'out');
  const problem = await mountTmpfs(out, 'size=256k');
  if (problem) return t.skip(problem);
  mounts.push(out);
  const sd = await serviceDir(source, { outDir: out });
  const r = await runCli(['daemon', '--once', '--config', sd.configPath]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /is full \([^)]*\); no backup was written/);
  assert.deepEqual((await filesIn(out)).all, []);
  const { status } = await statusJson(sd.configPath);
  assert.deepEqual(status.alerts.map((a) => a.code), ['BACKUP_FAILED']);
  assert.equal(status.lastSuccess, null);
});

test('disk full where the copy goes: no partial copy, local kept, exit 3', async (t) => {
  const dir = await tempDir('lrsvc-fullcopy-');
  const share = join(dir, 'share');
  const problem = await mountTmpfs(share, 'size=256k');
  if (problem) return t.skip(problem);
  mounts.push(share);
  const sd = await serviceDir(source, { copyTo: share });
  const r = await runCli(['daemon', '--once', '--config', sd.configPath]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /copy folder .* is full; no copy was left there/);
  assert.deepEqual((await filesIn(share)).all, []);
  assert.equal((await filesIn(sd.outDir)).backups.length, 1);
});

test('SIGTERM mid-backup: the daemon stops cleanly and leaves no partial .lrb or temporary', async () => {
  // maxRate paces the read so the backup takes several seconds.
  const sd = await serviceDir(source, { maxRate: 100_000 });
  await mkdir(sd.outDir, { recursive: true });
  const child = spawn(process.execPath, [CLI, 'daemon', '--once', '--config', sd.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const deadline = Date.now() + 15_000;
  let sawTemporary = false;
  while (Date.now() < deadline && !sawTemporary) {
    sawTemporary = (await filesIn(sd.outDir)).temporaries.length > 0;
    if (!sawTemporary) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(sawTemporary, 'the backup never started writing');
  await new Promise((r) => setTimeout(r, 300));
  child.kill('SIGTERM');
  const stoppedAt = Date.now();
  const code = await closed;
  assert.equal(code, 1, stderr);
  assert.ok(Date.now() - stoppedAt < 5_000, 'it stopped promptly');
  assert.match(stderr, /Stopping cleanly \(SIGTERM\)/);
  assert.match(stderr, /stopped before it finished; no file was written/);
  assert.deepEqual((await filesIn(sd.outDir)).all, []);
  const state = JSON.parse(await readFile(sd.stateFile, 'utf8'));
  assert.equal(state.lastAttempt.outcome, 'interrupted');
});

test('the long-running daemon stops on SIGTERM with exit 0 and says so in its log', async () => {
  const sd = await serviceDir(source);
  const child = spawn(process.execPath, [CLI, 'daemon', '--config', sd.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const logFile = join(sd.logDir, 'lastresort.log');
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && !(await readFile(logFile, 'utf8').catch(() => '')).includes('service started')) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGTERM');
  assert.equal(await closed, 0, stderr);
  const lines = (await readFile(logFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).msg);
  assert.deepEqual(lines.slice(-1), ['service stopped']);
  assert.ok(lines.includes('service started'));
});
