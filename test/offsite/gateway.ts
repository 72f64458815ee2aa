/**
 * The real S3 store for the offsite tests: Ceph's RADOS Gateway started by
 * scripts/s3-gateway.sh. A test file calls useGateway() at top level: it
 * starts the gateway unless it is already running (then leaves it running,
 * e.g. for .ci/run's one gateway per run) and stops what it started after
 * the file. If the gateway cannot start, the tests fail with the reason.
 */
import { after, before } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import { connect, createServer } from 'node:net';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, PutObjectLockConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import { makeClient } from '../../src/offsite/client.js';
import { tempDir } from '../helpers/backup.js';

export const GATEWAY_SCRIPT = fileURLToPath(new URL('../../scripts/s3-gateway.sh', import.meta.url));
export const GATEWAY_DIR = process.env.LASTRESORT_S3_DIR ?? '/tmp/lrs3';

export interface Gateway {
  endpoint: string;
  region: string;
  dir: string;
  conf: string;
  vendor: { user: string; accessKeyId: string; secretAccessKey: string; credentialsFile: string };
}

function script(action: 'start' | 'stop' | 'status'): { ok: boolean; out: string } {
  const r = spawnSync('bash', [GATEWAY_SCRIPT, action, GATEWAY_DIR], { encoding: 'utf8', timeout: 240_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** Starts the gateway if needed; throws (so the test fails) with the script's own words when it cannot. */
export function startGateway(): { gateway: Gateway; startedHere: boolean } {
  const running = script('status').ok;
  if (!running) {
    const r = script('start');
    if (!r.ok) throw new Error(`The S3 gateway (scripts/s3-gateway.sh) did not start: ${r.out.trim().split('\n').slice(-4).join(' | ')}`);
  }
  return { gateway: JSON.parse(readFileSync(join(GATEWAY_DIR, 's3.json'), 'utf8')) as Gateway, startedHere: !running };
}

export function stopGateway(): void {
  script('stop');
}

/** Registers before/after hooks; returns a getter for the running gateway. */
export function useGateway(): () => Gateway {
  let gateway: Gateway | undefined;
  let startedHere = false;
  before(() => {
    ({ gateway, startedHere } = startGateway());
  });
  after(() => {
    if (startedHere) stopGateway();
  });
  return () => {
    if (!gateway) throw new Error('the S3 gateway is not running (useGateway before() failed)');
    return gateway;
  };
}

/** The pid of one of the gateway's daemons (mon.a, osd.0, client.rgw.gw), or null. */
export function daemonPid(name: string): number | null {
  try {
    return Number(readFileSync(join(GATEWAY_DIR, 'run', `${name}.pid`), 'utf8').trim()) || null;
  } catch {
    return null;
  }
}

export function vendorClient(gw: Gateway): S3Client {
  return makeClient({ endpoint: gw.endpoint, region: gw.region, credentials: { accessKeyId: gw.vendor.accessKeyId, secretAccessKey: gw.vendor.secretAccessKey } });
}

/** Environment for the CLI run as support: the vendor's key through the SDK's standard variables. */
export function vendorEnv(gw: Gateway): Record<string, string> {
  return { AWS_ACCESS_KEY_ID: gw.vendor.accessKeyId, AWS_SECRET_ACCESS_KEY: gw.vendor.secretAccessKey, AWS_ENDPOINT_URL: gw.endpoint, AWS_REGION: gw.region };
}

export function uniqueBucket(label: string): string {
  return `lr-${label}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

export interface PracticeKey {
  uid: string;
  arn: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** AWS shared-credentials file, mode 0600. */
  credentialsFile: string;
}

/** A new store user for one practice, unable to create buckets of its own. */
export async function createPracticeUser(gw: Gateway, label: string): Promise<PracticeKey> {
  const uid = `practice-${label}-${randomBytes(3).toString('hex')}`;
  const accessKeyId = `PR${randomBytes(9).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(20).toString('hex');
  const r = spawnSync('radosgw-admin', ['-c', gw.conf, '-n', 'client.admin', 'user', 'create', '--uid', uid, '--display-name', uid, '--access-key', accessKeyId, '--secret', secretAccessKey, '--max-buckets', '-1'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`radosgw-admin user create failed: ${r.stderr}`);
  const dir = await tempDir('lroff-key-');
  const credentialsFile = join(dir, 'credentials');
  await writeFile(credentialsFile, `[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`, { mode: 0o600 });
  return { uid, arn: `arn:aws:iam:::user/${uid}`, accessKeyId, secretAccessKey, credentialsFile };
}

export function practiceClient(gw: Gateway, key: PracticeKey): S3Client {
  return makeClient({ endpoint: gw.endpoint, region: gw.region, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }, maxAttempts: 1 });
}

/** A bucket with Object Lock (COMPLIANCE, `days`) as vendor init makes it, for tests that do not test init. */
export async function lockedBucket(client: S3Client, label: string, days = 1): Promise<string> {
  const bucket = uniqueBucket(label);
  await client.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
  await client.send(new PutObjectLockConfigurationCommand({ Bucket: bucket, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: days } } } }));
  return bucket;
}

/** Kills radosgw (only it: the cluster behind stays) and waits until it is gone. */
export async function killGateway(): Promise<void> {
  const pid = daemonPid('client.rgw.gw');
  assert.ok(pid, 'radosgw is running');
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('radosgw did not die');
}

/** The project's script starts the missing daemon (asynchronously: the upload keeps running meanwhile). */
export function restartGateway(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [GATEWAY_SCRIPT, 'start', GATEWAY_DIR], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`gateway restart failed: ${err}`))));
  });
}


export interface CuttingRelay {
  port: number;
  /** Bytes the store sent through the relay, and connections made to it. */
  fromStore: number;
  connections: number;
  /** Set once the store was killed; resolves when it has been started again. */
  cut?: Promise<void>;
  close: () => void;
}

/**
 * A TCP relay in front of the gateway that counts what the store sends and,
 * once `killAfter` bytes have gone through, kills radosgw and starts it
 * again. It holds the rest back until the store is dead, so the cut always
 * lands mid-transfer however fast the machine; then the connection breaks as
 * the store's would.
 */
export async function cuttingRelay(gw: Gateway, killAfter: number): Promise<CuttingRelay> {
  const store = new URL(gw.endpoint);
  const relay: CuttingRelay = { port: 0, fromStore: 0, connections: 0, close: () => server.close() };
  const server = createServer((client) => {
    relay.connections++;
    const upstream = connect(Number(store.port), store.hostname);
    upstream.on('data', (d: Buffer) => {
      relay.fromStore += d.length;
      if (!relay.cut && relay.fromStore > killAfter) {
        upstream.pause();
        relay.cut = killGateway()
          .then(() => {
            upstream.destroy();
            client.destroy();
          })
          .then(() => new Promise((r) => setTimeout(r, 1000)))
          .then(restartGateway);
      }
    });
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  relay.port = (server.address() as { port: number }).port;
  return relay;
}
