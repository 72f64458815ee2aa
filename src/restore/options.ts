import type { Dsn } from '../db/dsn.js';
import type { OpenedBackup } from '../decrypt/open.js';
import type { DamageReport } from '../format/reader.js';
import type { Catalog, Manifest, ObjectDefinition, TableSummary } from '../archive/layout.js';

export interface RestoreProgress {
  table: string | null;
  tablesDone: number;
  tables: number;
  rows: number;
  /** Plaintext read so far, and the file size as the estimate of the whole. */
  bytes: number;
  totalBytes: number;
}

/**
 * What the restore parsed of the backup besides the rows (the catalog whole
 * or null, every table's summary in file order, the objects, the manifest) and
 * the damage it met: a validation that follows takes it instead of reading the
 * file again.
 */
export interface ParsedBackup {
  catalog: Catalog | null;
  summaries: TableSummary[];
  objects: ObjectDefinition[];
  manifest: Manifest | null;
  damage: Pick<DamageReport, 'damagedChunks' | 'truncated'>;
}

export interface RestoreOptions {
  opened: OpenedBackup;
  /** Server and database to restore into (database required). */
  dsn: Dsn;
  tables?: string[];
  exclude?: string[];
  force?: boolean;
  resume?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: RestoreProgress) => void;
  /** How often a dropped connection is retried by resuming (default 3). */
  retries?: number;
  /** Tables loaded at once (default 2); 1 reads the file in order. */
  lanes?: number;
  /** Keep the DEFINER of views, routines, triggers and events as the file has it (default: the restoring account). */
  keepDefiners?: boolean;
  /** Called once the restore has read the whole file, with what it parsed (see ParsedBackup). */
  onParsed?: (parsed: ParsedBackup) => void;
}
