/** What the restore knows of one table while it runs; outcome.ts turns it into the table's report line. */
import type { CatalogTable } from '../archive/layout.js';
import type { SplitSchema } from '../sql/create-table.js';
import type { LossTracker } from './clean-rows.js';

export interface TableState {
  index: number;
  name: string;
  table: CatalogTable | null;
  split: SplitSchema | null;
  created: boolean;
  skipped: boolean;
  seen: boolean;
  /** Rows the backup's summary counts; null until the summary is read (or when it was lost). */
  expected: number | null;
  restored: number;
  /** The row number the next data piece should start at: a gap means rows were lost. */
  nextFirstRow: number;
  tracker: LossTracker | null;
  damaged: boolean;
  finished: boolean;
  /** This pass turned the table's non-unique indexes off (MyISAM, Aria): they are built by sort once its rows are in. */
  keysDisabled: boolean;
  /** Its indexes were left by an earlier pass that may have been cut in the middle of a build: rebuilt from the rows before use. */
  keysUntrusted: boolean;
  error?: string;
}

/** Engines whose non-unique indexes are built by sort after the rows (`DISABLE KEYS` / `ENABLE KEYS`), never row by row nor by `ADD INDEX`. */
const SORT_INDEXED = new Set(['myisam', 'aria']);

export function sortIndexed(s: TableState): boolean {
  return SORT_INDEXED.has((s.table?.engine ?? '').toLowerCase());
}

export function newTableState(index: number, name: string, table: CatalogTable | null, skipped: boolean): TableState {
  return { index, name, table, split: null, created: false, skipped, seen: false, expected: null, restored: 0, nextFirstRow: 0, tracker: null, damaged: false, finished: false, keysDisabled: false, keysUntrusted: false };
}
