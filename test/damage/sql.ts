/**
 * SQL the damage checks share (and bench/damage.ts, which must not load
 * the test helpers): row counts, and rows with no byte-identical source row.
 */
import { quoteId, type Connection } from '../../src/db/connect.js';

type Row = Record<string, unknown>;

export async function query(conn: Connection, sql: string, params: unknown[] = []): Promise<Row[]> {
  const [r] = await conn.query(sql, params);
  return r as Row[];
}

export async function rowCounts(conn: Connection, db: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const tables = await query(conn, `SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'`, [db]);
  for (const { t } of tables) {
    const [r] = await query(conn, `SELECT COUNT(*) AS n FROM ${quoteId(db)}.${quoteId(String(t))}`);
    out.set(String(t), Number(r!.n));
  }
  return out;
}

/**
 * Rows of `target`.`table` with no byte-identical row in `source`: every
 * column NULL-safe equal and equal in HEX (collations ignore case and
 * trailing spaces; HEX does not). The primary key narrows the search.
 */
export async function wrongRows(conn: Connection, source: string, target: string, table: string): Promise<number> {
  const cols = await query(conn, `SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, [source, table]);
  const pk = await query(conn, `SELECT COLUMN_NAME AS c FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY'`, [source, table]);
  const eq = [
    ...pk.map(({ c }) => `s.${quoteId(String(c))} = r.${quoteId(String(c))}`),
    ...cols.map(({ c }) => {
      const q = quoteId(String(c));
      return `s.${q} <=> r.${q} AND HEX(s.${q}) <=> HEX(r.${q})`;
    }),
  ].join(' AND ');
  const [r] = await query(conn, `SELECT COUNT(*) AS n FROM ${quoteId(target)}.${quoteId(table)} AS r
    WHERE NOT EXISTS (SELECT 1 FROM ${quoteId(source)}.${quoteId(table)} AS s WHERE ${eq})`);
  return Number(r!.n);
}

