import type { MomentFacts } from '../format/header.js';
import type { DamageReport } from '../format/reader.js';
import type { LostRange } from './clean-rows.js';
import type { ObjectKind } from '../archive/layout.js';
import { MAIN_TABLES } from '../opendental/main-tables.js';
import type { EngineNote } from './server-notes.js';
import type { CollationMapping, OptionDropped } from './server-names.js';

export type TableStatus = 'restored' | 'partial' | 'failed' | 'missing' | 'skipped';

export interface TableOutcome {
  name: string;
  status: TableStatus;
  /** From the backup's own summary (or manifest); null when both were lost. */
  rowsExpected: number | null;
  /** The server's own count of rows it stored. */
  rowsRestored: number;
  rowsLost: number | null;
  /** The catalog's estimate of the table's rows (from the server's statistics), given where the exact count was lost. */
  rowsEstimate?: number;
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
  /** `moment`: whether the backup is one moment of the database (null: the file does not say). */
  backup: { file: string; createdAt: string; admin: { userNum: number; userName: string; lastLoginAt: string | null }; moment?: MomentFacts | null };
  tables: TableOutcome[];
  objects: Record<'views' | 'triggers' | 'routines' | 'events', { expected: number; restored: number }>;
  objectErrors: { kind: ObjectKind; name: string; error: string }[];
  /** Objects whose DEFINER in the file was replaced by the account in objectsRunAs (--keep-definers keeps those confined to the database). */
  definersReplaced: { kind: ObjectKind; name: string; definer: string }[];
  /**
   * The account the restored views, routines, triggers and events run as
   * (an account with rights on this database only, never the restoring
   * account when it has more), and why. commands.repointDefiners re-points them.
   */
  objectsRunAs?: { account: string; reason: string };
  /** Events are created disabled: nothing from a backup runs on a schedule until a person says so. */
  eventsDisabled: string[];
  /**
   * bytesLost counts damaged parts only. A file cut short does not record
   * its full length, and nothing read before the cut proves how much came
   * after it, so what was cut off is given no size at all.
   */
  damage: Pick<DamageReport, 'chunks' | 'damagedChunks' | 'bytesLost' | 'truncated' | 'headerCopyUsed'> & { damagedRanges: [number, number][] };
  /** Rows restored and lost over every table, as far as they are known (rowTotals). */
  rows?: RowTotals;
  /** The target's default_storage_engine differs from the tables' engine (kept as in the backup): the setting Open Dental's upgrade needs. */
  engineNote?: EngineNote;
  /**
   * Collation and character set names of the backup this server does not
   * know, each with the nearest it has that was used instead and where
   * (docs/collations.md); empty when every name was known.
   */
  collationsMapped: CollationMapping[];
  /** Table options of the other server family (MySQL 8 on MariaDB, and back) this server rejects: dropped, each named. */
  optionsDropped?: OptionDropped[];
  /** Lines about the target server (engine, collations, options), each a thing to know or do; also in every rendering. */
  serverNotes?: string[];
  durationMs: number;
  startedAt: string;
  /** The commands that repeat or resume this restore (no secrets in them). */
  commands: { resume: string; validate: string; enableEvents?: string; repointDefiners?: string };
  sandbox?: { dir: string; connectCommand: string; stopCommand: string };
}

/**
 * Rows restored and lost over all tables. `lost` is exact only when every
 * table's count survived; otherwise it is null and `lostCounted` sums the
 * tables whose loss is known, `uncountedTables` says how many are not.
 */
export interface RowTotals {
  restored: number;
  lost: number | null;
  lostCounted: number;
  uncountedTables: number;
}

export function rowTotals(tables: TableOutcome[]): RowTotals {
  const considered = tables.filter((t) => t.status !== 'skipped');
  const restored = considered.reduce((s, t) => s + t.rowsRestored, 0);
  const lostCounted = considered.reduce((s, t) => s + (t.rowsLost ?? 0), 0);
  const uncountedTables = considered.filter((t) => t.rowsLost === null).length;
  return { restored, lost: uncountedTables === 0 ? lostCounted : null, lostCounted, uncountedTables };
}

const INTEGER = /^-?\d+$/;

/**
 * The rows lost between two restored keys, as "rows with PatNum 5 to 9". The
 * bounds are the keys of the restored rows around the loss, so for a whole
 * number key the lost ones lie strictly between them. Open Dental's keys
 * (…Num) count from 1, so a loss at a table's start runs from 1.
 */
export function describeRange(r: LostRange): string {
  const fmt = (k: string[] | null) => (k === null ? null : k.length === 1 ? k[0] : `(${k.join(', ')})`);
  const col = r.columns.length === 1 ? r.columns[0] : `(${r.columns.join(', ')})`;
  if (r.columns.length === 1 && (r.after || r.before) && [r.after, r.before].every((k) => k === null || INTEGER.test(k[0]))) {
    const from = r.after ? BigInt(r.after[0]) + 1n : /Num$/.test(col) ? 1n : null;
    const to = r.before ? BigInt(r.before[0]) - 1n : null;
    if (from !== null && to !== null && from <= to) return `rows with ${col} ${from} to ${to}`;
    if (from !== null && to === null) return `rows with ${col} ${from} and above`;
    if (from === null && to !== null) return `rows with ${col} up to ${to}`;
  }
  const after = fmt(r.after);
  const before = fmt(r.before);
  if (after && before) return `rows with ${col} after ${after} and before ${before}`;
  if (after) return `rows with ${col} after ${after}`;
  if (before) return `rows with ${col} before ${before}`;
  return 'rows somewhere in the table';
}

/** Every lost range of a table; for Open Dental's main tables in words ("patients 10423 to 10588"). */
export function describeLoss(table: string, ranges: LostRange[] | undefined): string {
  const words = MAIN_TABLES[table];
  return (ranges ?? []).map((r) => {
    const text = describeRange(r);
    return words && r.columns.length === 1 && text.startsWith(`rows with ${r.columns[0]} `) ? `${words} ${text.slice(`rows with ${r.columns[0]} `.length)}` : text;
  }).join('; ');
}
