import type { DamageReport } from '../format/reader.js';
import type { LostRange } from './clean-rows.js';
import type { ObjectKind } from '../archive/layout.js';

export type TableStatus = 'restored' | 'partial' | 'failed' | 'missing' | 'skipped';

export interface TableOutcome {
  name: string;
  status: TableStatus;
  /** From the backup's own summary (or manifest); null when both were lost. */
  rowsExpected: number | null;
  /** The server's own count of rows it stored. */
  rowsRestored: number;
  rowsLost: number | null;
  lostKeyRanges?: LostRange[];
  error?: string;
}

export interface RestoreReport {
  outcome: 'complete' | 'partial' | 'failed';
  interrupted?: boolean;
  /**
   * The server refused part of the work (a full disk, a lost table): the
   * progress record is kept in the database, and after the cause is fixed
   * the resume command continues and completes the restore.
   */
  resumable?: boolean;
  database: string;
  target: string;
  backup: { file: string; createdAt: string; admin: { userNum: number; userName: string; lastLoginAt: string | null } };
  tables: TableOutcome[];
  objects: Record<'views' | 'triggers' | 'routines' | 'events', { expected: number; restored: number }>;
  objectErrors: { kind: ObjectKind; name: string; error: string }[];
  damage: Pick<DamageReport, 'chunks' | 'damagedChunks' | 'bytesLost' | 'truncated' | 'headerCopyUsed'> & { damagedRanges: [number, number][] };
  durationMs: number;
  startedAt: string;
  /** The commands that repeat or resume this restore (no secrets in them). */
  commands: { resume: string; validate: string };
  sandbox?: { dir: string; connectCommand: string; stopCommand: string };
}

export function describeRange(r: LostRange): string {
  const fmt = (k: string[] | null) => (k === null ? null : k.length === 1 ? k[0] : `(${k.join(', ')})`);
  const col = r.columns.length === 1 ? r.columns[0] : `(${r.columns.join(', ')})`;
  const after = fmt(r.after);
  const before = fmt(r.before);
  if (after && before) return `${col} after ${after} and before ${before}`;
  if (after) return `${col} after ${after}`;
  if (before) return `${col} before ${before}`;
  return `somewhere in the table`;
}
