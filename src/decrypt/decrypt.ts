import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { DamageReport, Segment } from '../format/reader.js';
import { dirname } from 'node:path';
import { unlinkSync } from 'node:fs';
import { removeStaleTemps, writeAtomic } from '../system/atomic-file.js';
import { log } from '../log.js';
import { payloadOf, type OpenedBackup } from './open.js';
import { ERROR_CODES, LrError } from '../errors.js';
import { diskFullLine } from '../backup/space.js';

export interface DecryptResult {
  out: string;
  bytes: number;
  damage: DamageReport;
}

/** Plaintext bytes in order; a lost chunk becomes zeros of its exact length, so tar offsets stay right. */
async function* plaintextBytes(segments: AsyncIterable<Segment>, counter: { bytes: number }): AsyncGenerator<Buffer> {
  const ZERO = Buffer.alloc(64 * 1024);
  for await (const s of segments) {
    if (s.data) {
      counter.bytes += s.data.length;
      yield s.data;
    } else {
      for (let left = s.hole; left > 0; left -= ZERO.length) {
        const n = Math.min(left, ZERO.length);
        counter.bytes += n;
        yield ZERO.subarray(0, n);
      }
    }
  }
}

/**
 * Writes the decrypted tar to `out` ("-" for stdout), streaming. A file is
 * written under a temporary name with mode 0600 and moved into place when
 * complete; an existing `out` is replaced only with `replace`. A device or
 * FIFO (/dev/null, a pipe) is written into in place, never replaced.
 */
export async function decryptToFile(opened: OpenedBackup, out: string, opts: { replace?: boolean } = {}): Promise<DecryptResult> {
  const { segments, damage } = payloadOf(opened);
  const counter = { bytes: 0 };
  const source = Readable.from(plaintextBytes(segments, counter), { objectMode: false });
  if (out === '-') {
    await pipeline(source, process.stdout as Writable, { end: false });
    return { out, bytes: counter.bytes, damage };
  }
  const stale = await removeStaleTemps(out);
  if (stale.length > 0) log('decrypt').warn({ removed: stale }, 'removed decrypted temporaries left by a killed run');
  const guard = removeOnSignal();
  try {
    await writeAtomic(out, async (fh) => {
      for await (const piece of source) await fh.write(piece);
    }, { replace: opts.replace ?? false, onTemp: guard.track });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      const needed = opened.located.fileBytes; // the tar is about the size of the backup
      throw new LrError('LR_IO', await diskFullLine(dirname(out), needed, 'decrypted file'), { cause: err });
    }
    throw err;
  } finally {
    guard.release();
  }
  return { out, bytes: counter.bytes, damage };
}

/**
 * The half-written file is decrypted patient data: on Ctrl-C, SIGTERM or a
 * closed terminal it is removed (synchronously: the process ends right after)
 * before exiting with the interrupted code. Only SIGKILL and power cuts
 * leave it, and the next decrypt to the same name removes it (removeStaleTemps).
 */
function removeOnSignal(): { track: (tmp: string | null) => void; release: () => void } {
  let current: string | null = null;
  const handler = (signal: NodeJS.Signals) => {
    if (current) {
      try {
        unlinkSync(current);
      } catch {
        // already gone
      }
    }
    // Written into a device or FIFO, there is no temporary file, and nothing of the target is removed.
    process.stderr.write(`lastresort: stopped (${signal})${current ? '; the partly decrypted file was removed' : ''}.\n`);
    process.exit(ERROR_CODES.LR_INTERRUPTED);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, handler);
  return {
    track: (tmp) => {
      current = tmp;
    },
    release: () => {
      for (const s of signals) process.off(s, handler);
    },
  };
}
