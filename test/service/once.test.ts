/**
 * `daemon --once` end to end, as cron or systemd would run it: the real CLI
 * against the real server. The copy is restored and compared with the
 * source through SQL, so "verified" means a usable backup.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { makeSource, tempDir } from '../helpers/backup.js';
import { connectServer, dropTempDatabases } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { assertRestoresLikeSource, filesIn, serviceDir, type ServiceDir } from './helpers.js';

let source: string;
let sd: ServiceDir;
let copyTo: string;

before(async () => {
  source = await makeSource({ patients: 40, prefix: 'lrsvc_once' });
  const dir = await tempDir('lrsvc-copy-');
  copyTo = join(dir, 'share');
  await mkdir(copyTo);
  sd = await serviceDir(source, { copyTo, keep: 3 });
});
after(dropTempDatabases);

async function sha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

async function prefValue(database: string, name: string): Promise<string | undefined> {
  const conn = await connectServer(database);
  try {
    const [rows] = await conn.query('SELECT ValueString FROM preference WHERE PrefName = ?', [name]);
    return (rows as { ValueString: string }[])[0]?.ValueString;
  } finally {
    await conn.end();
  }
}

test('daemon --once backs up, copies, verifies, records and reports, then status is clean', async () => {
  const before = await prefValue(source, 'SupplementalBackupDateLastComplete');
  const r = await runCli(['daemon', '--once', '--json', '--config', sd.configPath]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.outcome, 'ok');
  assert.deepEqual(result.alerts, []);

  // One backup in each place, byte-identical, mode 0600, nothing temporary left.
  const local = await filesIn(sd.outDir);
  const remote = await filesIn(copyTo);
  assert.equal(local.backups.length, 1);
  assert.deepEqual(remote.backups, local.backups);
  assert.deepEqual([...local.temporaries, ...remote.temporaries], []);
  const localFile = join(sd.outDir, local.backups[0]!);
  const copyFile = join(copyTo, remote.backups[0]!);
  assert.equal(result.backup.file, localFile);
  assert.equal(result.copy.file, copyFile);
  assert.equal(await sha256(copyFile), await sha256(localFile));
  assert.equal((await stat(copyFile)).mode & 0o777, 0o600);
  assert.equal((await stat(localFile)).mode & 0o777, 0o600);
  assert.equal((await stat(copyFile)).size, result.backup.bytes);

  // The practice database records the time, as Open Dental's own feature does.
  const after = await prefValue(source, 'SupplementalBackupDateLastComplete');
  assert.notEqual(after, before);
  const at = new Date(result.backup.at);
  const pad = (n: number) => String(n).padStart(2, '0');
  assert.equal(after, `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`);

  // The state file and the status agree with what is on disk.
  const state = JSON.parse(await readFile(sd.stateFile, 'utf8'));
  assert.equal(state.lastSuccess.file, localFile);
  assert.equal((await stat(sd.stateFile)).mode & 0o777, 0o600);
  const s = await runCli(['status', '--json', '--config', sd.configPath]);
  assert.equal(s.code, 0, s.stderr);
  const status = JSON.parse(s.stdout);
  assert.equal(status.enabled, true);
  assert.equal(status.lastSuccess.file, localFile);
  assert.equal(status.lastSuccess.bytes, result.backup.bytes);
  assert.equal(status.lastSuccess.admin, 'jsmith');
  assert.equal(status.lastCopy.ok, true);
  assert.deepEqual(status.alerts, []);
  assert.equal(status.admin.userName, 'jsmith');
  assert.equal(status.admin.enrolled, true);
  assert.ok(Date.parse(status.nextWindow.end) > Date.parse(status.nextWindow.start));
  assert.deepEqual(status.disk.map((d: { path: string }) => d.path), [sd.outDir, copyTo]);
  assert.ok(status.disk.every((d: { freeBytes: number }) => d.freeBytes > 0));
  const human = await runCli(['status', '--config', sd.configPath]);
  assert.match(human.stdout, /Alerts: none/);

  // One log line for the backup with outcome, duration, bytes and rows; no secrets.
  const logText = await readFile(join(sd.logDir, 'lastresort.log'), 'utf8');
  const lines = logText.trim().split('\n').map((l) => JSON.parse(l));
  const cycle = lines.find((l) => l.msg === 'backup cycle finished');
  assert.ok(cycle, logText);
  assert.equal(cycle.outcome, 'ok');
  assert.equal(cycle.bytes, result.backup.bytes);
  assert.ok(cycle.rows > 0 && cycle.durationMs >= 0);
  assert.doesNotMatch(logText, /correct horse|mysql:\/\//);
  assert.equal((await stat(join(sd.logDir, 'lastresort.log'))).mode & 0o777, 0o600);
});

test('the network copy restores to a database equal to the source (through SQL)', async () => {
  const copy = join(copyTo, (await filesIn(copyTo)).backups[0]!);
  const target = await assertRestoresLikeSource(copy, source, 'lrsvc_restored');
  for (const name of ['SupplementalBackupEnabled', 'PracticeTitle', 'SupplementalBackupNetworkPath']) {
    assert.equal(await prefValue(target, name), await prefValue(source, name), name);
  }
});
