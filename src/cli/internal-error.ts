/**
 * A bug in lastresort (an error that is neither one of ours, with a code,
 * nor the server's) is said as such, never as a problem with the backup or
 * the server, and its detail is written where support can read it: the log
 * file when there is one, else a file of its own (mode 0600). Messages and
 * stacks are scrubbed of quoted values, which may hold row content.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { safeText } from '../text.js';
import { makePrivate } from '../system/private-file.js';

/** Server messages can quote row values ("Duplicate entry 'Smith' ..."): keep their shape, not the data. */
export const scrubQuoted = (text: string | undefined) => text?.replace(/'(?:[^'\\]|\\.)*'/g, "'…'");

export function describeCause(cause: unknown): unknown {
  if (!(cause instanceof Error)) return undefined;
  const e = cause as Error & { code?: string; errno?: number; sqlMessage?: string };
  return { name: e.name, message: scrubQuoted(e.message), code: e.code, errno: e.errno, sqlMessage: scrubQuoted(e.sqlMessage), stack: scrubQuoted(e.stack) };
}

/** The line a person sees; `logFile` is where the detail went (written here when no log file was given). */
export function internalErrorLine(err: unknown, logFile: string | undefined, dir = tmpdir()): string {
  let where = logFile;
  if (!where) {
    where = join(dir, `lastresort-error-${process.pid}-${Date.now()}.json`);
    try {
      writeFileSync(where, JSON.stringify({ at: new Date().toISOString(), error: describeCause(err) }, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
      makePrivate(where);
    } catch {
      where = undefined;
    }
  }
  const what = safeText((scrubQuoted((err as Error)?.message) ?? String(err)).split('\n')[0], 120);
  return `lastresort hit an internal error (a fault in this program, not in your backup or your server): ${what}. ` + (where ? `The detail is in ${where}; send that file to support.` : 'Run again with --log-file FILE and send that file to support.');
}
