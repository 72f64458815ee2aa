/**
 * Row counts from what the server holds after the load, for every table that
 * did not come back whole: a failed statement, a rolled-back piece or a
 * resumed pass can make the counts added up along the way differ from the
 * table's contents, and the report must say what is there.
 */
import { quoteId, type Connection } from '../db/connect.js';
import type { TableState } from './restore.js';
import { selectOne } from '../db/query.js';

export async function recountFromServer(conn: Connection, tables: Map<number, TableState>): Promise<void> {
  for (const s of tables.values()) {
    if (!s.created || s.skipped || (!s.error && !s.damaged)) continue;
    try {
      const row = (await selectOne<{ n: number | string }>(conn, `SELECT COUNT(*) AS n FROM ${quoteId(s.name)}`))!;
      s.restored = Number(row.n);
    } catch {
      // The table is not readable (a failed create): the count added up stands.
    }
  }
}
