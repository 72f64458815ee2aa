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
  database: string;
  target: string;
  backup: { file: string; createdAt: string; admin: { userNum: number; userName: string; lastLoginAt: string | null } };
  tables: TableOutcome[];
  objects: Record<'views' | 'triggers' | 'routines' | 'events', { expected: number; restored: number }>;
  objectErrors: { kind: ObjectKind; name: string; error: string }[];
  /** Objects whose DEFINER in the file was replaced by the restoring account (--keep-definers keeps them). */
  definersReplaced: { kind: ObjectKind; name: string; definer: string }[];
  /** Events are created disabled: nothing from a backup runs on a schedule until a person says so. */
  eventsDisabled: string[];
  damage: Pick<DamageReport, 'chunks' | 'damagedChunks' | 'bytesLost' | 'truncated' | 'headerCopyUsed'> & { damagedRanges: [number, number][] };
  durationMs: number;
  startedAt: string;
  /** The commands that repeat or resume this restore (no secrets in them). */
  commands: { resume: string; validate: string; enableEvents?: string };
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
