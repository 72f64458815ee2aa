/**
 * The offsite leg end to end against the real store (Ceph's RADOS Gateway):
 * a bucket prepared by `vendor init`, a practice key made write-only by
 * `vendor policy --apply`, `daemon --once` uploading the night's file, the
 * object equal to the local file byte for byte (read with the vendor's key),
 * and `vendor fetch` bringing back a file that restores identical to the
 * source through SQL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, GetObjectLockConfigurationCommand, GetBucketVersioningCommand, type S3Client } from '@aws-sdk/client-s3';
import { makeSource, tempDir } from '../helpers/backup.js';
import { dropTempDatabases } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { assertRestoresLikeSource, filesIn, serviceDir, type ServiceDir } from '../service/helpers.js';
import { createPracticeUser, uniqueBucket, useGateway, vendorClient, vendorEnv, type Gateway, type PracticeKey } from './gateway.js';

const gateway = useGateway();
let gw: Gateway;
let vendor: S3Client;
let source: string;
let bucket: string;
let practice: PracticeKey;
let sd: ServiceDir;
const PRACTICE = 'p-e2e';

async function objectBytes(client: S3Client, key: string): Promise<Buffer> {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

before(async () => {
  gw = gateway();
  vendor = vendorClient(gw);
  source = await makeSource({ patients: 40, prefix: 'lroff_e2e' });
  bucket = uniqueBucket('e2e');
  practice = await createPracticeUser(gw, 'e2e');
  sd = await serviceDir(source, { offsite: `s3://${bucket}/night`, offsiteEndpoint: gw.endpoint, offsiteRegion: gw.region, offsiteCredentialsFile: practice.credentialsFile, practiceId: PRACTICE });
});
after(async () => {
  vendor?.destroy();
  await dropTempDatabases();
});

test('vendor init prepares the bucket; vendor policy --apply makes the practice key write-only', async () => {
  const init = await runCli(['vendor', 'init', '--store', `s3://${bucket}`, '--retain-days', '1', '--json'], { env: vendorEnv(gw) });
  assert.equal(init.code, 0, init.stderr);
  assert.equal(JSON.parse(init.stdout).created, true);
  const versioning = await vendor.send(new GetBucketVersioningCommand({ Bucket: bucket }));
  assert.equal(versioning.Status, 'Enabled');
  const lock = await vendor.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
  assert.deepEqual(lock.ObjectLockConfiguration?.Rule?.DefaultRetention, { Mode: 'COMPLIANCE', Days: 1 });

  const printed = await runCli(['vendor', 'policy', '--store', `s3://${bucket}/night`, '--practice', PRACTICE, '--user', practice.arn], { env: vendorEnv(gw) });
  assert.equal(printed.code, 0, printed.stderr);
  const statements = JSON.parse(printed.stdout).Statement;
  assert.deepEqual(statements[0].Resource, [`arn:aws:s3:::${bucket}/night/practices/${PRACTICE}/*`]);
  assert.ok(statements[1].Action.includes('s3:GetObject') && statements[1].Effect === 'Deny');
  const applied = await runCli(['vendor', 'policy', '--store', `s3://${bucket}/night`, '--practice', PRACTICE, '--user', practice.arn, '--apply'], { env: vendorEnv(gw) });
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /may now only put objects under/);
});

test('daemon --once uploads the night\'s file; the object equals the local file byte for byte', async () => {
  const r = await runCli(['daemon', '--once', '--json', '--config', sd.configPath]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.outcome, 'ok');
  assert.deepEqual(result.alerts, []);
  const local = (await filesIn(sd.outDir)).backups;
  assert.equal(local.length, 1);
  const key = `night/practices/${PRACTICE}/${local[0]}`;
  assert.equal(result.offsite.ok, true);
  assert.equal(result.offsite.url, `s3://${bucket}/${key}`);

  const localBytes = await readFile(join(sd.outDir, local[0]!));
  const stored = await objectBytes(vendor, key);
  assert.equal(stored.length, localBytes.length);
  assert.ok(stored.equals(localBytes), 'the stored object differs from the local file');
  assert.equal(result.offsite.sha256, sha256(localBytes));

  // The pointer beside it, written after the upload, names it.
  const pointer = JSON.parse((await objectBytes(vendor, `night/practices/${PRACTICE}/latest.json`)).toString('utf8'));
  assert.equal(pointer.key, key);
  assert.equal(pointer.file, local[0]);
  assert.equal(pointer.bytes, localBytes.length);
  assert.equal(pointer.admin, 'jsmith');
  assert.equal(pointer.formatVersion, 3); // the version new backups are written in
  assert.equal(pointer.sha256, sha256(localBytes));

  // State and status show the offsite copy.
  const s = await runCli(['status', '--json', '--config', sd.configPath]);
  assert.equal(s.code, 0, s.stderr);
  const status = JSON.parse(s.stdout);
  assert.equal(status.lastOffsite.ok, true);
  assert.equal(status.lastOffsite.url, `s3://${bucket}/${key}`);
  assert.equal(status.lastOffsite.bytes, localBytes.length);
  const human = await runCli(['status', '--config', sd.configPath]);
  assert.match(human.stdout, new RegExp(`Last offsite copy: .*s3://${bucket}/${key}`));
  // The key never reaches the log or the state.
  const logText = await readFile(join(sd.logDir, 'lastresort.log'), 'utf8');
  const stateText = await readFile(sd.stateFile, 'utf8');
  for (const text of [logText, stateText, r.stdout, r.stderr]) assert.ok(!text.includes(practice.secretAccessKey) && !text.includes(practice.accessKeyId));
});

test('vendor fetch brings it back (0600, checked) and it restores identical to the source through SQL', async () => {
  const out = await tempDir('lroff-fetch-');
  const r = await runCli(['vendor', 'fetch', '--store', `s3://${bucket}/night`, '--practice', PRACTICE, '--latest', '--out', out], { env: vendorEnv(gw) });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /whole: all \d+ chunks and both header copies check out/);
  assert.match(r.stdout, /opens only with the password of Open Dental admin "jsmith"/);
  const names = await readdir(out);
  assert.equal(names.length, 1, `only the fetched file, no temporaries: ${names.join(', ')}`);
  const fetched = join(out, names[0]!);
  assert.equal((await stat(fetched)).mode & 0o777, 0o600);
  const local = join(sd.outDir, (await filesIn(sd.outDir)).backups[0]!);
  assert.ok((await readFile(fetched)).equals(await readFile(local)));

  await assertRestoresLikeSource(fetched, source, 'lroff_restored');
});
