/**
 * A backup that sits in the store, addressed either as s3://bucket/key (with
 * the caller's own key from the SDK's standard chain) or as a presigned link
 * from `vendor share` (no key at all). Both give ranged reads and a stream.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { LrError } from '../errors.js';
import { describeStoreError, makeClient, storeErrorOf } from './client.js';
import { parseObjectUrl } from './location.js';

export type RemoteSource = { kind: 's3'; client: S3Client; bucket: string; key: string; versionId?: string } | { kind: 'link'; url: URL };

/** `file` as given on the command line: s3://bucket/key or an http(s) link. */
export function remoteSource(file: string, opts: { endpoint?: string } = {}): RemoteSource {
  if (/^s3:\/\//i.test(file)) {
    const { bucket, key } = parseObjectUrl(file);
    // One attempt per request: the source resumes a broken read itself (remote-source.ts), so a pause is never doubled.
    return { kind: 's3', client: makeClient({ endpoint: opts.endpoint, maxAttempts: 1 }), bucket, key };
  }
  let url: URL;
  try {
    url = new URL(file);
  } catch {
    throw new LrError('LR_USAGE', 'That link is not a valid address. Paste the whole link support sent.');
  }
  checkLinkWhole(url);
  return { kind: 'link', url };
}

/** What the person is told when a link lost its signature on the way in. */
export const CUT_LINK = 'The link is cut: its signature part is missing (a shell ends a link at its first &). Put it in quotes, or run lastresort recover and paste it when asked.';

/**
 * A presigned link carries its signature in parts after `&`; a shell that
 * was given the link without quotes keeps only what comes before the first
 * one. Said as such, not as the store's refusal ("expired or changed").
 */
function checkLinkWhole(url: URL): void {
  const names = [...url.searchParams.keys()].map((k) => k.toLowerCase());
  const signed = names.some((k) => k.startsWith('x-amz-'));
  const parts = ['x-amz-credential', 'x-amz-date', 'x-amz-expires', 'x-amz-signature'];
  if (signed && !parts.every((p) => names.includes(p))) throw new LrError('LR_USAGE', CUT_LINK);
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

/**
 * The object's size: the total of Content-Range, or the answer's own length
 * when the store ignored the range (no Content-Range, 200). A ranged answer
 * whose total is `*` or missing, or an answer of unknown length, says
 * nothing to pin the size to: undefined.
 */
function totalFrom(contentRange: string | null | undefined, length: number | undefined): number | undefined {
  if (!contentRange) return length;
  const m = /^bytes \d+-\d+\/(\d+)$/.exec(contentRange.trim());
  const total = m ? Number(m[1]) : NaN;
  return Number.isSafeInteger(total) ? total : undefined;
}

/** Length from a header: undefined when absent or not a plain number. */
function lengthFrom(text: string | null | undefined): number | undefined {
  const n = text === null || text === undefined || !/^\d+$/.test(text.trim()) ? NaN : Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

function noTotal(src: RemoteSource): LrError {
  return new LrError('LR_IO', `The store did not say how big ${describeSource(src)} is (its answer to a ranged read has no total size), so the file cannot be read in place. Download it with lastresort vendor fetch instead.`, { detail: { changed: true } });
}

/** The object is not the one pinned at the first read (its ETag or size differs, or the store refused If-Match). */
export function changedError(src: RemoteSource): LrError {
  const again = src.kind === 'link' ? 'Ask support for a new link, then start again.' : 'Start again.';
  return new LrError('LR_IO', `${describeSource(src)} changed in the store while it was being read (its size or version is not the same any more), so the read stopped. ${again}`, { detail: { changed: true } });
}

function startFrom(contentRange: string | null | undefined): number {
  const m = /^bytes (\d+)-/.exec(contentRange ?? '');
  return m ? Number(m[1]) : 0;
}

/**
 * Bytes start..end (inclusive; end undefined = to the end) as a stream.
 * `ifMatch` (the ETag pinned at the first read) makes the store refuse a
 * replaced object (412): it is not a signed header, so a presigned link
 * still matches its signature.
 */
export async function getRange(src: RemoteSource, start = 0, end?: number, signal?: AbortSignal, ifMatch?: string): Promise<RemoteBody> {
  const range = start === 0 && end === undefined ? undefined : `bytes=${start}-${end ?? ''}`;
  if (src.kind === 's3') {
    let r;
    try {
      r = await src.client.send(new GetObjectCommand({ Bucket: src.bucket, Key: src.key, VersionId: src.versionId, Range: range, IfMatch: ifMatch }), { abortSignal: signal });
    } catch (err) {
      const { name, status } = storeErrorOf(err);
      if (name === 'PreconditionFailed' || status === 412) throw changedError(src);
      if (name === 'NoSuchKey' || status === 404) throw new LrError('LR_NO_FILE', `There is no object ${describeSource(src)} in the store. Check the address (lastresort vendor status lists the practices).`, { cause: err });
      if (status === 416) throw new LrError('LR_NOT_BACKUP', `${describeSource(src)} is empty or shorter than a backup header: it is not a backup.`, { cause: err });
      throw new LrError('LR_IO', describeStoreError(err, `reading ${describeSource(src)}`), { cause: err });
    }
    const body = r.Body as Readable;
    const total = totalFrom(r.ContentRange, r.ContentLength);
    if (total === undefined) {
      body?.destroy();
      throw noTotal(src);
    }
    return { body, length: r.ContentLength ?? 0, total, start: startFrom(r.ContentRange), etag: r.ETag };
  }
  checkLinkAge(src.url);
  let res: Response;
  try {
    res = await fetch(src.url, { headers: { ...(range ? { Range: range } : {}), ...(ifMatch ? { 'If-Match': ifMatch } : {}) }, signal });
  } catch (err) {
    throw new LrError('LR_IO', `The store could not be reached for ${describeSource(src)}. Check the network, then try again.`, { cause: err });
  }
  const refused = refusal(res.status, src);
  const total = totalFrom(res.headers.get('content-range'), lengthFrom(res.headers.get('content-length')));
  if (refused || !res.body || total === undefined) {
    // Every answer not read is cancelled: its connection is let go, not left holding a body.
    await res.body?.cancel().catch(() => {});
    throw refused ?? (res.body ? noTotal(src) : new LrError('LR_IO', `The store answered ${res.status} for the link with no body. Try again later, or ask support for a new one.`));
  }
  // A larger buffer than the default lets the next bytes arrive while the last are decrypted.
  const body = Readable.fromWeb(res.body as WebReadableStream, { highWaterMark: 1 << 20 });
  return { body, length: lengthFrom(res.headers.get('content-length')) ?? 0, total, start: startFrom(res.headers.get('content-range')), etag: res.headers.get('etag') ?? undefined };
}

/** The plain line for an answer that is not the bytes asked for; null for a 2xx. */
function refusal(status: number, src: RemoteSource): LrError | null {
  if (status === 403) return new LrError('LR_NO_FILE', `The store refused the link (it has expired or was changed). Ask support for a new one (lastresort vendor share).`);
  if (status === 404) return new LrError('LR_NO_FILE', 'The file behind this link is no longer in the store. Ask support for a new link.');
  if (status === 412) return changedError(src);
  if (status === 416) return new LrError('LR_NOT_BACKUP', 'The file behind this link is empty or shorter than a backup header: it is not a backup.');
  if (status < 200 || status > 299) return new LrError('LR_IO', `The store answered ${status} for the link. Try again later, or ask support for a new one.`);
  return null;
}

/** A short range read whole (a header); at most `max` bytes are kept. A store that does not send it within the stall time is given up. */
export async function readRange(src: RemoteSource, start: number, end: number): Promise<{ data: Buffer; total: number }> {
  const ms = stallMs();
  const timer = AbortSignal.timeout(ms);
  const max = end - start + 1;
  const pieces: Buffer[] = [];
  let r: RemoteBody | undefined;
  try {
    r = await getRange(src, start, end, timer);
    timer.addEventListener('abort', () => r?.body.destroy(), { once: true });
    let got = 0;
    for await (const piece of r.body) {
      const b = piece as Buffer;
      pieces.push(b.subarray(0, Math.max(0, max - got)));
      got += b.length;
      if (got >= max) break;
    }
  } catch (err) {
    throw timer.aborted ? stalledError(src, ms) : err;
  } finally {
    r?.body.destroy();
  }
  return { data: Buffer.concat(pieces), total: r.total };
}

/** How long a GET may wait for the store's next bytes: 60 s, or LASTRESORT_STORE_STALL_MS (for tests). */
export const STALL_MS = 60_000;

export function stallMs(): number {
  const v = Number(process.env.LASTRESORT_STORE_STALL_MS);
  return Number.isFinite(v) && v > 0 ? v : STALL_MS;
}

const seconds = (ms: number) => `${Number((ms / 1000).toFixed(1))} s`;

export function stalledError(src: RemoteSource, ms: number, at?: { byte: number; size: number; tries: number }): LrError {
  const where = at ? ` at byte ${at.byte} of ${at.size} (${at.tries} tries)` : '';
  return new LrError('LR_IO', `The store stopped sending ${describeSource(src)}${where}: nothing, or next to nothing, came for ${seconds(ms)}, so the read gave up. Check the network, then try again.`, { detail: { stalled: true } });
}
