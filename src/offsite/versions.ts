/**
 * Every stored version of a practice's backups, newest first: what `vendor
 * fetch` and `vendor share` choose from. Versions, not keys: a key the
 * practice overwrote or "deleted" still has its older versions under lock.
 */
import { ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { LrError } from '../errors.js';
import { practicePrefix, type StoreLocation } from './location.js';

export interface StoredVersion {
  key: string;
  versionId?: string;
  lastModified: Date;
  size: number;
  isLatest: boolean;
}

/** Listing stops here: 35 nights of a practice is ~35 versions; this bounds a hostile folder. */
const MAX_VERSIONS = 100_000;

export async function listBackupVersions(client: S3Client, loc: StoreLocation, practiceId: string): Promise<StoredVersion[]> {
  const prefix = practicePrefix(loc, practiceId);
  const out: StoredVersion[] = [];
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  do {
    const r = await client.send(new ListObjectVersionsCommand({ Bucket: loc.bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
    for (const v of r.Versions ?? []) {
      if (!v.Key?.endsWith('.lrb') || !v.LastModified) continue;
      out.push({ key: v.Key, versionId: v.VersionId && v.VersionId !== 'null' ? v.VersionId : undefined, lastModified: v.LastModified, size: v.Size ?? 0, isLatest: !!v.IsLatest });
    }
    keyMarker = r.IsTruncated ? r.NextKeyMarker : undefined;
    versionMarker = r.IsTruncated ? r.NextVersionIdMarker : undefined;
  } while (keyMarker && out.length < MAX_VERSIONS);
  return out.sort((a, b) => b.lastModified.getTime() - a.lastModified.getTime() || b.key.localeCompare(a.key));
}

/** --at DATE: an ISO time, or a day (YYYY-MM-DD) meaning up to its end (UTC). */
export function parseAt(text: string): Date {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(text.trim());
  const t = Date.parse(day ? `${text.trim()}T23:59:59.999Z` : text);
  if (Number.isNaN(t)) throw new LrError('LR_USAGE', `--at must be a date like 2026-11-29 or a time like 2026-11-29T03:00:00Z, not ${JSON.stringify(text).slice(0, 60)}.`);
  return new Date(t);
}

/** The versions to try, best first: all of them for --latest, those stored by `at` otherwise. */
export function candidates(versions: StoredVersion[], at?: Date): StoredVersion[] {
  return versions.filter((v) => v.size > 0 && (!at || v.lastModified.getTime() <= at.getTime()));
}
