/**
 * npm run bench:offsite [-- --size-mib 1024] [--repeat 1] [--practices 1000,10000]
 *
 * The offsite leg against the real gateway (scripts/s3-gateway.sh):
 *   upload   a file of --size-mib through src/offsite/upload.ts, beside the
 *            SDK's plain lib-storage Upload with default settings (and rclone
 *            or s3cmd when installed), each in its own process: seconds,
 *            MiB/s, peak RSS (VmHWM);
 *   status   `vendor status` (fleetStatus) over 1,000 and 10,000 practices
 *            whose pointer objects the script writes first.
 * --size-mib 0 runs the status part alone.
 * Results: a table on stdout and JSON in bench/results/offsite-*.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { makeClient } from '../src/offsite/client.js';
import { fleetStatus } from '../src/offsite/fleet.js';
import { putSmallObject, type Pointer } from '../src/offsite/pointer.js';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { 'size-mib': { type: 'string', default: '1024' }, repeat: { type: 'string', default: '1' }, practices: { type: 'string', default: '1000,10000' } } });
const sizeMiB = Number(values['size-mib']);
const repeat = Number(values.repeat);
const fleetSizes = values.practices!.split(',').map(Number);
const dir = process.env.LASTRESORT_S3_DIR ?? '/tmp/lrs3';

const started = spawnSync('bash', [join(root, 'scripts/s3-gateway.sh'), 'start', dir], { encoding: 'utf8' });
if (started.status !== 0) throw new Error(`the gateway did not start: ${started.stderr}`);
const gw = JSON.parse(readFileSync(join(dir, 's3.json'), 'utf8'));
const client = makeClient({ endpoint: gw.endpoint, region: gw.region, credentials: gw.vendor });
const bucket = `lr-bench-${Date.now().toString(36)}`;
await client.send(new CreateBucketCommand({ Bucket: bucket }));

// A file of real (not sparse) bytes.
const work = mkdtempSync(join(tmpdir(), 'lroff-bench-'));
const file = join(work, 'big.lrb');
const fd = openSync(file, 'w');
const block = Buffer.alloc(8 << 20);
for (let i = 0; i < block.length; i += 4096) block.writeUInt32BE(i ^ 0x5a5a5a5a, i);
for (let i = 0; i < sizeMiB / 8; i++) writeSync(fd, block);
closeSync(fd);

interface UploadRun { mode: string; seconds: number; mibPerSec: number; peakRssMiB: number | null }
const uploads: UploadRun[] = [];
function runUpload(mode: string): UploadRun {
  const key = `${mode}-${Date.now()}.lrb`;
  let run: UploadRun;
  if (mode === 'lastresort' || mode === 'sdk-upload') {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench/offsite-upload.ts'), mode, file, bucket, key], { encoding: 'utf8', env: { ...process.env, LASTRESORT_S3_DIR: dir } });
    if (r.status !== 0) throw new Error(`${mode}: ${r.stderr}`);
    run = JSON.parse(r.stdout);
  } else {
    // rclone with an on-the-fly remote; peak RSS from GNU time when present.
    const env = { ...process.env, RCLONE_CONFIG_GW_TYPE: 's3', RCLONE_CONFIG_GW_PROVIDER: 'Ceph', RCLONE_CONFIG_GW_ENDPOINT: gw.endpoint, RCLONE_CONFIG_GW_ACCESS_KEY_ID: gw.vendor.accessKeyId, RCLONE_CONFIG_GW_SECRET_ACCESS_KEY: gw.vendor.secretAccessKey };
    const t0 = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-v', 'rclone', 'copyto', file, `gw:${bucket}/${key}`], { encoding: 'utf8', env });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`rclone: ${r.stderr}`);
    const kib = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
    run = { mode, seconds, mibPerSec: sizeMiB / seconds, peakRssMiB: kib ? Number(kib[1]) / 1024 : null };
  }
  void client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => {});
  return run;
}
const modes = sizeMiB > 0 ? ['lastresort', 'sdk-upload', ...(spawnSync('rclone', ['version']).status === 0 ? ['rclone'] : [])] : [];
for (let i = 0; i < repeat; i++) for (const mode of modes) uploads.push(runUpload(mode));

// Pointer objects for a fleet, then one status listing over it.
const fleets: { practices: number; writeSeconds: number; statusSeconds: number; stale: number }[] = [];
for (const n of fleetSizes) {
  const prefix = `fleet-${n}`;
  const t0 = Date.now();
  let next = 0;
  const writer = async () => {
    while (next < n) {
      const i = next++;
      const id = `p${String(i).padStart(6, '0')}`;
      const at = new Date(Date.now() - (i % 4) * 86_400_000).toISOString();
      const p: Pointer = { format: 'lastresort-offsite-pointer', pointerVersion: 1, practiceId: id, key: `${prefix}/practices/${id}/od-20261130-020000.lrb`, file: 'od-20261130-020000.lrb', bytes: 2 << 30, sha256: '0'.repeat(64), uploadedAt: at, backupAt: at, admin: 'jsmith', formatVersion: 1, database: 'opendental' };
      await putSmallObject(client, bucket, `${prefix}/practices/${id}/latest.json`, Buffer.from(JSON.stringify(p)), 'application/json');
    }
  };
  await Promise.all(Array.from({ length: 32 }, writer));
  const writeSeconds = (Date.now() - t0) / 1000;
  const t1 = Date.now();
  const rows = await fleetStatus(client, { bucket, prefix }, 2);
  const statusSeconds = (Date.now() - t1) / 1000;
  if (rows.length !== n) throw new Error(`status listed ${rows.length} of ${n} practices`);
  fleets.push({ practices: n, writeSeconds, statusSeconds, stale: rows.filter((r) => r.stale).length });
}
client.destroy();
rmSync(work, { recursive: true, force: true });

const result = { at: new Date().toISOString(), sizeMiB, uploads, fleets };
mkdirSync(join(root, 'bench/results'), { recursive: true });
const out = join(root, `bench/results/offsite-${result.at.replace(/[:.]/g, '-')}.json`);
writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
console.log(`upload of ${sizeMiB} MiB through the gateway (${repeat} run(s) each):`);
for (const u of uploads) console.log(`  ${u.mode.padEnd(11)} ${u.seconds.toFixed(1).padStart(6)} s  ${u.mibPerSec.toFixed(0).padStart(4)} MiB/s  peak RSS ${u.peakRssMiB?.toFixed(0) ?? '?'} MiB`);
console.log('vendor status (pointer objects):');
for (const f of fleets) console.log(`  ${String(f.practices).padStart(6)} practices: ${f.statusSeconds.toFixed(1)} s (${(f.statusSeconds * 1000 / f.practices).toFixed(2)} ms per practice); writing the pointers took ${f.writeSeconds.toFixed(1)} s`);
console.log(`results: ${out}`);
