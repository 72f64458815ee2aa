/**
 * `vendor status` over 200 practices made by the real producer code (one
 * small backup sent 200 times, each on a clock set a different number of
 * days back), plus a few practices whose pointer is missing so the header
 * is read with a ranged GET. Stale ones come first and are flagged.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { type S3Client } from '@aws-sdk/client-s3';
import { backupOf, makeSource, tempDir } from '../helpers/backup.js';
import { dropTempDatabases } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { makeClient } from '../../src/offsite/client.js';
import { sendOffsite } from '../../src/offsite/send.js';
import { uploadFile } from '../../src/offsite/upload.js';
import { defaultConfig } from '../../src/service/config.js';
import { systemClock } from '../../src/system/clock.js';
import { FakeClock } from '../service/helpers.js';
import { lockedBucket, useGateway, vendorClient, vendorEnv, type Gateway } from './gateway.js';

const gateway = useGateway();
let gw: Gateway;
let vendor: S3Client;
let bucket: string;
const PRACTICES = 200;
const WITHOUT_POINTER = 5;
const DAY = 86_400_000;
/** Practice i last sent (i % 5) days ago: 0, 1, 2, 3 or 4. */
const daysAgo = (i: number) => i % 5;
const idOf = (i: number) => `p${String(i).padStart(4, '0')}`;

before(async () => {
  gw = gateway();
  vendor = vendorClient(gw);
  bucket = await lockedBucket(vendor, 'fleet', 1);
  const source = await makeSource({ patients: 5, prefix: 'lroff_fleet' });
  const backup = await backupOf(source, await tempDir('lroff-fleet-'));
  const now = Date.now();
  const send = async (i: number) => {
    const clock = new FakeClock(now - daysAgo(i) * DAY + (daysAgo(i) ? 3_600_000 : -60_000));
    const config = { ...defaultConfig(), offsite: `s3://${bucket}/fleet`, offsiteEndpoint: gw.endpoint, offsiteRegion: gw.region, offsiteCredentialsFile: gw.vendor.credentialsFile, practiceId: idOf(i) };
    await sendOffsite({ config, clock, deadline: new Date(clock.ms + 60_000), backup: { file: backup.file, bytes: backup.bytes, database: backup.database, admin: backup.admin?.userName ?? 'the practice recovery code', at: new Date(clock.ms).toISOString() } });
  };
  for (let i = 0; i < PRACTICES; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => send(i + k)));
  // Practices whose pointer never got written: only their file is there.
  const client = makeClient({ endpoint: gw.endpoint, region: gw.region, credentials: gw.vendor });
  for (let i = 0; i < WITHOUT_POINTER; i++) {
    await uploadFile({ client, bucket, key: `fleet/practices/nopointer${i}/x-20260101-000000.lrb`, file: backup.file, clock: systemClock, deadline: new Date(now + 60_000) });
  }
  client.destroy();
});
after(async () => {
  vendor?.destroy();
  await dropTempDatabases();
});

interface Row {
  practiceId: string;
  lastUpload: string | null;
  bytes: number | null;
  admin: string | null;
  formatVersion: number | null;
  stale: boolean;
  source: string;
}

test('vendor status: one row per practice, stale ones (over --stale-days) first and flagged', async () => {
  const started = Date.now();
  const r = await runCli(['vendor', 'status', '--store', `s3://${bucket}/fleet`, '--stale-days', '2', '--json'], { env: vendorEnv(gw) });
  const ms = Date.now() - started;
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { practices: Row[]; staleDays: number };
  const rows = out.practices;
  assert.equal(rows.length, PRACTICES + WITHOUT_POINTER);
  const expectedStale = new Set(Array.from({ length: PRACTICES }, (_, i) => i).filter((i) => daysAgo(i) > 2).map(idOf));
  const stale = rows.filter((x) => x.stale).map((x) => x.practiceId);
  assert.deepEqual(new Set(stale), expectedStale);
  // Stale first: every stale row comes before every fresh one.
  const firstFresh = rows.findIndex((x) => !x.stale);
  assert.equal(firstFresh, expectedStale.size);
  for (const row of rows) {
    assert.equal(row.admin, 'jsmith', row.practiceId);
    assert.equal(row.formatVersion, 3, row.practiceId); // new backups are written in version 3
    assert.ok(row.bytes && row.bytes > 0);
  }
  assert.deepEqual(rows.filter((x) => x.source === 'header').map((x) => x.practiceId).sort(), Array.from({ length: WITHOUT_POINTER }, (_, i) => `nopointer${i}`));
  process.stderr.write(`vendor status over ${rows.length} practices took ${ms} ms (whole CLI run)\n`);

  const human = await runCli(['vendor', 'status', '--store', `s3://${bucket}/fleet`], { env: vendorEnv(gw) });
  assert.equal(human.code, 0, human.stderr);
  const lines = human.stdout.trim().split('\n');
  assert.equal(lines.filter((l) => l.startsWith('STALE ')).length, expectedStale.size);
  assert.match(lines[0]!, /^STALE p\d{4}: last upload .*opens with jsmith's password, format 3/);
  assert.match(lines.at(-1)!, new RegExp(`^${PRACTICES + WITHOUT_POINTER} practices, ${expectedStale.size} stale`));
});
