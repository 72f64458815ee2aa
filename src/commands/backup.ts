import { runBackup } from '../backup/index.js';
import { dsnFromArgument } from '../cli/password.js';
import { humanBytes, note, printJson, say } from '../cli/output.js';

export async function backupCommand(o: { source: string; dbPasswordFile?: string; out: string; exclude?: string[]; maxRate?: number; json?: boolean }): Promise<void> {
  const source = await dsnFromArgument(o.source, '--source', o.dbPasswordFile);
  const result = await runBackup({ source, outDir: o.out, exclude: o.exclude, maxRateBytesPerSec: o.maxRate });
  if (result.keyStale) note(`Note: ${result.admin.userName} changed their password after enrolling; this backup opens with the password they had then. Ask them to run: lastresort keys enroll --user ${result.admin.userName}`);
  if (o.json) {
    printJson({ file: result.file, database: result.database, admin: result.admin, tables: result.tables, rows: result.rows, bytes: result.bytes });
    return;
  }
  say(result.file);
  note(`Backed up ${result.tables} tables, ${result.rows} rows (${humanBytes(result.bytes)}) in ${(result.durationMs / 1000).toFixed(1)} s; it opens with ${result.admin.userName}'s password.`);
}
