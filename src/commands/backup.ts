import { runBackup } from '../backup/index.js';
import { dsnFromArgument } from '../cli/password.js';
import { note, printJson, say } from '../cli/output.js';
import { humanBytes } from '../text.js';
import { ratioOf } from '../identify/sizes.js';
import { onInterrupt } from '../cli/interrupt.js';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LrError } from '../errors.js';
import { safeText } from '../text.js';

/**
 * `--out` is the folder the backup goes into (its file name is made from the
 * database and the time): a path that is a file, or lies under one, is said
 * in one line before anything is read, never an internal error from mkdir.
 */
async function checkOutFolder(out: string): Promise<void> {
  for (let path = out; ; path = dirname(path)) {
    const st = await stat(path).catch(() => null);
    if (st && !st.isDirectory()) {
      const what = path === out ? `${safeText(out, 200)} is a file, not a folder` : `${safeText(path, 200)} (in --out ${safeText(out, 200)}) is a file, not a folder`;
      throw new LrError('LR_USAGE', `--out names the folder to write the backup into, and ${what}. Give a folder (it is made if it does not exist); the file's name is made from the database and the time.`);
    }
    if (st || dirname(path) === path) return;
  }
}

export async function backupCommand(o: { source: string; dbPasswordFile?: string; out: string; exclude?: string[]; maxRate?: number; producerKey?: string; json?: boolean; lockWait?: number; lockWindow?: number }): Promise<void> {
  checkSeconds('--lock-wait', o.lockWait, 1, 3600);
  checkSeconds('--lock-window', o.lockWindow, 0, 86_400);
  await checkOutFolder(o.out);
  const source = await dsnFromArgument(o.source, '--source', o.dbPasswordFile);
  // Ctrl-C or SIGTERM: stop cleanly, leaving no file (as `daemon --once` does).
  const stop = new AbortController();
  const release = onInterrupt(() => stop.abort());
  let result;
  try {
    result = await runBackup({ source, outDir: o.out, exclude: o.exclude, maxRateBytesPerSec: o.maxRate, producerKeyFile: o.producerKey, lockWaitSeconds: o.lockWait, lockWindowSeconds: o.lockWindow, signal: stop.signal });
  } finally {
    release();
  }
  for (const p of result.problems) note(`Note: ${p.message}`);
  if (o.json) {
    printJson({ file: result.file, database: result.database, admin: result.admin, tables: result.tables, rows: result.rows, bytes: result.bytes, uncompressedBytes: result.uncompressedBytes, compressedBytes: result.compressedBytes, ratio: ratioOf(result.uncompressedBytes, result.bytes), oneMoment: result.oneMoment, notOneMoment: result.notOneMoment, writesHeldMs: result.writesHeldMs, tablesHeld: result.tablesHeld });
    return;
  }
  say(result.file);
  const opens = [result.admin ? `${result.admin.userName}'s password` : null, result.recovery ? 'the practice recovery code' : null].filter(Boolean).join(' or ');
  note(`Backed up ${result.tables} tables, ${result.rows} rows (${humanBytes(result.bytes)}, ${humanBytes(result.uncompressedBytes)} uncompressed) in ${(result.durationMs / 1000).toFixed(1)} s; it opens with ${opens}.`);
  note(momentLine(result));
}

function checkSeconds(flag: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= min && value <= max)) throw new LrError('LR_USAGE', `${flag} must be a number of seconds from ${min} to ${max}.`);
}

/** One line on the moment: how long the office's writes waited, or why the file is not one moment. */
export function momentLine(r: { oneMoment: boolean; notOneMoment: string | null; writesHeldMs: number; tablesHeld: string[] }): string {
  if (!r.oneMoment) return `Warning: this backup is not one moment of the database (${r.notOneMoment}); its tables may not agree with each other.`;
  if (r.tablesHeld.length === 0) return 'It is one moment of the database (InnoDB snapshot; no table was locked).';
  return `It is one moment of the database; writes to its ${r.tablesHeld.length} MyISAM/Aria tables waited at most ${(r.writesHeldMs / 1000).toFixed(1)} s.`;
}
