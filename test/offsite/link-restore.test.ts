/**
 * Support delivers a link, not a file: `restore LINK` with a link from
 * `vendor share` restores a database identical to the source through SQL,
 * reading the backup in place from the store (ranged GETs, the lanes each
 * reading their own tables), with the gateway's radosgw killed and restarted
 * once in the middle of the restore (each read resumes from the byte
 * reached, it does not start over). The link is signed for a TCP relay in
 * front of the gateway, which counts the bytes and tells when the transfer
 * is under way; the restore's temporary folder is watched for a copy.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type S3Client } from '@aws-sdk/client-s3';
import { backupOf, makeSource, passwordFile, tempDir } from '../helpers/backup.js';
import { compareDatabases, createTempDatabase, describeDifferences, dropTempDatabases, dsnFor } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { uploadFile } from '../../src/offsite/upload.js';
import { systemClock } from '../../src/system/clock.js';
import { cuttingRelay, daemonPid, lockedBucket, restartGateway, useGateway, vendorClient, vendorEnv, type CuttingRelay, type Gateway } from './gateway.js';

const gateway = useGateway();
let gw: Gateway;
let vendor: S3Client;
let bucket: string;
let source: string;
let fileBytes: number;
let relay: CuttingRelay;
const PRACTICE = 'p-link';

before(async () => {
  gw = gateway();
  vendor = vendorClient(gw);
  bucket = await lockedBucket(vendor, 'link', 1);
  // Big enough that mapping the tables (one GET of the frame holding each tar header) stays a small part of the
  // reads: version 3's frames hold 256 KiB of payload, so on a 2.8 MB file of 600 patients the map alone was as big
  // as the file and "not restarted" could not be told from "read twice".
  source = await makeSource({ patients: 3000, prefix: 'lroff_link' });
  const b = await backupOf(source, await tempDir('lroff-link-'));
  fileBytes = b.bytes;
  await uploadFile({ client: vendor, bucket, key: `practices/${PRACTICE}/${basename(b.file)}`, file: b.file, clock: systemClock, deadline: new Date(Date.now() + 60_000) });
  // Once a quarter of the file has gone through, the store process dies and comes back.
  relay = await cuttingRelay(gw, fileBytes / 4);
});
after(async () => {
  relay?.close();
  if (!daemonPid('client.rgw.gw')) await restartGateway().catch(() => {});
  vendor?.destroy();
  await dropTempDatabases();
});

/** Watches a folder (and those in it) until stopped: the most bytes it ever held, and every name seen. */
function watchFolder(dir: string): { stop: () => Promise<{ maxBytes: number; names: Set<string> }> } {
  let maxBytes = 0;
  const names = new Set<string>();
  const sizeOf = async (d: string): Promise<number> => {
    let total = 0;
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      names.add(e.name);
      const p = join(d, e.name);
      total += e.isDirectory() ? await sizeOf(p) : ((await stat(p).catch(() => null))?.size ?? 0);
    }
    return total;
  };
  let running = true;
  const loop = (async () => {
    while (running) {
      maxBytes = Math.max(maxBytes, await sizeOf(dir));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return { stop: async () => ((running = false), await loop, { maxBytes, names }) };
}

test('restore LINK reads the backup in place (no copy on disk) and restores identical to the source, the gateway restarted once mid-restore', { timeout: 300_000 }, async () => {
  const share = await runCli(['vendor', 'share', '--store', `s3://${bucket}`, '--practice', PRACTICE, '--expires', '2h'], { env: { ...vendorEnv(gw), AWS_ENDPOINT_URL: `http://127.0.0.1:${relay.port}` } });
  assert.equal(share.code, 0, share.stderr);
  const link = share.stdout.trim();
  relay.fromStore = 0;
  relay.connections = 0;
  const target = await createTempDatabase('lroff_link_restored', { create: false });
  const pw = await passwordFile(await tempDir());
  // The restore's own temporary folder: the old way downloaded the file there first.
  const tmp = await tempDir('lroff-link-tmp-');
  const watch = watchFolder(tmp);
  const noKeys = { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_ENDPOINT_URL: undefined, TMPDIR: tmp };
  const r = await runCli(['restore', link, '--target', dsnFor(target), '--password-file', pw, '--json'], { env: noKeys, timeoutMs: 240_000 });
  const seen = await watch.stop();
  await relay.cut;
  assert.equal(r.code, 0, r.stderr);
  assert.ok(relay.cut, 'the gateway was killed during the restore');
  assert.ok(relay.connections >= 2, `the reads resumed on new connections (${relay.connections})`);
  assert.equal(seen.maxBytes, 0, `nothing was written to the temporary folder (${[...seen.names].join(', ')})`);
  // Streamed, resumed, not restarted: the file's size crossed the relay, plus the reads that
  // map the tables (one GET of one frame per tar entry whose header is in a new chunk: every
  // 4 MiB piece has one; a quarter of a file this small, a few per cent of a real one), what was
  // in flight when the store died, and the answers' HTTP headers.
  process.stderr.write(`restore LINK moved ${relay.fromStore} bytes over ${relay.connections} connections for a ${fileBytes}-byte backup\n`);
  assert.ok(relay.fromStore >= fileBytes * 0.9 && relay.fromStore < fileBytes * 2, `${relay.fromStore} bytes moved for a ${fileBytes}-byte file`);
  const report = JSON.parse(r.stdout);
  assert.equal(report.outcome, 'complete');
  // The link (a key) stays out of the report: its commands name the object without the signature.
  assert.ok(!JSON.stringify(report).includes('X-Amz-Signature'));
  const diffs = await compareDatabases(source, target);
  assert.deepEqual(diffs, [], describeDifferences(diffs));
  // The restore's "Next: lastresort validate <LINK> ..." works with the link, read in place too.
  const v = await runCli(['validate', link, '--target', dsnFor(target), '--password-file', pw, '--json'], { env: noKeys, timeoutMs: 120_000 });
  assert.equal(v.code, 0, v.stderr);
  assert.equal(JSON.parse(v.stdout).match, true);
});
