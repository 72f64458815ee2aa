/**
 * The store goes away in the middle of an upload, for real: the gateway's
 * radosgw process is killed (SIGKILL, as a cut connection or a crash looks
 * to the client) and started again. The upload retries and finishes, equal
 * to the file; when the store does not come back, the night's cycle raises
 * OFFSITE_FAILED, no half object is ever listed, the pointer is not moved,
 * and the local backup stands verified.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { makeSource, tempDir } from '../helpers/backup.js';
import { dropTempDatabases } from '../helpers/db.js';
import { applyPracticePolicy } from '../../src/offsite/policy.js';
import { uploadFile } from '../../src/offsite/upload.js';
import { systemClock } from '../../src/system/clock.js';
import { runCycle } from '../../src/service/cycle.js';
import { fingerprintBackup } from '../../src/service/verify-copy.js';
import { loadState } from '../../src/service/state.js';
import { configOf, FakeClock, filesIn, serviceDir } from '../service/helpers.js';
import { createPracticeUser, daemonPid, killGateway, lockedBucket, restartGateway, practiceClient, useGateway, vendorClient, type Gateway, type PracticeKey } from './gateway.js';

const gateway = useGateway();
let gw: Gateway;
let vendor: S3Client;
let bucket: string;
let key: PracticeKey;
const PRACTICE = 'p-cut';
const MiB = 1024 * 1024;

async function keysUnder(prefix: string): Promise<string[]> {
  const r = await vendor.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (r.Contents ?? []).map((o) => o.Key!);
}

before(async () => {
  gw = gateway();
  vendor = vendorClient(gw);
  bucket = await lockedBucket(vendor, 'cut', 1);
  key = await createPracticeUser(gw, 'cut');
  await applyPracticePolicy(vendor, { bucket, prefix: '' }, PRACTICE, key.arn);
});
after(async () => {
  // Whatever happened, leave the gateway as it was found: running.
  if (!daemonPid('client.rgw.gw')) await restartGateway().catch(() => {});
  vendor?.destroy();
  await dropTempDatabases();
});

test('radosgw killed mid-upload and restarted: the upload retries the parts in flight and the object equals the file', async () => {
  const dir = await tempDir('lroff-cut-');
  const file = join(dir, 'big.lrb');
  await writeFile(file, randomBytes(40 * MiB + 123));
  const practice = practiceClient(gw, key);
  const objectKey = `practices/${PRACTICE}/big.lrb`;
  let restarted: Promise<void> | undefined;
  let partsBeforeCut = 0;
  const result = await uploadFile({
    client: practice,
    bucket,
    key: objectKey,
    file,
    clock: systemClock,
    deadline: new Date(Date.now() + 120_000),
    partBytes: 5 * MiB,
    concurrency: 2,
    maxRate: 8 * MiB, // slow enough that the cut lands mid-upload
    onPart: (n) => {
      if (restarted) return;
      partsBeforeCut = n;
      restarted = killGateway().then(async () => {
        // While the store is down, nothing is listed (checked after it is back: the key is still absent).
        await new Promise((r) => setTimeout(r, 1500));
        await restartGateway();
        assert.deepEqual(await keysUnder(objectKey), [], 'no half object while the upload is unfinished');
      });
    },
  });
  await restarted;
  practice.destroy();
  assert.ok(partsBeforeCut >= 1 && partsBeforeCut < result.parts, `the cut came mid-upload (after part ${partsBeforeCut} of ${result.parts})`);
  assert.ok(result.retries > 0, 'it had to retry');
  const got = await vendor.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey }));
  assert.ok(Buffer.from(await got.Body!.transformToByteArray()).equals(await readFile(file)), 'the stored object equals the file');
});

test('the store does not come back: OFFSITE_FAILED, no half object, pointer not moved, local backup verified', async () => {
  const source = await makeSource({ patients: 30, prefix: 'lroff_cut' });
  const sd = await serviceDir(source, { offsite: `s3://${bucket}`, offsiteEndpoint: gw.endpoint, offsiteRegion: gw.region, offsiteCredentialsFile: key.credentialsFile, practiceId: PRACTICE });
  const config = await configOf(sd);
  const pointerKey = `practices/${PRACTICE}/latest.json`;
  const readPointer = async () => JSON.parse(await (await vendor.send(new GetObjectCommand({ Bucket: bucket, Key: pointerKey }))).Body!.transformToString());
  const night1 = await runCycle({ config, clock: systemClock });
  assert.equal(night1.outcome, 'ok');
  const pointerBefore = await readPointer();
  // The backup is made for real; only the pauses between upload tries pass on a fake clock, up to the deadline.
  const clock = new FakeClock(Date.now() + 2000, Date.now() + 48 * 3600_000);
  await killGateway();
  let result;
  try {
    result = await runCycle({ config, clock });
  } finally {
    await restartGateway();
  }
  assert.equal(result.outcome, 'offsite-failed');
  assert.equal(result.offsite?.ok, false);
  assert.match(result.offsite?.message ?? '', /could not be reached .* Gave up after \d+ tries/);
  assert.ok(clock.sleeps > 5, 'it retried with pauses before giving up');
  assert.ok(result.alerts.some((a) => a.code === 'OFFSITE_FAILED'), JSON.stringify(result.alerts));

  // The local backup is unaffected: written, verified, recorded.
  const tonight = result.backup!.file;
  assert.ok((await filesIn(sd.outDir)).backups.includes(basename(tonight)));
  assert.equal((await fingerprintBackup(tonight)).whole, true);
  const state = await loadState(sd.stateFile);
  assert.equal(state.lastSuccess?.file, tonight);
  assert.equal(state.lastOffsite?.ok, false);
  assert.equal(state.lastOffsiteSuccess?.url, night1.offsite?.url, 'the last good offsite copy is still known');

  // Nothing of this night is listed in the store (no half object), and the pointer still names last night.
  const listed = await keysUnder(`practices/${PRACTICE}/`);
  assert.ok(!listed.includes(`practices/${PRACTICE}/${basename(tonight)}`), listed.join(', '));
  assert.ok(listed.includes(`practices/${PRACTICE}/${basename(night1.backup!.file)}`));
  assert.deepEqual(await readPointer(), pointerBefore);
});
