/**
 * A backup in the store read in place (a link from `vendor share`, or
 * s3://bucket/key): the format's readers get a ByteSource whose reads are
 * ranged GETs, so a restore needs no download step and no disk space for the
 * file. Each read in order (the in-order reader, each lane's table) is one
 * GET that the store sends ahead while the last bytes are decrypted; memory
 * is what the stream buffers, whatever the file's size. A connection that
 * breaks is resumed from the byte reached after a pause; an object whose
 * size or ETag changes under the read stops it with a plain line.
 */
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { LrError } from '../errors.js';
import { log } from '../log.js';
import type { ByteRange, ByteSource, SourceReader } from '../format/source.js';
import { HEADER_FRAME_MAX, MAGIC_MAX } from '../format/limits.js';
import { isRetryable } from './client.js';
import { describeSource, getRange, type RemoteBody, type RemoteSource } from './remote.js';

/** Pauses before resuming a broken read; then it gives up. Progress since the last break starts them over. */
export const RESUME_PAUSES_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000];

/** The first GET: the magic line and the largest first header copy, which locateHeader reads first. */
const HEAD_BYTES = MAGIC_MAX + HEADER_FRAME_MAX;

interface Pinned {
  src: RemoteSource;
  size: number;
  etag?: string;
  signal?: AbortSignal;
}

/** Opens `src` with one GET of its start: its size and ETag are pinned for every later read. */
export async function openRemote(src: RemoteSource, signal?: AbortSignal): Promise<ByteSource> {
  const first = await getRange(src, 0, HEAD_BYTES - 1, signal);
  const pinned: Pinned = { src, size: first.total, etag: first.etag, signal };
  const head = await collect(bodyPieces(pinned, first, 0, Math.min(HEAD_BYTES, first.total)), Math.min(HEAD_BYTES, first.total));
  return {
    name: describeSource(src),
    size: pinned.size,
    local: false,
    readAt: (position, length) => (position + length <= head.length ? Promise.resolve(head.subarray(position, position + length)) : readAt(pinned, position, length)),
    stream: (start) => pieces(pinned, start, pinned.size),
    openReader: async () => remoteReader(pinned),
  };
}

async function readAt(p: Pinned, position: number, length: number): Promise<Buffer> {
  const end = Math.min(p.size, position + length);
  return position >= end ? Buffer.alloc(0) : collect(pieces(p, position, end), end - position);
}

function remoteReader(p: Pinned): SourceReader {
  return {
    async read(buf, offset, length, position) {
      const data = await readAt(p, position, length);
      data.copy(buf, offset);
      return { bytesRead: data.length };
    },
    range: (start, end) => remoteRange(p, start, Math.min(end, p.size)),
    close: async () => {},
  };
}

/** One lane's table: a GET of exactly its bytes, taken in the pieces the reader asks for. */
function remoteRange(p: Pinned, start: number, end: number): ByteRange {
  let it: AsyncGenerator<Buffer> | undefined;
  let left: Buffer = Buffer.alloc(0);
  return {
    async read(buf, length) {
      let got = 0;
      while (got < length) {
        if (left.length === 0) {
          if (start >= end) break;
          it ??= pieces(p, start, end);
          const next = await it.next();
          if (next.done) break;
          left = next.value;
        }
        const n = left.copy(buf, got, 0, Math.min(left.length, length - got));
        left = left.subarray(n);
        got += n;
      }
      return got;
    },
    close: async () => void (await it?.return(undefined)),
  };
}

async function collect(from: AsyncIterable<Buffer>, length: number): Promise<Buffer> {
  const out = Buffer.allocUnsafe(length);
  let got = 0;
  for await (const piece of from) got += piece.copy(out, got);
  return out.subarray(0, got);
}

function changed(p: Pinned): LrError {
  const again = p.src.kind === 'link' ? 'Ask support for a new link, then start again.' : 'Start again.';
  return new LrError('LR_IO', `${describeSource(p.src)} changed in the store while it was being read (its size or version is not the same any more), so the read stopped. ${again}`, { detail: { changed: true } });
}

/** Only a broken transfer is resumed: a refusal, a missing or changed object is said at once. */
function resumable(err: unknown): boolean {
  if (!(err instanceof LrError)) return true;
  return err.code === 'LR_IO' && !err.detail?.changed && (err.cause === undefined || isRetryable(err.cause));
}

/** The pieces of one answer, checked against the pinned object and cut at `end`. */
async function* bodyPieces(p: Pinned, r: RemoteBody, start: number, end: number): AsyncGenerator<Buffer> {
  if (r.total !== p.size || (p.etag && r.etag && r.etag !== p.etag) || r.start !== start) {
    r.body.destroy();
    throw r.start !== start ? new LrError('LR_IO', `The store did not answer a ranged read of ${describeSource(p.src)} (it sent bytes from ${r.start}, not ${start}), so the file cannot be read in place. Download it with lastresort vendor fetch instead.`, { detail: { changed: true } }) : changed(p);
  }
  let at = start;
  try {
    for await (const piece of r.body as Readable) {
      // A store (or a hostile link) sending more than asked is not followed.
      const b = (piece as Buffer).subarray(0, end - at);
      at += b.length;
      yield b;
      if (at >= end) return;
    }
    if (at < end) throw new Error('the answer ended early');
  } finally {
    r.body.destroy();
  }
}

/** Bytes [start, end) in order; a broken connection is resumed from the byte reached. */
async function* pieces(p: Pinned, start: number, end: number): AsyncGenerator<Buffer> {
  let at = start;
  let failures = 0;
  let lastFailureAt = -1;
  while (at < end) {
    try {
      for await (const b of bodyPieces(p, await getRange(p.src, at, end - 1, p.signal), at, end)) {
        at += b.length;
        yield b;
      }
    } catch (err) {
      if (at > lastFailureAt) failures = 0; // a long read survives many separate breaks
      lastFailureAt = at;
      if (p.signal?.aborted || !resumable(err) || failures >= RESUME_PAUSES_MS.length) throw brokeOff(p, at, err);
      log('offsite').warn({ source: describeSource(p.src), at, retryInMs: RESUME_PAUSES_MS[failures], error: (err as Error).message?.slice(0, 120) }, 'read from the store broke off; resuming');
      await delay(RESUME_PAUSES_MS[failures++], undefined, { signal: p.signal }).catch(() => {});
    }
  }
}

function brokeOff(p: Pinned, at: number, err: unknown): LrError {
  if (err instanceof LrError) return err;
  const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new LrError('LR_IO', `Reading ${describeSource(p.src)} broke off at byte ${at} of ${p.size} and the store did not answer again (${why}). Check the network, then try again.`, { cause: err });
}
