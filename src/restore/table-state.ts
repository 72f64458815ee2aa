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
  error?: string;
}

export function newTableState(index: number, name: string, table: CatalogTable | null, skipped: boolean): TableState {
  return { index, name, table, split: null, created: false, skipped, seen: false, expected: null, restored: 0, nextFirstRow: 0, tracker: null, damaged: false, finished: false };
}
