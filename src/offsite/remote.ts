/**
 * A backup that sits in the store, addressed either as s3://bucket/key (with
 * the caller's own key from the SDK's standard chain) or as a presigned link
 * from `vendor share` (no key at all). Both give ranged reads and a stream.
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LrError } from '../errors.js';
import { describeStoreError, makeClient, storeErrorOf } from './client.js';
import { parseObjectUrl } from './location.js';

export type RemoteSource = { kind: 's3'; client: S3Client; bucket: string; key: string; versionId?: string } | { kind: 'link'; url: URL };

export function isRemote(file: string): boolean {
  return /^(s3|https?):\/\//i.test(file);
}

/** `file` as given on the command line: s3://bucket/key or an http(s) link. */
export function remoteSource(file: string, opts: { endpoint?: string } = {}): RemoteSource {
  if (/^s3:\/\//i.test(file)) {
    const { bucket, key } = parseObjectUrl(file);
    return { kind: 's3', client: makeClient({ endpoint: opts.endpoint }), bucket, key };
  }
  let url: URL;
  try {
    url = new URL(file);
  } catch {
    throw new LrError('LR_USAGE', 'That link is not a valid address. Paste the whole link support sent.');
  }
  return { kind: 'link', url };
}

/** Where a source points, for messages and logs: never the link's signature. */
export function describeSource(src: RemoteSource): string {
  return src.kind === 's3' ? `s3://${src.bucket}/${src.key}` : `${src.url.origin}${src.url.pathname}`;
}

const EXPIRED = 'This link has expired. Ask support for a new one (lastresort vendor share).';

/** A presigned link says when it stops working: say so before asking the store. */
function checkLinkAge(url: URL): void {
  const date = url.searchParams.get('X-Amz-Date');
  const expires = Number(url.searchParams.get('X-Amz-Expires'));
  if (!date || !expires) return;
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  if (!m) return;
  const signedAt = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (Date.now() > signedAt + expires * 1000) throw new LrError('LR_NO_FILE', EXPIRED);
}

export interface RemoteBody {
  body: Readable;
  /** Bytes in this answer, and in the whole object. */
  length: number;
  total: number;
  /** Where this answer starts in the object (0 when the store ignored the range). */
  start: number;
  /** The object's version as the store tags it, to notice a file replaced during a long read. */
  etag?: string;
}

function totalFrom(contentRange: string | null | undefined, length: number): number {
  const m = /\/(\d+)$/.exec(contentRange ?? '');
  return m ? Number(m[1]) : length;
}

function startFrom(contentRange: string | null | undefined): number {
  const m = /^bytes (\d+)-/.exec(contentRange ?? '');
  return m ? Number(m[1]) : 0;
}

/** Bytes start..end (inclusive; end undefined = to the end) as a stream. */
export async function getRange(src: RemoteSource, start = 0, end?: number, signal?: AbortSignal): Promise<RemoteBody> {
  const range = start === 0 && end === undefined ? undefined : `bytes=${start}-${end ?? ''}`;
  if (src.kind === 's3') {
    try {
      const r = await src.client.send(new GetObjectCommand({ Bucket: src.bucket, Key: src.key, VersionId: src.versionId, Range: range }), { abortSignal: signal });
      const length = r.ContentLength ?? 0;
      return { body: r.Body as Readable, length, total: totalFrom(r.ContentRange, length), start: startFrom(r.ContentRange), etag: r.ETag };
    } catch (err) {
      const { name, status } = storeErrorOf(err);
      if (name === 'NoSuchKey' || status === 404) throw new LrError('LR_NO_FILE', `There is no object ${describeSource(src)} in the store. Check the address (lastresort vendor status lists the practices).`, { cause: err });
      if (status === 416) throw new LrError('LR_NOT_BACKUP', `${describeSource(src)} is empty or shorter than a backup header: it is not a backup.`, { cause: err });
      throw new LrError('LR_IO', describeStoreError(err, `reading ${describeSource(src)}`), { cause: err });
    }
  }
  checkLinkAge(src.url);
  let res: Response;
  try {
    res = await fetch(src.url, { headers: range ? { Range: range } : {}, signal });
  } catch (err) {
    throw new LrError('LR_IO', `The store could not be reached for ${describeSource(src)}. Check the network, then try again.`, { cause: err });
  }
  if (res.status === 403) {
    await res.body?.cancel();
    throw new LrError('LR_NO_FILE', `The store refused the link (it has expired or was changed). Ask support for a new one (lastresort vendor share).`);
  }
  if (res.status === 404) throw new LrError('LR_NO_FILE', 'The file behind this link is no longer in the store. Ask support for a new link.');
  if (res.status === 416) throw new LrError('LR_NOT_BACKUP', 'The file behind this link is empty or shorter than a backup header: it is not a backup.');
  if (!res.ok || !res.body) throw new LrError('LR_IO', `The store answered ${res.status} for the link. Try again later, or ask support for a new one.`);
  const length = Number(res.headers.get('content-length') ?? 0);
  // A larger buffer than the default lets the next bytes arrive while the last are decrypted.
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream, { highWaterMark: 1 << 20 });
  return { body, length, total: totalFrom(res.headers.get('content-range'), length), start: startFrom(res.headers.get('content-range')), etag: res.headers.get('etag') ?? undefined };
}

/** A short range read whole (a header); at most `max` bytes are kept. */
export async function readRange(src: RemoteSource, start: number, end: number): Promise<{ data: Buffer; total: number }> {
  const r = await getRange(src, start, end);
  const max = end - start + 1;
  const pieces: Buffer[] = [];
  let got = 0;
  for await (const piece of r.body) {
    const b = piece as Buffer;
    pieces.push(b.subarray(0, Math.max(0, max - got)));
    got += b.length;
    if (got >= max) break;
  }
  r.body.destroy();
  return { data: Buffer.concat(pieces), total: r.total };
}
