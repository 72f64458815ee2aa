import { runBackup } from '../backup/index.js';
import { dsnFromArgument } from '../cli/password.js';
import { note, printJson, say } from '../cli/output.js';
import { humanBytes } from '../text.js';
import { ratioOf } from '../identify/sizes.js';
import { onInterrupt } from '../cli/interrupt.js';

export async function backupCommand(o: { source: string; dbPasswordFile?: string; out: string; exclude?: string[]; maxRate?: number; producerKey?: string; json?: boolean }): Promise<void> {
  const source = await dsnFromArgument(o.source, '--source', o.dbPasswordFile);
  // Ctrl-C or SIGTERM: stop cleanly, leaving no file (as `daemon --once` does).
  const stop = new AbortController();
  const release = onInterrupt(() => stop.abort());
  let result;
  try {
    result = await runBackup({ source, outDir: o.out, exclude: o.exclude, maxRateBytesPerSec: o.maxRate, producerKeyFile: o.producerKey, signal: stop.signal });
  } finally {
    release();
  }
  for (const p of result.problems) note(`Note: ${p.message}`);
  if (o.json) {
    printJson({ file: result.file, database: result.database, admin: result.admin, tables: result.tables, rows: result.rows, bytes: result.bytes, uncompressedBytes: result.uncompressedBytes, compressedBytes: result.compressedBytes, ratio: ratioOf(result.uncompressedBytes, result.bytes) });
    return;
  }
  say(result.file);
  const opens = [result.admin ? `${result.admin.userName}'s password` : null, result.recovery ? 'the practice recovery code' : null].filter(Boolean).join(' or ');
  note(`Backed up ${result.tables} tables, ${result.rows} rows (${humanBytes(result.bytes)}, ${humanBytes(result.uncompressedBytes)} uncompressed) in ${(result.durationMs / 1000).toFixed(1)} s; it opens with ${opens}.`);
}
