/**
 * What the practice's own key can do, tried for real: it can put under its
 * folder and nothing else (get, list, delete, puts elsewhere refused), and
 * the ransomware drill: with that key (and even with the vendor's), last
 * night's object cannot be deleted, its lock cannot be shortened, and an
 * overwrite only adds a version; the older one is still there and `vendor
 * fetch` brings it back whole.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { backupOf, makeSource, tempDir } from '../helpers/backup.js';
import { dropTempDatabases } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { applyPracticePolicy } from '../../src/offsite/policy.js';
import { uploadFile } from '../../src/offsite/upload.js';
import { systemClock } from '../../src/system/clock.js';
import { createPracticeUser, lockedBucket, practiceClient, useGateway, vendorClient, vendorEnv, type Gateway, type PracticeKey } from './gateway.js';

const gateway = useGateway();
let gw: Gateway;
let vendor: S3Client;
let practice: S3Client;
let key: PracticeKey;
let bucket: string;
let backupFile: string;
const PRACTICE = 'p-drill';
const own = (name: string) => `practices/${PRACTICE}/${name}`;

async function refused(what: string, attempt: () => Promise<unknown>): Promise<void> {
  await assert.rejects(attempt, (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(err.name, 'AccessDenied', `${what}: expected AccessDenied, got ${err.name}`);
    assert.equal(err.$metadata?.httpStatusCode, 403, what);
    return true;
  }, `${what} was allowed`);
}

before(async () => {
  gw = gateway();
  vendor = vendorClient(gw);
  bucket = await lockedBucket(vendor, 'drill', 1);
  key = await createPracticeUser(gw, 'drill');
  await applyPracticePolicy(vendor, { bucket, prefix: '' }, PRACTICE, key.arn);
  practice = practiceClient(gw, key);
  const source = await makeSource({ patients: 30, prefix: 'lroff_drill' });
  backupFile = (await backupOf(source, await tempDir('lroff-drill-'))).file;
  // Last night's upload, with the practice's key.
  await uploadFile({ client: practice, bucket, key: own(basename(backupFile)), file: backupFile, clock: systemClock, deadline: new Date(Date.now() + 60_000) });
});
after(async () => {
  vendor?.destroy();
  practice?.destroy();
  await dropTempDatabases();
});

test('the write-only key: puts under its folder work; get, head, list, delete and puts elsewhere are refused', async () => {
  const target = own(basename(backupFile));
  await practice.send(new PutObjectCommand({ Bucket: bucket, Key: own('note.txt'), Body: 'hello', ContentMD5: createHash('md5').update('hello').digest('base64'), ACL: 'bucket-owner-full-control' }));
  await refused('get', () => practice.send(new GetObjectCommand({ Bucket: bucket, Key: target })));
  await refused('ranged get', () => practice.send(new GetObjectCommand({ Bucket: bucket, Key: target, Range: 'bytes=0-99' })));
  await refused('list', () => practice.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `practices/${PRACTICE}/` })));
  await refused('list versions', () => practice.send(new ListObjectVersionsCommand({ Bucket: bucket })));
  await refused('delete', () => practice.send(new DeleteObjectCommand({ Bucket: bucket, Key: target })));
  await refused('put into another practice', () => practice.send(new PutObjectCommand({ Bucket: bucket, Key: 'practices/p-other/x.lrb', Body: 'x' })));
  await refused('put at the bucket root', () => practice.send(new PutObjectCommand({ Bucket: bucket, Key: 'x.lrb', Body: 'x' })));
  await refused('put beside the practices folder', () => practice.send(new PutObjectCommand({ Bucket: bucket, Key: `practices/${PRACTICE}x/y.lrb`, Body: 'x' })));
  // HEAD has no body to carry the error's name: only the status says it.
  await assert.rejects(() => practice.send(new HeadObjectCommand({ Bucket: bucket, Key: target })), (err: Error & { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode === 403);
  // The vendor reads what the practice wrote.
  const got = await vendor.send(new GetObjectCommand({ Bucket: bucket, Key: own('note.txt') }));
  assert.equal(await got.Body!.transformToString(), 'hello');
});

test('ransomware drill: delete, shorten the lock, overwrite; every older version stays and vendor fetch brings it back', async () => {
  const target = own(basename(backupFile));
  const original = await readFile(backupFile);
  const versions = async () => (await vendor.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: target }))).Versions ?? [];
  const first = (await versions())[0]!;
  assert.ok(first.VersionId);

  await refused('delete with the practice key', () => practice.send(new DeleteObjectCommand({ Bucket: bucket, Key: target })));
  await refused('delete the version with the practice key', () => practice.send(new DeleteObjectCommand({ Bucket: bucket, Key: target, VersionId: first.VersionId })));
  await refused('bulk delete with the practice key', async () => {
    const r = await practice.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: target, VersionId: first.VersionId }] } }));
    if (r.Errors?.length) throw Object.assign(new Error('denied'), { name: r.Errors[0]!.Code, $metadata: { httpStatusCode: 403 } });
  });
  const sooner = new Date(Date.now() + 1000);
  await refused('shorten the retention with the practice key', () => practice.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: target, VersionId: first.VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: sooner } })));
  // Not even the vendor's own key can remove or shorten a COMPLIANCE version.
  await refused('delete the version with the vendor key', () => vendor.send(new DeleteObjectCommand({ Bucket: bucket, Key: target, VersionId: first.VersionId })));
  await assert.rejects(() => vendor.send(new PutObjectRetentionCommand({ Bucket: bucket, Key: target, VersionId: first.VersionId, Retention: { Mode: 'COMPLIANCE', RetainUntilDate: sooner } })), 'shortening COMPLIANCE with the vendor key');

  // Overwrites are puts, which the key may do: garbage, then an empty object, as ransomware would.
  const garbage = Buffer.alloc(4096, 0x41);
  for (const body of [garbage, Buffer.alloc(0)]) {
    await practice.send(new PutObjectCommand({ Bucket: bucket, Key: target, Body: body, ContentMD5: createHash('md5').update(body).digest('base64'), ACL: 'bucket-owner-full-control' }));
  }
  const after = await versions();
  assert.equal(after.length, 3);
  assert.ok(after.some((v) => v.VersionId === first.VersionId && v.Size === original.length), 'last night\'s version is still listed whole');

  // vendor fetch passes over the overwritten versions and brings back last night's file.
  const out = await tempDir('lroff-drill-out-');
  const r = await runCli(['vendor', 'fetch', '--store', `s3://${bucket}`, '--practice', PRACTICE, '--latest', '--out', out], { env: vendorEnv(gw) });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Passed over .*: This file is not a lastresort backup/);
  const names = await readdir(out);
  assert.deepEqual(names, [basename(backupFile)]);
  assert.ok((await readFile(join(out, names[0]!))).equals(original), 'the fetched file is last night\'s, byte for byte');
});
