/**
 * One way to make an S3 client for every store: AWS (no endpoint) or any
 * S3-compatible one (endpoint given, path-style addressing). Checksums only
 * where the API requires them: stores other than AWS refuse the SDK's
 * default trailing checksums on streamed bodies; our parts carry Content-MD5,
 * which every store verifies. The SDK does not retry: the callers do, with
 * their own backoff and deadline, so a pause is never doubled.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { LrError } from '../errors.js';
import type { StoreCredentials } from './credentials.js';

export interface ClientOptions {
  /** Empty/undefined: AWS itself (or AWS_ENDPOINT_URL when set). */
  endpoint?: string | null;
  region?: string | null;
  /** Omitted: the SDK's standard chain (environment, shared files), as support's machine uses. */
  credentials?: StoreCredentials;
  /** SDK attempts per request; 1 when the caller retries itself. */
  maxAttempts?: number;
}

export function checkEndpoint(text: string, what = 'offsiteEndpoint'): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LrError('LR_USAGE', `${what} must be a URL like https://s3.example.com, not ${JSON.stringify(text).slice(0, 80)}.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new LrError('LR_USAGE', `${what} must start with https:// (or http:// for a store on this network).`);
  if (url.username || url.password) throw new LrError('LR_USAGE', `${what} must not contain a user name or password; keys go in the credentials file.`);
  return text.replace(/\/+$/, '');
}

export function makeClient(o: ClientOptions = {}): S3Client {
  // The pinned SDK supports Node 20; its notice about future releases would be a second line on every command.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const endpoint = o.endpoint || process.env.AWS_ENDPOINT_URL || undefined;
  return new S3Client({
    region: o.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
    ...(endpoint ? { endpoint: checkEndpoint(endpoint, 'The store endpoint'), forcePathStyle: true } : {}),
    ...(o.credentials ? { credentials: o.credentials } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: o.maxAttempts ?? 3,
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 300_000 },
  });
}

/** The store's error name and HTTP status, for deciding and for the log (never a secret). */
export function storeErrorOf(err: unknown): { name: string; status?: number; code?: string } {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  return { name: e?.name ?? 'Error', status: e?.$metadata?.httpStatusCode, code: e?.code };
}

/** Worth another try: the network or the store's side, not a refusal. */
export function isRetryable(err: unknown): boolean {
  const { name, status } = storeErrorOf(err);
  if (status === undefined) return !['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'NoSuchBucket'].includes(name);
  return status >= 500 || status === 408 || status === 429 || name === 'RequestTimeout' || name === 'SlowDown' || name === 'BadDigest';
}

/** One plain line for a person from a store failure. */
export function describeStoreError(err: unknown, doing: string): string {
  const { name, status, code } = storeErrorOf(err);
  if (name === 'AccessDenied' || status === 403) return `The store refused ${doing} (access denied). Check the key and the bucket policy (lastresort vendor policy).`;
  if (name === 'NoSuchBucket') return `The store has no such bucket while ${doing}. Check the offsite setting.`;
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') return `The store does not accept the key while ${doing}. Check the credentials file.`;
  if (status === undefined) return `The store could not be reached while ${doing} (${code ?? name}). Check the network and the endpoint.`;
  return `The store answered ${status} ${name} while ${doing}.`;
}
