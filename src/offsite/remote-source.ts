/**
 * A backup in the store read in place (a link from `vendor share`, or
 * s3://bucket/key): the format's readers get a ByteSource whose reads are
 * ranged GETs, so a restore needs no download step and no disk space for the
 * file. Each read in order (the in-order reader, each lane's table) is one
 * GET that the store sends ahead while the last bytes are decrypted; memory
 * is what the stream buffers, whatever the file's size. A connection that
 * breaks is resumed from the byte reached after a pause; an object whose
 * size or ETag changes under the read stops it with a plain line.
 *
 * The store is not trusted to end a read: a GET that waits STALL_MS (60 s)
 * for less than STALL_BYTES is cut and resumed like a dropped connection,
 * the pauses start over only after RESET_PROGRESS of real progress, and the
 * caller's signal (Ctrl-C) ends a pending GET or a pause at once.
 */
import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { LrError } from '../errors.js';
import { log } from '../log.js';
import type { ByteRange, ByteSource, SourceReader } from '../format/source.js';
import { HEADER_FRAME_MAX, MAGIC_MAX } from '../format/limits.js';
import { isRetryable } from './client.js';
import { changedError, describeSource, getRange, stallMs, stalledError, type RemoteBody, type RemoteSource } from './remote.js';

/** Pauses before resuming a broken read; then it gives up. RESET_PROGRESS bytes read since the last break start them over. */
export const RESUME_PAUSES_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000];
/** The pause before try n+2: RESUME_PAUSES_MS, or each LASTRESORT_STORE_PAUSE_MS (for tests). */
function pauseMs(n: number): number {
  const v = Number(process.env.LASTRESORT_STORE_PAUSE_MS);
  return Number.isFinite(v) && v >= 0 && process.env.LASTRESORT_STORE_PAUSE_MS ? v : RESUME_PAUSES_MS[n]!;
}
/** Progress that starts the pauses over: a store that sends a little and drops again is not followed for ever. */
export const RESET_PROGRESS = 1 << 20;
/** Bytes a GET must bring per stall time of waiting (about 1 KiB/s): a store trickling bytes is cut too. */
export const STALL_BYTES = 64 * 1024;

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
  const stall = new Stall(stallMs(), signal);
  let first: RemoteBody;
  try {
    stall.waiting();
    first = await getRange(src, 0, HEAD_BYTES - 1, stall.signal);
    stall.got(0);
  } catch (err) {
    stall.end();
    throw signal?.aborted ? interrupted(src, err) : stall.stalled ? stalledError(src, stall.ms) : err;
  }
  const pinned: Pinned = { src, size: first.total, etag: first.etag, signal };
  const n = Math.min(HEAD_BYTES, first.total);
  let head: Buffer;
  try {
    // Past the first answer's start every error is already a plain line (resumed in headPieces).
    head = await collect(headPieces(pinned, first, n, stall), n);
  } catch (err) {
    throw signal?.aborted && !(err instanceof LrError && err.code === 'LR_INTERRUPTED') ? interrupted(src, err) : err;
  } finally {
    stall.end();
  }
  return {
    name: describeSource(src),
    size: pinned.size,
    local: false,
    readAt: (position, length) => (position + length <= head.length ? Promise.resolve(head.subarray(position, position + length)) : readAt(pinned, position, length)),
    stream: (start) => pieces(pinned, start, pinned.size),
    openReader: async () => remoteReader(pinned),
  };
}

/** The first answer, cut at `end`; if it breaks off, the rest as any read is (resumed, pinned). */
async function* headPieces(p: Pinned, first: RemoteBody, end: number, stall: Stall): AsyncGenerator<Buffer> {
  let at = 0;
  try {
    for await (const b of bodyPieces(p, first, 0, end, stall)) {
      at += b.length;
      yield b;
    }
  } catch (err) {
    if (p.signal?.aborted || (!stall.stalled && !resumable(err))) throw err;
    yield* pieces(p, at, end);
  }
}

function interrupted(src: RemoteSource, cause: unknown): LrError {
  return new LrError('LR_INTERRUPTED', `Stopped while reading ${describeSource(src)}.`, { cause });
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

/** Only a broken transfer is resumed: a refusal, a missing or changed object is said at once. */
function resumable(err: unknown): boolean {
  if (!(err instanceof LrError)) return true;
  return err.code === 'LR_IO' && !err.detail?.changed && (err.cause === undefined || isRetryable(err.cause));
}

/** The pieces of one answer, checked against the pinned object and cut at `end`. */
async function* bodyPieces(p: Pinned, r: RemoteBody, start: number, end: number, stall?: Stall): AsyncGenerator<Buffer> {
  // Once an ETag is pinned, an answer without one is not taken for the same object.
  if (r.total !== p.size || (p.etag !== undefined && r.etag !== p.etag) || r.start !== start) {
    r.body.destroy();
    throw r.start !== start ? new LrError('LR_IO', `The store did not answer a ranged read of ${describeSource(p.src)} (it sent bytes from ${r.start}, not ${start}), so the file cannot be read in place. Download it with lastresort vendor fetch instead.`, { detail: { changed: true } }) : changedError(p.src);
  }
  let at = start;
  const stop = () => r.body.destroy(new Error('the store stopped sending'));
  stall?.signal.addEventListener('abort', stop, { once: true });
  const input = (r.body as Readable)[Symbol.asyncIterator]();
  try {
    for (;;) {
      // Only the wait for the store is timed: a reader that takes its time (the server loading rows) is not a stall.
      stall?.waiting();
      const next = await input.next();
      if (next.done) break;
      // A store (or a hostile link) sending more than asked is not followed.
      const b = (next.value as Buffer).subarray(0, end - at);
      stall?.got(b.length);
      at += b.length;
      yield b;
      if (at >= end) return;
    }
    if (at < end) throw new Error('the answer ended early');
  } finally {
    stall?.got(0);
    stall?.signal.removeEventListener('abort', stop);
    r.body.destroy();
  }
}

/**
 * The stall timer of one GET: aborts it when the store brings less than
 * STALL_BYTES in `ms` of waiting; the caller's own signal aborts it too.
 */
class Stall {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private waited = 0;
  private bytes = 0;
  private since = 0;
  private readonly outer: () => void;

  constructor(readonly ms: number, private readonly caller?: AbortSignal) {
    this.outer = () => this.controller.abort(caller?.reason);
    if (caller?.aborted) this.outer();
    else caller?.addEventListener('abort', this.outer, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True when this GET was cut by the timer (not by the caller). */
  get stalled(): boolean {
    return this.controller.signal.aborted && !this.caller?.aborted;
  }

  waiting(): void {
    this.since = Date.now();
    this.timer ??= setTimeout(() => this.controller.abort(new Error(`nothing came from the store for ${this.ms} ms`)), Math.max(0, this.ms - this.waited));
  }

  got(n: number): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.waited += Date.now() - this.since;
    this.bytes += n;
    if (this.bytes >= STALL_BYTES) this.waited = this.bytes = 0;
  }

  end(): void {
    this.got(0);
    this.caller?.removeEventListener('abort', this.outer);
  }
}

/**
 * Bytes [start, end) in order; a broken or stalled connection is resumed
 * from the byte reached. The pauses start over only after RESET_PROGRESS
 * bytes since the last break (or the end of a shorter read), so a store
 * that keeps sending a little and dropping runs out of tries.
 */
async function* pieces(p: Pinned, start: number, end: number): AsyncGenerator<Buffer> {
  let at = start;
  let failures = 0;
  let lastFailureAt = start;
  while (at < end) {
    const stall = new Stall(stallMs(), p.signal);
    try {
      stall.waiting();
      const answer = await getRange(p.src, at, end - 1, stall.signal, p.etag);
      stall.got(0);
      for await (const b of bodyPieces(p, answer, at, end, stall)) {
        at += b.length;
        yield b;
      }
    } catch (err) {
      if (p.signal?.aborted) throw interrupted(p.src, err);
      if (at - lastFailureAt >= RESET_PROGRESS) failures = 0; // a long read survives many separate breaks
      lastFailureAt = at;
      if (!stall.stalled && !resumable(err)) throw err;
      if (failures >= RESUME_PAUSES_MS.length) throw brokeOff(p, at, err, stall, failures + 1);
      log('offsite').warn({ source: describeSource(p.src), at, stalled: stall.stalled, retryInMs: pauseMs(failures), error: (err as Error).message?.slice(0, 120) }, 'read from the store broke off; resuming');
      await delay(pauseMs(failures++), undefined, { signal: p.signal }).catch(() => {});
    } finally {
      stall.end();
    }
  }
}

/** The one plain line when the store did not give the bytes after every pause. */
function brokeOff(p: Pinned, at: number, err: unknown, stall: Stall, tries: number): LrError {
  if (stall.stalled) return stalledError(p.src, stall.ms, { byte: at, size: p.size, tries });
  if (err instanceof LrError && err.cause === undefined) return err;
  const cause = err instanceof LrError ? err.cause : err;
  const why = (cause as NodeJS.ErrnoException)?.code ?? (cause as Error)?.message ?? String(cause);
  return new LrError('LR_IO', `Reading ${describeSource(p.src)} broke off at byte ${at} of ${p.size} and the store did not answer again (${why}). Check the network, then try again.`, { cause: err });
}
