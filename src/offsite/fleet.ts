/**
 * `vendor status`: one row per practice from its pointer object (one small
 * read each, many at once). A practice without a readable pointer falls
 * back to its newest file, whose header is read with a ranged GET; never a
 * whole file.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { log } from '../log.js';
import { storeErrorOf } from './client.js';
import { pointerKey, practicesPrefix, type StoreLocation } from './location.js';
import { readPointer } from './pointer.js';
import { identifyRemote } from './remote-identify.js';
import { whoOpens } from '../format/header.js';

export interface PracticeRow {
  practiceId: string;
  lastUpload: string | null;
  file: string | null;
  bytes: number | null;
  admin: string | null;
  formatVersion: number | null;
  stale: boolean;
  /** Where the facts came from: the pointer, a header read, or nothing found. */
  source: 'pointer' | 'header' | 'none';
  problem?: string;
}

const PARALLEL = 32;
/** A practice's key can fill its own folder: its fallback listing stops after this many pages. */
const MAX_PAGES_PER_PRACTICE = 20;

async function listPracticeIds(client: S3Client, loc: StoreLocation): Promise<string[]> {
  const prefix = practicesPrefix(loc);
  const ids: string[] = [];
  let token: string | undefined;
  do {
    const r = await client.send(new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
    for (const p of r.CommonPrefixes ?? []) if (p.Prefix) ids.push(p.Prefix.slice(prefix.length, -1));
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return ids;
}

/** The newest .lrb of a practice when its pointer is missing: its listing and header. */
async function fromNewestFile(client: S3Client, loc: StoreLocation, practiceId: string): Promise<Omit<PracticeRow, 'stale'>> {
  const prefix = `${practicesPrefix(loc)}${practiceId}/`;
  let newest: { key: string; at: Date; size: number } | undefined;
  let token: string | undefined;
  let pages = 0;
  do {
    const r = await client.send(new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: prefix, ContinuationToken: token }));
    pages++;
    for (const o of r.Contents ?? []) {
      if (o.Key?.endsWith('.lrb') && o.LastModified && (!newest || o.LastModified > newest.at)) newest = { key: o.Key, at: o.LastModified, size: o.Size ?? 0 };
    }
    token = r.IsTruncated && pages < MAX_PAGES_PER_PRACTICE ? r.NextContinuationToken : undefined;
  } while (token);
  const none = { practiceId, lastUpload: null, file: null, bytes: null, admin: null, formatVersion: null, source: 'none' as const };
  if (!newest) return { ...none, problem: 'no backup found' };
  const base = { ...none, lastUpload: newest.at.toISOString(), file: newest.key.slice(prefix.length), bytes: newest.size };
  try {
    const id = await identifyRemote({ kind: 's3', client, bucket: loc.bucket, key: newest.key });
    return { ...base, admin: whoOpens(id).userName, formatVersion: id.formatVersion, source: 'header', problem: 'no pointer' };
  } catch (err) {
    return { ...base, problem: `no pointer; header unreadable (${(err as Error).message.slice(0, 80)})` };
  }
}

async function rowOf(client: S3Client, loc: StoreLocation, practiceId: string): Promise<Omit<PracticeRow, 'stale'>> {
  try {
    const p = await readPointer(client, loc.bucket, pointerKey(loc, practiceId));
    if (p) return { practiceId, lastUpload: p.uploadedAt, file: p.file, bytes: p.bytes, admin: p.admin, formatVersion: p.formatVersion, source: 'pointer' };
  } catch (err) {
    log('vendor').warn({ practiceId, ...storeErrorOf(err) }, 'pointer unreadable; reading the newest file header');
  }
  return fromNewestFile(client, loc, practiceId);
}

export async function fleetStatus(client: S3Client, loc: StoreLocation, staleDays: number, now = new Date()): Promise<PracticeRow[]> {
  const ids = await listPracticeIds(client, loc);
  const rows: PracticeRow[] = new Array(ids.length);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const i = next++;
      const r = await rowOf(client, loc, ids[i]!);
      rows[i] = { ...r, stale: !r.lastUpload || now.getTime() - Date.parse(r.lastUpload) > staleDays * 86_400_000 };
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, ids.length) }, worker));
  return rows.sort((a, b) => Number(b.stale) - Number(a.stale) || a.practiceId.localeCompare(b.practiceId));
}
