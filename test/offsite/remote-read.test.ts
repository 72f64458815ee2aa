/**
 * identify and check of a backup in the store: `identify s3://...` reads
 * only the header (the bytes that cross a counting TCP relay in front of the
 * real gateway are counted), `check s3://...` reads it whole, and a link from
 * `vendor share` works without any key; an expired or altered link gives the
 * plain line to ask support for a new one. A read pinned to an object stops
 * with a plain line when the object is replaced under it, and `vendor fetch`
 * checks the bytes as they arrive, passing over damaged versions.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server } from 'node:net';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { backupOf, makeSource, tempDir } from '../helpers/backup.js';
import { dropTempDatabases } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { uploadFile } from '../../src/offsite/upload.js';
import { systemClock } from '../../src/system/clock.js';
import { openRemote } from '../../src/offsite/remote-source.js';
import { lockedBucket, useGateway, vendorClient, vendorEnv, type Gateway } from './gateway.js';

const gateway = useGateway();
let gw: Gateway;
let vendor: S3Client;
let bucket: string;
let file: string;
let fileBytes: number;
let objectKey: string;
let relay: Server;
let relayPort: number;
/** Bytes the gateway sent through the relay (answers: headers and bodies). */
let fromStore = 0;

before(async () => {
  gw = gateway();
  vendor = vendorClient(gw);
  bucket = await lockedBucket(vendor, 'remote', 1);
  const source = await makeSource({ patients: 300, prefix: 'lroff_remote' });
  const b = await backupOf(source, await tempDir('lroff-remote-'));
  file = b.file;
  fileBytes = b.bytes;
  objectKey = `practices/p-remote/${basename(file)}`;
  await uploadFile({ client: vendor, bucket, key: objectKey, file, clock: systemClock, deadline: new Date(Date.now() + 60_000) });
  const store = new URL(gw.endpoint);
  relay = createServer((client) => {
    const upstream = connect(Number(store.port), store.hostname);
    upstream.on('data', (d: Buffer) => (fromStore += d.length));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  relayPort = (relay.address() as { port: number }).port;
});
after(async () => {
  relay?.close();
  vendor?.destroy();
  await dropTempDatabases();
});

test('identify s3://bucket/key reads only the header, and says what identify of the file says', async () => {
  const local = await runCli(['identify', file, '--json']);
  assert.equal(local.code, 0, local.stderr);
  fromStore = 0;
  const r = await runCli(['identify', `s3://${bucket}/${objectKey}`, '--json'], { env: { ...vendorEnv(gw), AWS_ENDPOINT_URL: `http://127.0.0.1:${relayPort}` } });
  assert.equal(r.code, 0, r.stderr);
  // The same, but for the sizes: counting them takes a read per chunk, which identify does not make of the store.
  const { sizes, ...header } = JSON.parse(local.stdout);
  assert.ok(sizes.exact);
  assert.deepEqual(JSON.parse(r.stdout), { ...header, sizes: null });
  assert.match((await runCli(['identify', `s3://${bucket}/${objectKey}`], { env: { ...vendorEnv(gw), AWS_ENDPOINT_URL: `http://127.0.0.1:${relayPort}` } })).stdout, /^Size: the uncompressed size is not counted for a file in the store/m);
  fromStore = 0; // the count below is of the --json run only
  await runCli(['identify', `s3://${bucket}/${objectKey}`, '--json'], { env: { ...vendorEnv(gw), AWS_ENDPOINT_URL: `http://127.0.0.1:${relayPort}` } });
  // One 8 KiB ranged read plus the answer's HTTP headers; the file is many times that.
  assert.ok(fileBytes > 100 * 1024, `the test file is big enough to tell (${fileBytes} bytes)`);
  assert.ok(fromStore > 0 && fromStore <= 8 * 1024 + 2048, `identify moved ${fromStore} bytes from the store for a ${fileBytes}-byte file`);
  process.stderr.write(`identify s3:// moved ${fromStore} bytes for a ${fileBytes}-byte backup\n`);

  const human = await runCli(['identify', `s3://${bucket}/${objectKey}`], { env: vendorEnv(gw) });
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /opens only with the password of Open Dental admin "jsmith"/);
});

test('check s3://bucket/key reads it whole and finds it whole; a missing key says so', async () => {
  const r = await runCli(['check', `s3://${bucket}/${objectKey}`, '--json'], { env: vendorEnv(gw) });
  assert.equal(r.code, 0, r.stderr);
  const c = JSON.parse(r.stdout);
  assert.equal(c.intact, true);
  assert.equal(c.fileBytes, fileBytes);
  const missing = await runCli(['identify', `s3://${bucket}/practices/p-remote/nothing.lrb`], { env: vendorEnv(gw) });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^lastresort: There is no object s3:\/\/.*nothing\.lrb in the store\./);
});

test('a link from vendor share works with no key at all; expired or altered links give the plain line', async () => {
  const share = await runCli(['vendor', 'share', '--store', `s3://${bucket}`, '--practice', 'p-remote', '--latest', '--expires', '1h'], { env: vendorEnv(gw) });
  assert.equal(share.code, 0, share.stderr);
  const link = share.stdout.trim();
  assert.match(link, /^http:\/\/127\.0\.0\.1:7480\/.*X-Amz-Signature=/);
  assert.match(share.stderr, /opens with jsmith's password/);
  const noKeys = { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_ENDPOINT_URL: undefined, AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_CONFIG_FILE: '/nonexistent' };
  const id = await runCli(['identify', link], { env: noKeys });
  assert.equal(id.code, 0, id.stderr);
  assert.match(id.stdout, /admin "jsmith"/);
  const check = await runCli(['check', link, '--json'], { env: noKeys });
  assert.equal(check.code, 0, check.stderr);
  assert.equal(JSON.parse(check.stdout).intact, true);

  // A link signed two hours ago for one minute.
  const old = await getSignedUrl(vendor, new GetObjectCommand({ Bucket: bucket, Key: objectKey }), { expiresIn: 60, signingDate: new Date(Date.now() - 2 * 3600_000) });
  const expired = await runCli(['identify', old], { env: noKeys });
  assert.equal(expired.code, 1);
  assert.equal(expired.stderr, 'lastresort: This link has expired. Ask support for a new one (lastresort vendor share).\n');
  // A link whose signature was changed: the store refuses it.
  const altered = link.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
  const refused = await runCli(['check', altered], { env: noKeys });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^lastresort: The store refused the link \(it has expired or was changed\)\. Ask support for a new one/);
  assert.equal(refused.stderr.trim().split('\n').length, 1);
});

/** A new version of `key` holding `body` (the bucket's Object Lock wants a Content-MD5). */
async function put(key: string, body: Buffer): Promise<void> {
  await vendor.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentMD5: createHash('md5').update(body).digest('base64') }));
}

test('a read pinned to the object stops with a plain line when the object is replaced under it', async () => {
  const key = 'practices/p-changed/changing.lrb';
  const original = await readFile(file);
  await put(key, original);
  const url = new URL(await getSignedUrl(vendor, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 600 }));
  const source = await openRemote({ kind: 'link', url });
  assert.equal(source.size, original.length);
  const middle = Math.floor(original.length / 2);
  assert.ok((await source.readAt(middle, 100)).equals(original.subarray(middle, middle + 100)), 'a ranged read in the middle');
  // Re-uploaded with the same size: only the ETag tells.
  const altered = Buffer.from(original);
  altered[middle] ^= 0xff;
  await put(key, altered);
  await assert.rejects(() => source.readAt(middle, 100), (err: Error) => {
    assert.equal(err.message, `${url.origin}${url.pathname} changed in the store while it was being read (its size or version is not the same any more), so the read stopped. Ask support for a new link, then start again.`);
    return true;
  });
});

test('vendor fetch checks the bytes as they arrive: damaged versions are passed over, never land, and the whole one is fetched', async () => {
  const key = 'practices/p-damaged/night.lrb';
  const original = await readFile(file);
  await put(key, original);
  // Newer versions: one with its header copy at the end damaged, then one with a chunk damaged a third of the way in.
  const badTail = Buffer.from(original);
  badTail[badTail.length - 16 - 40] ^= 0xff;
  await new Promise((r) => setTimeout(r, 1100)); // versions apart in time (seconds)
  await put(key, badTail);
  const badChunk = Buffer.from(original);
  badChunk[Math.floor(badChunk.length / 3)] ^= 0xff;
  await new Promise((r) => setTimeout(r, 1100));
  await put(key, badChunk);

  const out = await tempDir('lroff-damaged-out-');
  const r = await runCli(['vendor', 'fetch', '--store', `s3://${bucket}`, '--practice', 'p-damaged', '--latest', '--out', out], { env: vendorEnv(gw) });
  assert.equal(r.code, 0, r.stderr);
  const passed = r.stderr.split('\n').filter((l) => l.startsWith('Passed over'));
  assert.equal(passed.length, 2, r.stderr);
  assert.match(passed[0]!, /night\.lrb stored .*: it is damaged$/);
  assert.match(passed[1]!, /night\.lrb stored .*: it is damaged$/);
  assert.match(r.stdout, /whole: all \d+ chunks and both header copies check out/);
  // Only the whole file, 0600, byte for byte the original: no damaged copy or temporary is left.
  assert.deepEqual(await readdir(out), ['night.lrb']);
  assert.equal((await stat(join(out, 'night.lrb'))).mode & 0o777, 0o600);
  assert.ok((await readFile(join(out, 'night.lrb'))).equals(original));
});
