/**
 * identify and check of a backup in the store: `identify s3://...` reads
 * only the header (the bytes that cross a counting TCP relay in front of the
 * real gateway are counted), `check s3://...` reads it whole, and a link from
 * `vendor share` works without any key; an expired or altered link gives the
 * plain line to ask support for a new one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server } from 'node:net';
import { basename } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { backupOf, makeSource, tempDir } from '../helpers/backup.js';
import { dropTempDatabases } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { uploadFile } from '../../src/offsite/upload.js';
import { systemClock } from '../../src/system/clock.js';
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
  assert.deepEqual(JSON.parse(r.stdout), JSON.parse(local.stdout));
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
