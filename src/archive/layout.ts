/**
 * What the plaintext tar holds, in this order (docs/format.md, "Payload"):
 *
 *   catalog.json                       what is about to be dumped
 *   tables/NNNNN/schema.sql            CREATE TABLE, as SHOW CREATE TABLE gave it
 *   tables/NNNNN/data/PPPPPP.tsv       rows in LOAD DATA text form, whole rows only
 *   tables/NNNNN/summary.json          row count and content checksum
 *   objects/(view|trigger|routine|event)/NNNNN.json
 *   manifest.json                      every summary again, written last
 *
 * Table names never appear in paths (they may hold any character); they are
 * in the catalog and in each entry's pax record "LR.table".
 */
export const CATALOG_PATH = 'catalog.json';
export const MANIFEST_PATH = 'manifest.json';

export type ColumnEncoding = 'text' | 'hex';

export interface ColumnInfo {
  name: string;
  /** information_schema DATA_TYPE, e.g. varchar, bit, point */
  dataType: string;
  /** 'text': the value as the server prints it; 'hex': HEX() on dump, UNHEX() on load (BIT, spatial). */
  encoding: ColumnEncoding;
}

export interface CatalogTable {
  index: number;
  name: string;
  engine: string | null;
  /** Columns that hold data, in order: generated columns are left to the server. */
  columns: ColumnInfo[];
  primaryKey: string[];
  rowsEstimate: number;
  /** CREATE TABLE again (also in schema.sql): either copy lets the table be made if the other is lost. */
  create: string;
}

export type ObjectKind = 'view' | 'trigger' | 'routine' | 'event';

export interface CatalogObject {
  kind: ObjectKind;
  name: string;
  /** For routines: PROCEDURE or FUNCTION */
  type?: string;
}

export interface Catalog {
  database: string;
  charset: string;
  collation: string;
  serverVersion: string;
  createdAt: string;
  tables: CatalogTable[];
  objects: CatalogObject[];
}

export interface TableChecksum {
  /** sha256 over the encoded rows in primary-key order, or the sum of per-row sha256 for tables without one. */
  algorithm: 'sha256-ordered' | 'sha256-rowsum';
  value: string;
}

export interface TableSummary {
  index: number;
  name: string;
  rows: number;
  bytes: number;
  pieces: number;
  checksum: TableChecksum;
}

export interface ObjectDefinition extends CatalogObject {
  /** The CREATE statement as the server reported it. */
  create: string;
  sqlMode?: string;
  characterSetClient?: string;
  collationConnection?: string;
  /** For triggers: the table they belong to. */
  table?: string;
}

export interface Manifest {
  completedAt: string;
  tables: TableSummary[];
  objects: { kind: ObjectKind; name: string }[];
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');
export const tableDir = (index: number) => `tables/${pad(index, 5)}`;
export const schemaPath = (index: number) => `${tableDir(index)}/schema.sql`;
export const dataPath = (index: number, piece: number) => `${tableDir(index)}/data/${pad(piece, 6)}.tsv`;
export const summaryPath = (index: number) => `${tableDir(index)}/summary.json`;
export const objectPath = (kind: ObjectKind, n: number) => `objects/${kind}/${pad(n, 5)}.json`;

export type EntryRole =
  | { role: 'catalog' }
  | { role: 'manifest' }
  | { role: 'schema'; table: number }
  | { role: 'data'; table: number; piece: number }
  | { role: 'summary'; table: number }
  | { role: 'object'; kind: ObjectKind; n: number }
  | { role: 'unknown' };

export function roleOf(path: string): EntryRole {
  if (path === CATALOG_PATH) return { role: 'catalog' };
  if (path === MANIFEST_PATH) return { role: 'manifest' };
  let m = /^tables\/(\d{5})\/(schema\.sql|summary\.json|data\/(\d{6})\.tsv)$/.exec(path);
  if (m) {
    const table = Number(m[1]);
    if (m[2] === 'schema.sql') return { role: 'schema', table };
    if (m[2] === 'summary.json') return { role: 'summary', table };
    return { role: 'data', table, piece: Number(m[3]) };
  }
  m = /^objects\/(view|trigger|routine|event)\/(\d{5})\.json$/.exec(path);
  if (m) return { role: 'object', kind: m[1] as ObjectKind, n: Number(m[2]) };
  return { role: 'unknown' };
}

/** pax records on data pieces: enough to account for a piece whose neighbours are lost. */
export const PAX_TABLE = 'LR.table';
export const PAX_ROWS = 'LR.rows';
export const PAX_FIRST_ROW = 'LR.firstRow';
