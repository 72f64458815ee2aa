/**
 * Uploads one file with the producer's upload code and prints the process's
 * peak resident memory (VmHWM), for the memory test; run as its own process
 * so nothing else counts towards the peak.
 *   node --import tsx test/offsite/upload-child.ts FILE BUCKET KEY  (gateway settings from s3.json in LASTRESORT_S3_DIR)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeClient } from '../../src/offsite/client.js';
import { uploadFile } from '../../src/offsite/upload.js';
import { systemClock } from '../../src/system/clock.js';

const [file, bucket, key] = process.argv.slice(2) as [string, string, string];
const gw = JSON.parse(readFileSync(join(process.env.LASTRESORT_S3_DIR ?? '/tmp/lrs3', 's3.json'), 'utf8'));
const client = makeClient({ endpoint: gw.endpoint, region: gw.region, credentials: gw.vendor, maxAttempts: 1 });
const started = Date.now();
const r = await uploadFile({ client, bucket, key, file, clock: systemClock, deadline: new Date(Date.now() + 600_000) });
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1];
process.stdout.write(JSON.stringify({ bytes: r.bytes, parts: r.parts, retries: r.retries, ms: Date.now() - started, peakRssBytes: Number(hwm) * 1024 }) + '\n');
client.destroy();
