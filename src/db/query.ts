/**
 * Typed query helpers: the row shape is said once, by the caller, instead of
 * a cast at every query. mysql2 types a result as a union of every kind of
 * result; a SELECT gives rows, anything else an OK packet.
 */
import type { Connection } from 'mysql2/promise';

/** The rows of a SELECT, each with the columns (aliases) the caller names. */
export async function selectRows<Row>(conn: Connection, sql: string | { sql: string; rowsAsArray?: boolean }, values?: unknown[]): Promise<Row[]> {
  const [rows] = typeof sql === 'string' ? await conn.query(sql, values) : await conn.query(sql, values);
  return rows as unknown as Row[];
}

/** The first row of a SELECT, or undefined when there is none. */
export async function selectOne<Row>(conn: Connection, sql: string, values?: unknown[]): Promise<Row | undefined> {
  return (await selectRows<Row>(conn, sql, values))[0];
}

export interface WriteResult {
  affectedRows: number;
  warningStatus: number;
}

/** A statement that changes rows: how many it changed, and whether it warned. */
export async function runWrite(conn: Connection, sql: string, values?: unknown[]): Promise<WriteResult> {
  const [result] = await conn.query(sql, values);
  return result as unknown as WriteResult;
}
