/**
 * Plain words for what the target server refused. A full disk shows up under
 * several server codes (the table is full, a write failed with errno 28);
 * the person reads one sentence with the next step, the server's own
 * message goes to the log only.
 */
import { log } from '../log.js';
import { DISK_FULL_CODES, isDiskFullCode } from '../db/connect.js';

const DISK_FULL_IN_TEXT = new RegExp(`\\((?:${DISK_FULL_CODES.join('|')})\\)`);

export const TARGET_DISK_FULL = "the target server's disk is full: free space, then resume";


/** A table's problem as the report says it: a full disk in plain words, anything else as it was. */
export function plainTableError(error: string): string {
  return DISK_FULL_IN_TEXT.test(error) ? TARGET_DISK_FULL : error;
}

/** The sentence a report adds when the restore can still be finished. */
export function resumeAdvice(r: { resumable?: boolean; tables: { error?: string }[] }): string | null {
  if (!r.resumable) return null;
  if (r.tables.some((t) => t.error === TARGET_DISK_FULL)) return "The target server's disk is full: free space there, then resume with the command below; nothing restored so far is lost.";
  return 'The progress record is kept: once the problem above is fixed, resume with the command below; nothing restored so far is lost.';
}

/** The server's message for the log, with quoted values (row data) taken out. */
export function scrubValues(message: string | undefined): string | undefined {
  return message?.replace(/'(?:[^'\\]|\\.)*'/g, "'…'");
}

/**
 * The code a table's problem is reported with: ENOSPC for any form of a full
 * disk. The server's own message goes to the log here, never to the person.
 */
export function failureCode(err: unknown, table: string, diskFull = false): string {
  const e = err as { code?: string; errno?: number; sqlMessage?: string };
  log('restore').warn({ table, code: e.code, errno: e.errno, serverMessage: scrubValues(e.sqlMessage), diskFull }, 'the target server refused part of the restore');
  // diskFull: the statement was ended because it waited for disk space (disk-watch.ts).
  return diskFull || isDiskFullCode(e.code, e.sqlMessage) ? 'ENOSPC' : e.code ?? 'error';
}
