/**
 * One upload of FILE to BUCKET/KEY through the gateway in its own process,
 * printing seconds, throughput and this process's peak RSS (VmHWM) as JSON.
 *   tsx bench/offsite-upload.ts lastresort|sdk-upload FILE BUCKET KEY
 * lastresort: the producer's upload (src/offsite/upload.ts, its defaults).
 * sdk-upload: @aws-sdk/lib-storage's Upload with its default settings (5 MiB parts, 4 at a time), streaming the file.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import { makeClient } from '../src/offsite/client.js';
import { uploadFile } from '../src/offsite/upload.js';
import { systemClock } from '../src/system/clock.js';

const [mode, file, bucket, key] = process.argv.slice(2) as [string, string, string, string];
const gw = JSON.parse(readFileSync(join(process.env.LASTRESORT_S3_DIR ?? '/tmp/lrs3', 's3.json'), 'utf8'));
const client = makeClient({ endpoint: gw.endpoint, region: gw.region, credentials: gw.vendor, maxAttempts: mode === 'lastresort' ? 1 : 3 });
const started = process.hrtime.bigint();
if (mode === 'lastresort') await uploadFile({ client, bucket, key, file, clock: systemClock, deadline: new Date(Date.now() + 3600_000) });
else if (mode === 'sdk-upload') await new Upload({ client, params: { Bucket: bucket, Key: key, Body: createReadStream(file) } }).done();
else throw new Error(`unknown mode ${mode}`);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const bytes = statSync(file).size;
const peakKiB = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
process.stdout.write(JSON.stringify({ mode, bytes, seconds, mibPerSec: bytes / 1048576 / seconds, peakRssMiB: peakKiB / 1024 }) + '\n');
client.destroy();
