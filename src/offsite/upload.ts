/**
 * One file to the store as a multipart upload, with memory bounded by
 * `concurrency` parts whatever the file's size. The file is read once, in
 * order (its SHA-256 computed on the way); each part carries its Content-MD5
 * so the store checks it. A part that fails (dropped connection, store
 * restarting) is sent again from the buffer it still holds, so a cut
 * connection costs one part, not the whole upload. Puts use
 * bucket-owner-full-control: the practice's key cannot read what it wrote,
 * the vendor can.
 */
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand, type CompletedPart, type S3Client } from '@aws-sdk/client-s3';
import { LrError } from '../errors.js';
import { log } from '../log.js';
import type { Clock } from '../system/clock.js';
import { storeErrorOf } from './client.js';
import { Pacer } from './pacer.js';
import { withRetry, type RetryContext } from './retry.js';

export const DEFAULT_PART_BYTES = 8 * 1024 * 1024;
export const DEFAULT_CONCURRENCY = 4;
const MAX_PARTS = 10_000;
const MiB = 1024 * 1024;

export interface UploadOptions {
  client: S3Client;
  bucket: string;
  key: string;
  file: string;
  clock: Clock;
  /** Retries stop here (the end of the night's window). */
  deadline: Date;
  maxRate?: number | null;
  signal?: AbortSignal;
  partBytes?: number;
  concurrency?: number;
  /** Told after each part is stored (progress, tests). */
  onPart?: (partNumber: number, bytes: number) => void;
}

export interface UploadResult {
  bytes: number;
  parts: number;
  sha256: string;
  retries: number;
}

export function partSizeFor(fileBytes: number, wanted = DEFAULT_PART_BYTES): number {
  const least = Math.ceil(fileBytes / MAX_PARTS / MiB) * MiB;
  return Math.max(wanted, least, 5 * MiB);
}

export async function uploadFile(o: UploadOptions): Promise<UploadResult> {
  const bytes = (await stat(o.file)).size;
  const partBytes = partSizeFor(bytes, o.partBytes);
  const partCount = Math.max(1, Math.ceil(bytes / partBytes));
  const ctx: RetryContext = { clock: o.clock, deadline: o.deadline, signal: o.signal, retries: { count: 0 } };
  const created = await withRetry(ctx, 'starting the upload', () =>
    o.client.send(new CreateMultipartUploadCommand({ Bucket: o.bucket, Key: o.key, ACL: 'bucket-owner-full-control', ContentType: 'application/octet-stream' }), { abortSignal: o.signal }),
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new LrError('LR_IO', 'The store did not start the upload (no upload id). Check the store.');
  try {
    const { parts, sha256 } = await sendParts(o, ctx, uploadId, bytes, partBytes, partCount);
    await complete(o, ctx, uploadId, parts);
    return { bytes, parts: partCount, sha256, retries: ctx.retries.count };
  } catch (err) {
    // A write-only key may not abort; the bucket's lifecycle rule cleans up what is left.
    await o.client.send(new AbortMultipartUploadCommand({ Bucket: o.bucket, Key: o.key, UploadId: uploadId })).catch((e) => log('offsite').info({ ...storeErrorOf(e) }, 'could not abort the unfinished upload; the lifecycle rule removes it'));
    throw err;
  }
}

/** Reads parts in order and keeps at most `concurrency` of them in flight. */
async function sendParts(o: UploadOptions, ctx: RetryContext, uploadId: string, bytes: number, partBytes: number, partCount: number): Promise<{ parts: CompletedPart[]; sha256: string }> {
  const hash = createHash('sha256');
  const pacer = new Pacer(o.maxRate ?? null, o.clock);
  const parts: CompletedPart[] = new Array(partCount);
  const inFlight = new Set<Promise<void>>();
  // Part buffers are reused: at most concurrency + 1 exist, whatever the file's size.
  const pool: Buffer[] = [];
  let failure: unknown;
  const fh = await open(o.file, 'r');
  try {
    for (let i = 0; i < partCount && failure === undefined; i++) {
      const length = Math.min(partBytes, bytes - i * partBytes);
      const buffer = pool.pop() ?? Buffer.allocUnsafe(partBytes);
      const body = buffer.subarray(0, length);
      const { bytesRead } = await fh.read(body, 0, length, i * partBytes);
      if (bytesRead !== length) throw new LrError('LR_IO', `The backup ${o.file} changed size while it was being uploaded. The next night's upload will send a fresh copy.`);
      hash.update(body);
      await pacer.take(length, o.signal);
      const sending = sendPart(o, ctx, uploadId, i + 1, body).then(
        (part) => {
          parts[i] = part;
          o.onPart?.(i + 1, length);
        },
        (err) => {
          failure ??= err;
        },
      ).finally(() => pool.push(buffer));
      inFlight.add(sending);
      void sending.finally(() => inFlight.delete(sending));
      if (inFlight.size >= (o.concurrency ?? DEFAULT_CONCURRENCY)) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    await fh.close();
  }
  if (failure !== undefined) throw failure;
  return { parts, sha256: hash.digest('hex') };
}

async function sendPart(o: UploadOptions, ctx: RetryContext, uploadId: string, partNumber: number, body: Buffer): Promise<CompletedPart> {
  const md5 = createHash('md5').update(body).digest('base64');
  const r = await withRetry(ctx, `sending part ${partNumber}`, () =>
    o.client.send(new UploadPartCommand({ Bucket: o.bucket, Key: o.key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentMD5: md5, ContentLength: body.length }), { abortSignal: o.signal }),
  );
  return { PartNumber: partNumber, ETag: r.ETag };
}

async function complete(o: UploadOptions, ctx: RetryContext, uploadId: string, parts: CompletedPart[]): Promise<void> {
  await withRetry(ctx, 'finishing the upload', async (attempt) => {
    try {
      await o.client.send(new CompleteMultipartUploadCommand({ Bucket: o.bucket, Key: o.key, UploadId: uploadId, MultipartUpload: { Parts: parts } }), { abortSignal: o.signal });
    } catch (err) {
      // The first try may have completed it and only the answer was lost: the upload id is then gone.
      if (attempt > 0 && storeErrorOf(err).name === 'NoSuchUpload') {
        log('offsite').warn({ key: o.key }, 'upload already completed by an earlier try whose answer was lost');
        return;
      }
      throw err;
    }
  });
}
