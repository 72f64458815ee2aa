/**
 * Every alert the issue lists, each produced for real against the real
 * server and shown by `status`: the last admin without a password, the last
 * admin not enrolled (naming who must enroll), backups disabled, no
 * successful backup for 30 days (a real backup, then status read with a
 * clock 31 days on), the last backup failed, the last copy failed (the last
 * two also in failures.test.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDsn } from '../../src/db/dsn.js';
import { enrollAdmin } from '../../src/keys/enroll.js';
import { localDateTime } from '../../src/opendental/last-admin.js';
import { FAST_TEST_KDF } from '../../src/keys/crypto.js';
import { loadConfig } from '../../src/service/config.js';
import { runCycle } from '../../src/service/cycle.js';
import { gatherStatus } from '../../src/service/status.js';
import { generateOpenDental } from '../../fixtures/opendental.js';
import { makeSource } from '../helpers/backup.js';
import { connectServer, createTempDatabase, dropTempDatabases, dsnFor } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { closedPort, FakeClock, filesIn, serviceDir } from './helpers.js';

const DAY = 86_400_000;
let enrolled: string;

before(async () => {
  enrolled = await makeSource({ patients: 20, prefix: 'lrsvc_alert' });
});
after(dropTempDatabases);

async function sql(database: string, text: string, params: unknown[] = []): Promise<void> {
  const conn = await connectServer(database);
  try {
    await conn.query(text, params);
  } finally {
    await conn.end();
  }
}

async function alertCodes(configPath: string): Promise<{ code: number | null; alerts: { code: string; message: string }[]; human: string }> {
  const json = await runCli(['status', '--json', '--config', configPath]);
  const human = await runCli(['status', '--config', configPath]);
  return { code: json.code, alerts: JSON.parse(json.stdout).alerts, human: human.stdout };
}

test('the last admin has not enrolled: no backup, exit 1, and status says who must run keys enroll', async () => {
  const database = await createTempDatabase('lrsvc_noenroll');
  const conn = await connectServer(database);
  await generateOpenDental(conn, { database, patients: 5, seed: 3 });
  await conn.end();
  const sd = await serviceDir(database);
  const r = await runCli(['daemon', '--once', '--config', sd.configPath]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /jsmith must run: lastresort keys enroll --user jsmith/);
  assert.deepEqual((await filesIn(sd.outDir)).backups, []);
  const s = await alertCodes(sd.configPath);
  assert.equal(s.code, 1);
  assert.deepEqual(s.alerts.map((a) => a.code), ['ADMIN_NOT_ENROLLED']);
  assert.match(s.alerts[0]!.message, /jsmith must run: lastresort keys enroll --user jsmith/);
  assert.match(s.human, /ALERT \(ADMIN_NOT_ENROLLED\).*lastresort keys enroll --user jsmith/);
  assert.match(s.human, /Tonight's backup is for jsmith: NOT ENROLLED/);

  // The alert clears as soon as the admin enrolls; the failed night stays visible until a backup succeeds.
  await enrollAdmin({ source: parseDsn(dsnFor(database)), userName: 'jsmith', password: 'correct horse battery staple', kdf: FAST_TEST_KDF });
  assert.deepEqual((await alertCodes(sd.configPath)).alerts.map((a) => a.code), ['BACKUP_FAILED']);
  assert.equal((await runCli(['daemon', '--once', '--config', sd.configPath])).code, 0);
  assert.deepEqual((await alertCodes(sd.configPath)).alerts, []);
});

test('the last admin has no password: the backup opens with the enrolled admin instead, and ADMIN_NO_PASSWORD names them', async () => {
  // nopass is a real Security Admin with an empty userod.Password; make them the last to log on (a minute ago).
  await sql(enrolled, `UPDATE userod SET DateTLastLogin = '${localDateTime(new Date(Date.now() - 60_000))}' WHERE UserName = 'nopass'`);
  try {
    const sd = await serviceDir(enrolled);
    const r = await runCli(['daemon', '--once', '--config', sd.configPath]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /ALERT \(ADMIN_NO_PASSWORD\): The last admin to log on, nopass, has no Open Dental password, so tonight's backup opens with jsmith's password instead/);
    assert.equal((await filesIn(sd.outDir)).backups.length, 1);
    const s = await alertCodes(sd.configPath);
    assert.deepEqual(s.alerts.map((a) => a.code), ['ADMIN_NO_PASSWORD']);
    assert.match(s.alerts[0]!.message, /Set a password for nopass in Open Dental, then nopass must run: lastresort keys enroll --user nopass/);
    assert.match(s.human, /Tonight's backup is for jsmith: key enrolled/);
  } finally {
    await sql(enrolled, "UPDATE userod SET DateTLastLogin = '2025-05-02 12:00:00' WHERE UserName = 'nopass'");
  }
});

test('backups disabled: daemon --once makes none and exits 1; status shows BACKUPS_DISABLED', async () => {
  const sd = await serviceDir(enrolled);
  const set = await runCli(['config', 'set', 'enabled', 'off', '--config', sd.configPath]);
  assert.equal(set.code, 0, set.stderr);
  const r = await runCli(['daemon', '--once', '--config', sd.configPath]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^lastresort: Nightly backups are turned off, so none was made\. Turn them on with: lastresort config set enabled on\n$/);
  assert.deepEqual((await filesIn(sd.outDir)).backups, []);
  const s = await alertCodes(sd.configPath);
  assert.deepEqual(s.alerts.map((a) => a.code), ['BACKUPS_DISABLED']);
  assert.match(s.human, /Nightly backups: OFF/);
});

test('no successful backup for 30 days: a real backup, then status read 29 and 31 days later', async () => {
  const sd = await serviceDir(enrolled);
  const clock = new FakeClock(Date.now());
  const loaded = await loadConfig(sd.configPath);
  const cycle = await runCycle({ config: loaded.config, clock });
  assert.equal(cycle.outcome, 'ok', cycle.error?.message);
  const at29 = await gatherStatus(loaded, new Date(clock.ms + 29 * DAY));
  assert.deepEqual(at29.alerts, []);
  const at31 = await gatherStatus(loaded, new Date(clock.ms + 31 * DAY));
  assert.deepEqual(at31.alerts.map((a) => a.code), ['NO_RECENT_BACKUP']);
  assert.match(at31.alerts[0]!.message, /No backup has succeeded for 31 days/);
});

test('never a success in the 30 days since the service first ran (database down all along)', async () => {
  const sd = await serviceDir(null, { source: `mysql://root@127.0.0.1:${await closedPort()}/opendental` });
  const clock = new FakeClock(Date.now());
  const loaded = await loadConfig(sd.configPath);
  assert.equal((await runCycle({ config: loaded.config, clock })).outcome, 'failed');
  const later = await gatherStatus(loaded, new Date(clock.ms + 31 * DAY));
  assert.deepEqual(later.alerts.map((a) => a.code), ['NO_RECENT_BACKUP', 'BACKUP_FAILED']);
  assert.match(later.alerts[0]!.message, /in the 31 days since this service started/);
  assert.equal(later.admin.reachable, false);
});
