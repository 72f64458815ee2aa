import { runBackup } from '../backup/index.js';
import { parseDsn } from '../db/dsn.js';
import { humanBytes, note, printJson, say } from '../cli/output.js';
import { onInterrupt } from '../cli/interrupt.js';

export async function backupCommand(o: { source: string; out: string; exclude?: string[]; maxRate?: number; json?: boolean }): Promise<void> {
  const source = parseDsn(o.source);
  // Ctrl-C or SIGTERM: stop cleanly, leaving no file (as `daemon --once` does).
  const stop = new AbortController();
  const release = onInterrupt(() => stop.abort());
  let result;
  try {
    result = await runBackup({ source, outDir: o.out, exclude: o.exclude, maxRateBytesPerSec: o.maxRate, signal: stop.signal });
  } finally {
    release();
  }
  if (result.keyStale) note(`Note: ${result.admin.userName} changed their password after enrolling; this backup opens with the password they had then. Ask them to run: lastresort keys enroll --user ${result.admin.userName}`);
  if (o.json) {
    printJson({ file: result.file, database: result.database, admin: result.admin, tables: result.tables, rows: result.rows, bytes: result.bytes });
    return;
  }
  say(result.file);
  note(`Backed up ${result.tables} tables, ${result.rows} rows (${humanBytes(result.bytes)}) in ${(result.durationMs / 1000).toFixed(1)} s; it opens with ${result.admin.userName}'s password.`);
}
