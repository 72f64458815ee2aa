/**
 * Where things live in the store (docs/offsite.md): one bucket, an optional
 * prefix, then practices/<practiceId>/ holding the night's files and the
 * pointer to the latest one.
 */
import { LrError } from '../errors.js';

export interface StoreLocation {
  bucket: string;
  /** '' or a path without leading or trailing slash. */
  prefix: string;
}

/** s3://bucket or s3://bucket/some/prefix; `what` names the setting or flag in the message. */
export function parseStoreUrl(text: string, what = 'the store'): StoreLocation {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(text.trim());
  if (!m) throw new LrError('LR_USAGE', `${what} must look like s3://bucket or s3://bucket/prefix (bucket: 3-63 lower-case letters, digits, dots, hyphens), not ${JSON.stringify(text).slice(0, 100)}.`);
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((p) => p === '.' || p === '..') || /[\x00-\x1f\\]/.test(prefix)) throw new LrError('LR_USAGE', `${what} has a prefix that is not a plain folder path.`);
  return { bucket: m[1]!, prefix };
}

/** s3://bucket/key of one object (identify, check). */
export function parseObjectUrl(text: string): { bucket: string; key: string } {
  const loc = parseStoreUrl(text, 'The object address');
  if (!loc.prefix) throw new LrError('LR_USAGE', `Give the object's full address, s3://bucket/path/file.lrb, not only the bucket.`);
  return { bucket: loc.bucket, key: loc.prefix };
}

/** A practice's id: it becomes part of object keys and policy resources, so only plain characters. */
export function checkPracticeId(id: string, what = 'practiceId'): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(id)) throw new LrError('LR_USAGE', `${what} must be 1-64 letters, digits, hyphens or underscores (starting with a letter or digit), not ${JSON.stringify(id).slice(0, 80)}.`);
  return id;
}

const join = (...parts: string[]) => parts.filter(Boolean).join('/');

export function practicesPrefix(loc: StoreLocation): string {
  return join(loc.prefix, 'practices') + '/';
}

/** Everything of one practice sits under this; its key may put nothing elsewhere. */
export function practicePrefix(loc: StoreLocation, practiceId: string): string {
  return join(loc.prefix, 'practices', checkPracticeId(practiceId)) + '/';
}

export function backupKey(loc: StoreLocation, practiceId: string, fileName: string): string {
  return practicePrefix(loc, practiceId) + fileName;
}

export const POINTER_NAME = 'latest.json';

export function pointerKey(loc: StoreLocation, practiceId: string): string {
  return practicePrefix(loc, practiceId) + POINTER_NAME;
}

export function storeUrl(loc: StoreLocation): string {
  return `s3://${join(loc.bucket, loc.prefix)}`;
}
