/**
 * A 2 GB file uploads through the real gateway with Node's peak resident
 * memory under 200 MB: the upload holds a few parts, never the file. The
 * bucket has no Object Lock so the 2 GB can be removed afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { tempDir } from '../helpers/backup.js';
import { GATEWAY_DIR, uniqueBucket, useGateway, vendorClient } from './gateway.js';

const gateway = useGateway();
let vendor: S3Client;
let bucket: string;
let dir: string;
const SIZE = 2 * 1024 ** 3 + 12345;
const LIMIT = 200 * 1024 * 1024;

before(async () => {
  vendor = vendorClient(gateway());
  bucket = uniqueBucket('mem');
  await vendor.send(new CreateBucketCommand({ Bucket: bucket }));
  dir = await tempDir('lroff-mem-');
});
after(async () => {
  await vendor?.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'big.lrb' })).catch(() => {});
  await vendor?.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => {});
  vendor?.destroy();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a 2 GB upload keeps peak RSS under 200 MB', { timeout: 600_000 }, async () => {
  // Real bytes in every 4 KiB block (a sparse file would read as zeros without touching the disk).
  const file = join(dir, 'big.lrb');
  const fh = await open(file, 'w');
  const block = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < block.length; i += 4096) block.writeUInt32BE(i, i);
  for (let written = 0; written < SIZE; written += block.length) await fh.write(block, 0, Math.min(block.length, SIZE - written));
  await fh.close();
  const child = fileURLToPath(new URL('./upload-child.ts', import.meta.url));
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, file, bucket, 'big.lrb'], { env: { ...process.env, LASTRESORT_S3_DIR: GATEWAY_DIR }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`upload child exited ${code}: ${stderr}`))));
  });
  const r = JSON.parse(out) as { bytes: number; parts: number; ms: number; peakRssBytes: number };
  process.stderr.write(`2 GB upload: ${r.parts} parts in ${r.ms} ms (${(r.bytes / 1048576 / (r.ms / 1000)).toFixed(0)} MiB/s), peak RSS ${(r.peakRssBytes / 1048576).toFixed(0)} MiB\n`);
  assert.equal(r.bytes, SIZE);
  assert.ok(r.peakRssBytes < LIMIT, `peak RSS ${r.peakRssBytes} bytes`);
  const head = await vendor.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big.lrb' }));
  assert.equal(head.ContentLength, SIZE);
});
