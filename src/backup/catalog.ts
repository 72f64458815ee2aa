/**
 * Reads what a dump is about to contain, inside the snapshot transaction:
 * base tables with their data columns and primary keys, and the schema
 * objects (views, triggers, routines, events) with their CREATE statements.
 */
import type { Connection } from '../db/connect.js';
import { quoteId } from '../db/connect.js';
import { LrError } from '../errors.js';
import { safeText } from '../text.js';
import type { Catalog, CatalogTable, ColumnInfo, ObjectDefinition } from '../archive/layout.js';
import { selectOne, selectRows } from '../db/query.js';

/** Values of these types travel as HEX() text: their text form does not load back. */
export const HEX_TYPES = new Set(['bit', 'geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection']);

/** Tables that belong to lastresort's own restore bookkeeping, never to the practice's data. */
export const INTERNAL_TABLES = new Set(['_lastresort_restore']);

type Row = Record<string, unknown>;

export async function readCatalog(conn: Connection, database: string, opts: { exclude?: string[]; createdAt: string }): Promise<Catalog> {
  const exclude = new Set(opts.exclude ?? []);
  const dbRow = (await selectOne<Row>(conn, 'SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]))!;
  const ver = (await selectOne<Row>(conn, 'SELECT VERSION() AS v'))!;
  const tableRows = await selectRows<Row>(conn, 
    "SELECT TABLE_NAME AS name, ENGINE AS engine, TABLE_ROWS AS estimate FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    [database],
  );
  const columnRows = await selectRows<Row>(conn, 
    "SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS dt, IS_GENERATED AS gen, EXTRA AS extra FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION",
    [database],
  );
  const keyRows = await selectRows<Row>(conn, 
    "SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND INDEX_NAME = 'PRIMARY' ORDER BY TABLE_NAME, SEQ_IN_INDEX",
    [database],
  );

  const columns = new Map<string, ColumnInfo[]>();
  for (const r of columnRows) {
    const generated = r.gen === 'ALWAYS' || /VIRTUAL|STORED|PERSISTENT/i.test(String(r.extra ?? ''));
    if (generated) continue;
    const dataType = String(r.dt).toLowerCase();
    const list = columns.get(String(r.t)) ?? [];
    list.push({ name: String(r.c), dataType, encoding: HEX_TYPES.has(dataType) ? 'hex' : 'text' });
    columns.set(String(r.t), list);
  }
  const keys = new Map<string, string[]>();
  for (const r of keyRows) keys.set(String(r.t), [...(keys.get(String(r.t)) ?? []), String(r.c)]);

  const tables: CatalogTable[] = [];
  for (const r of tableRows) {
    const name = String(r.name);
    if (exclude.has(name) || INTERNAL_TABLES.has(name)) continue;
    tables.push({ index: tables.length + 1, name, engine: r.engine === null ? null : String(r.engine), columns: columns.get(name) ?? [], primaryKey: keys.get(name) ?? [], rowsEstimate: Number(r.estimate ?? 0), create: await showCreateTable(conn, name) });
  }
  const objects = (await readObjects(conn, database)).map(({ kind, name, type }) => ({ kind, name, ...(type ? { type } : {}) }));
  return {
    database,
    charset: String(dbRow?.cs ?? 'utf8mb4'),
    collation: String(dbRow?.co ?? 'utf8mb4_general_ci'),
    serverVersion: String(ver.v),
    createdAt: opts.createdAt,
    tables,
    objects,
  };
}

export async function showCreateTable(conn: Connection, table: string): Promise<string> {
  const row = (await selectOne<Row>(conn, `SHOW CREATE TABLE ${quoteId(table)}`))!;
  return String(row['Create Table']);
}

/** Views, triggers, routines and events with their CREATE statements, in an order that restores. */
export async function readObjects(conn: Connection, database: string): Promise<ObjectDefinition[]> {
  const out: ObjectDefinition[] = [];
  const names = (sql: string) => selectRows<Row>(conn, sql, [database]);

  // Views may use views: the server's dependency order is unknown here, so the
  // restorer retries failures until no progress is made.
  for (const v of await names("SELECT TABLE_NAME AS name FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME")) {
    const row = (await selectOne<Row>(conn, `SHOW CREATE VIEW ${quoteId(String(v.name))}`))!;
    out.push({ kind: 'view', name: String(v.name), create: String(row['Create View']), characterSetClient: String(row.character_set_client), collationConnection: String(row.collation_connection) });
  }
  for (const r of await names("SELECT ROUTINE_NAME AS name, ROUTINE_TYPE AS type FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY ROUTINE_TYPE, ROUTINE_NAME")) {
    const type = String(r.type);
    const row = (await selectOne<Row>(conn, `SHOW CREATE ${type === 'FUNCTION' ? 'FUNCTION' : 'PROCEDURE'} ${quoteId(String(r.name))}`))!;
    const create = row[type === 'FUNCTION' ? 'Create Function' : 'Create Procedure'];
    // The server lists a routine it will not show to a user without the right to read its body: refuse
    // rather than write a backup without it (mysqldump --routines stops here too).
    if (create === null || create === undefined) {
      throw new LrError('LR_DB_ACCESS', `The database user may not read the definition of ${type.toLowerCase()} ${safeText(String(r.name), 64)}, so the backup would lack it; no backup was written. Allow it (MariaDB: GRANT SELECT ON mysql.proc; MySQL 8: GRANT SHOW_ROUTINE) or back up as a user who may.`);
    }
    out.push({ kind: 'routine', name: String(r.name), type, create: String(create), sqlMode: String(row.sql_mode), characterSetClient: String(row.character_set_client), collationConnection: String(row.collation_connection) });
  }
  for (const t of await names("SELECT TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS tbl FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? ORDER BY EVENT_OBJECT_TABLE, ACTION_ORDER")) {
    const row = (await selectOne<Row>(conn, `SHOW CREATE TRIGGER ${quoteId(String(t.name))}`))!;
    out.push({ kind: 'trigger', name: String(t.name), table: String(t.tbl), create: String(row['SQL Original Statement']), sqlMode: String(row.sql_mode), characterSetClient: String(row.character_set_client), collationConnection: String(row.collation_connection) });
  }
  for (const e of await names("SELECT EVENT_NAME AS name FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? ORDER BY EVENT_NAME")) {
    const row = (await selectOne<Row>(conn, `SHOW CREATE EVENT ${quoteId(String(e.name))}`))!;
    out.push({ kind: 'event', name: String(e.name), create: String(row['Create Event']), sqlMode: String(row.sql_mode), characterSetClient: String(row.character_set_client), collationConnection: String(row.collation_connection) });
  }
  return out;
}
