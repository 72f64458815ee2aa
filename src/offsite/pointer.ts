/**
 * The pointer: a small JSON object beside a practice's files that names the
 * latest upload, written only after that upload completed, so support's
 * listing reads one small object per practice and never a half file.
 * Under versioning each night's pointer is kept like the files.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LIMITS } from '../format/limits.js';

export const POINTER_FORMAT = 'lastresort-offsite-pointer';

export interface Pointer {
  format: typeof POINTER_FORMAT;
  pointerVersion: 1;
  practiceId: string;
  /** The object key of the latest upload, and its file name. */
  key: string;
  file: string;
  bytes: number;
  sha256: string;
  uploadedAt: string;
  /** When the backup was made (the producer's clock). */
  backupAt: string;
  /** Whose Open Dental password opens it. */
  admin: string;
  formatVersion: number;
  database: string;
}

/** Small objects that lock-enabled buckets accept: Content-MD5 is required there. */
export async function putSmallObject(client: S3Client, bucket: string, key: string, body: Buffer, contentType: string, signal?: AbortSignal): Promise<void> {
  const md5 = createHash('md5').update(body).digest('base64');
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentMD5: md5, ContentType: contentType, ACL: 'bucket-owner-full-control' }), { abortSignal: signal });
}

export async function writePointer(client: S3Client, bucket: string, key: string, pointer: Pointer, signal?: AbortSignal): Promise<void> {
  await putSmallObject(client, bucket, key, Buffer.from(JSON.stringify(pointer, null, 2) + '\n'), 'application/json', signal);
}

const isText = (v: unknown, max = 1024) => typeof v === 'string' && v.length <= max;

/** Parses a pointer read from the store; null when it is not one (a practice's key wrote it, so trust nothing). */
export function parsePointer(text: string): Pointer | null {
  if (text.length > LIMITS.headerJsonMax) return null;
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (!v || typeof v !== 'object' || v.format !== POINTER_FORMAT || v.pointerVersion !== 1) return null;
  const ok = isText(v.practiceId, 64) && isText(v.key) && isText(v.file, 255) && Number.isSafeInteger(v.bytes) && isText(v.sha256, 64) && isText(v.uploadedAt, 40) && !Number.isNaN(Date.parse(v.uploadedAt as string)) && isText(v.backupAt, 40) && isText(v.admin, 255) && Number.isSafeInteger(v.formatVersion) && isText(v.database, 255);
  return ok ? (v as unknown as Pointer) : null;
}

/** The pointer, or null when there is none (or it is not valid). */
export async function readPointer(client: S3Client, bucket: string, key: string): Promise<Pointer | null> {
  try {
    const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=0-${LIMITS.headerJsonMax}` }));
    return parsePointer((await r.Body?.transformToString('utf8')) ?? '');
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return null;
    throw err;
  }
}
