/**
 * Key ranges: a big table cut into stretches of its primary key, so that
 * several connections can read one table at once (src/backup/range-reader.ts).
 *
 * Only a single-column integer key is cut, by value: MIN and MAX come from
 * the index at once, and the stretch between them is divided by the number of
 * ranges the table's estimated size calls for. Keys are seldom evenly spread,
 * so ranges come out uneven; that costs parallelism, never correctness or
 * memory: the first range has no lower bound, the last no upper bound, so
 * together they cover every key, and a reader never holds more than a few
 * pieces of a range ahead of the one being written.
 */
import type { Connection } from './connect.js';
import { quoteId } from './connect.js';
import type { CatalogTable } from '../archive/layout.js';
import { selectRows } from './query.js';

/** `from <= key < to`; null is unbounded. */
export interface KeyRange {
  from: bigint | null;
  to: bigint | null;
}

export const WHOLE_TABLE: KeyRange = { from: null, to: null };

const INTEGER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint']);
/** Bounds the number of queries (and of partly filled pieces) per table. */
const MAX_RANGES = 4096;
/** A guess for tables whose size the server does not know. */
const DEFAULT_ROW_BYTES = 200;

/** The server's estimate of each table's bytes (information_schema DATA_LENGTH; cheap, approximate). */
export async function tableBytes(conn: Connection, database: string): Promise<Map<string, number>> {
  const rows = await selectRows<Record<string, unknown>>(conn, "SELECT TABLE_NAME AS t, DATA_LENGTH AS b FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'", [database]);
  return new Map(rows.map((r) => [String(r.t), Number(r.b ?? 0)]));
}

/** The column a table can be cut along, or null. */
export function rangeKey(table: CatalogTable): string | null {
  if (table.primaryKey.length !== 1) return null;
  const column = table.columns.find((c) => c.name === table.primaryKey[0]);
  return column && column.encoding === 'text' && INTEGER_TYPES.has(column.dataType) ? column.name : null;
}

/**
 * Ranges of about `targetBytes` each, in key order, covering the whole table.
 * Reads MIN and MAX of the key on `conn`, inside the dump's snapshot.
 */
export async function planRanges(conn: Connection, table: CatalogTable, dataBytes: number | undefined, targetBytes: number): Promise<KeyRange[]> {
  const key = rangeKey(table);
  if (!key || targetBytes <= 0) return [WHOLE_TABLE];
  const bytes = dataBytes && dataBytes > 0 ? dataBytes : table.rowsEstimate * DEFAULT_ROW_BYTES;
  const wanted = Math.min(MAX_RANGES, Math.ceil(bytes / targetBytes));
  if (wanted < 2) return [WHOLE_TABLE];

  const result = await selectRows<unknown[]>(conn, { sql: `SELECT MIN(${quoteId(key)}), MAX(${quoteId(key)}) FROM ${quoteId(table.name)}`, rowsAsArray: true });
  const [min, max] = result[0] ?? [];
  if (min === null || min === undefined || max === null || max === undefined) return [WHOLE_TABLE];
  return cutRanges(BigInt(String(min)), BigInt(String(max)), wanted);
}

/** `parts` ranges of equal width over [min, max], the outer ones unbounded. */
export function cutRanges(min: bigint, max: bigint, parts: number): KeyRange[] {
  const span = max - min + 1n;
  const count = BigInt(parts) > span ? span : BigInt(parts);
  if (count < 2n) return [WHOLE_TABLE];
  const step = (span + count - 1n) / count;
  const bounds: bigint[] = [];
  for (let b = min + step; b <= max; b += step) bounds.push(b);
  if (bounds.length === 0) return [WHOLE_TABLE];
  const ranges: KeyRange[] = [{ from: null, to: bounds[0] }];
  for (let i = 1; i < bounds.length; i++) ranges.push({ from: bounds[i - 1], to: bounds[i] });
  ranges.push({ from: bounds[bounds.length - 1], to: null });
  return ranges;
}

/** The WHERE clause of a range (empty for the whole table); the bounds are numbers this module made. */
export function rangeCondition(column: string, range: KeyRange): string {
  const parts: string[] = [];
  if (range.from !== null) parts.push(`${quoteId(column)} >= ${range.from.toString()}`);
  if (range.to !== null) parts.push(`${quoteId(column)} < ${range.to.toString()}`);
  return parts.length > 0 ? ` WHERE ${parts.join(' AND ')}` : '';
}
