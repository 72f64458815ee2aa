/**
 * The offsite settings and alerts without a store: values are checked like
 * every other setting, a key file others may read is refused (the night's
 * local backup still made, OFFSITE_FAILED raised), and the alert rules for a
 * failed, missing or long-absent offsite copy.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeSource, tempDir } from '../helpers/backup.js';
import { dropTempDatabases } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { computeAlerts } from '../../src/service/alerts.js';
import { defaultConfig } from '../../src/service/config.js';
import { identify } from '../../src/identify/identify.js';
import type { ServiceState } from '../../src/service/state.js';
import { filesIn, serviceDir } from '../service/helpers.js';

let source: string;
before(async () => {
  source = await makeSource({ patients: 10, prefix: 'lroff_settings' });
});
after(dropTempDatabases);

test('config set takes the offsite settings and refuses bad ones with the reason (exit 2)', async () => {
  const path = join(await tempDir('lroff-cfg-'), 'config.json');
  const good: [string, string][] = [['offsite', 's3://acme-backups/fleet'], ['offsiteEndpoint', 'https://s3.example.com/'], ['offsiteRegion', 'eu-west-1'], ['offsiteCredentialsFile', '/etc/lastresort/offsite'], ['practiceId', 'p-42']];
  for (const [k, v] of good) {
    const r = await runCli(['config', 'set', k, v, '--config', path]);
    assert.equal(r.code, 0, `${k}: ${r.stderr}`);
  }
  const saved = JSON.parse(await readFile(path, 'utf8'));
  assert.deepEqual(saved, { offsite: 's3://acme-backups/fleet', offsiteEndpoint: 'https://s3.example.com', offsiteRegion: 'eu-west-1', offsiteCredentialsFile: '/etc/lastresort/offsite', practiceId: 'p-42' });
  const bad: [string, string, RegExp][] = [
    ['offsite', 'https://acme/x', /offsite must look like s3:\/\/bucket/],
    ['offsite', 's3://acme-backups/../x', /not a plain folder path/],
    ['offsiteEndpoint', 'https://user:secret@s3.example.com', /must not contain a user name or password/],
    ['offsiteCredentialsFile', 'relative/credentials', /must be an absolute path/],
    ['practiceId', '42/../43', /practiceId must be 1-64 letters/],
  ];
  for (const [k, v, why] of bad) {
    const r = await runCli(['config', 'set', k, v, '--config', path]);
    assert.equal(r.code, 2, `${k}=${v}`);
    assert.match(r.stderr, why);
    assert.ok(!r.stderr.includes('secret'), 'the refused value\'s password is not echoed');
  }
  assert.deepEqual(JSON.parse(await readFile(path, 'utf8')), saved, 'the file is unchanged');
});

test('a key file others may read is refused: the local backup is made, OFFSITE_FAILED says chmod 600, exit 3', async () => {
  const dir = await tempDir('lroff-key-');
  const credentialsFile = join(dir, 'credentials');
  await writeFile(credentialsFile, '[default]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = notreallysecret\n', { mode: 0o644 });
  const sd = await serviceDir(source, { offsite: 's3://acme-backups', offsiteEndpoint: 'http://127.0.0.1:9', offsiteCredentialsFile: credentialsFile, practiceId: 'p1' });
  const r = await runCli(['daemon', '--once', '--config', sd.configPath]);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /ALERT \(OFFSITE_FAILED\): .*may be read by other accounts \(mode 644\)\. Run: chmod 600 /);
  assert.equal((await filesIn(sd.outDir)).backups.length, 1);
  const s = JSON.parse((await runCli(['status', '--json', '--config', sd.configPath])).stdout);
  assert.equal(s.lastOffsite.ok, false);
  assert.equal(s.lastSuccess.admin, 'jsmith');
  // The state carries both sizes of the night's file, as identify counts them from its chunk heads.
  const sizes = (await identify(s.lastSuccess.file)).sizes!;
  assert.deepEqual([s.lastSuccess.bytes, s.lastSuccess.compressedBytes, s.lastSuccess.uncompressedBytes], [sizes.fileBytes, sizes.compressedBytes, sizes.uncompressedBytes]);
  assert.ok(sizes.compressedBytes < sizes.uncompressedBytes);
  assert.ok(!JSON.stringify(s).includes('notreallysecret'));
  assert.ok(!(await readFile(join(sd.logDir, 'lastresort.log'), 'utf8')).includes('notreallysecret'));
});

test('alerts: a failed upload, a backup with no offsite copy, and 30 days without one', () => {
  const config = { ...defaultConfig(), offsite: 's3://acme-backups', practiceId: 'p1', offsiteCredentialsFile: '/x' };
  const now = new Date('2026-11-30T12:00:00Z');
  const day = (n: number) => new Date(now.getTime() - n * 86_400_000).toISOString();
  const backup = { at: day(0), file: '/b/x.lrb', bytes: 1, rows: 1, tables: 1, durationMs: 1, admin: 'jsmith', keyStale: false };
  const codes = (s: Partial<ServiceState>) => computeAlerts(config, { version: 1, firstRunAt: day(60), ...s }, now).map((a) => a.code);
  assert.deepEqual(codes({ lastSuccess: backup, lastOffsite: { at: day(0), ok: true, backupAt: backup.at }, lastOffsiteSuccess: { at: day(0), ok: true, backupAt: backup.at }, offsiteSince: day(40) }), []);
  assert.deepEqual(codes({ lastSuccess: backup, lastOffsite: { at: day(0), ok: false, backupAt: backup.at, message: 'The store could not be reached.' }, lastOffsiteSuccess: { at: day(1), ok: true, backupAt: day(1) }, offsiteSince: day(40) }), ['OFFSITE_FAILED']);
  // Turned on, but tonight's backup has not been sent yet.
  assert.deepEqual(codes({ lastSuccess: backup }), ['OFFSITE_FAILED']);
  // Local backups fine, nothing offsite for 31 days: NO_RECENT_BACKUP says so.
  const stale = computeAlerts(config, { version: 1, firstRunAt: day(60), lastSuccess: backup, lastOffsite: { at: day(0), ok: false, backupAt: backup.at, code: 'LR_IO' }, lastOffsiteSuccess: { at: day(31), ok: true, backupAt: day(31) }, offsiteSince: day(40) }, now);
  assert.deepEqual(stale.map((a) => a.code), ['OFFSITE_FAILED', 'NO_RECENT_BACKUP']);
  assert.match(stale[1]!.message, /No offsite copy has succeeded for 31 days/);
  // Without the offsite setting, none of this applies.
  assert.deepEqual(computeAlerts(defaultConfig(), { version: 1, firstRunAt: day(1), lastSuccess: backup }, now).map((a) => a.code), []);
});
