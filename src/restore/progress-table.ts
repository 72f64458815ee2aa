/**
 * The restore's own progress record, kept in the target database so that
 * --resume can continue after a crash, a kill or a dropped connection: each
 * data piece is loaded in the same transaction as its progress row, so a
 * piece is either wholly restored and recorded, or neither. The table's
 * presence marks the database as not (yet) completely restored; it is
 * dropped when a restore runs to its end.
 */
import type { Connection } from '../db/connect.js';
import { selectRows } from '../db/query.js';

export const PROGRESS_TABLE = '_lastresort_restore';

/**
 * A table or view of the file's that would be (or, on a server that folds
 * names, become) the progress table: never created, since it would drop the
 * restore's own record or take its place. Any case is refused, so a file
 * restores the same on every server.
 */
export function isProgressTableName(name: string): boolean {
  return name.toLowerCase() === PROGRESS_TABLE;
}

/** Why such a table or view is not restored, as the report says it (matched by outcome.ts: no resume can fix it). */
export const PROGRESS_NAME_REFUSED = `was refused: ${PROGRESS_TABLE} (in any case) is the name the restore keeps its own progress under; rename it in the source database and back up again`;

export type ProgressState = Map<string, { value: number; note: string }>;

export const keys = {
  backup: 'backup',
  created: (t: number) => `t:${t}:created`,
  piece: (t: number, p: number) => `t:${t}:p:${p}`,
  /** A piece of a non-transactional table being loaded (its number): a crash leaves part of it in. */
  loading: (t: number) => `t:${t}:loading`,
  /** All rows in and secondary indexes built. */
  finished: (t: number) => `t:${t}:indexed`,
  fks: (t: number) => `t:${t}:fks`,
};

export async function createProgressTable(conn: Connection, fileId: string): Promise<void> {
  await conn.query(`CREATE TABLE IF NOT EXISTS ${PROGRESS_TABLE} (item VARCHAR(64) NOT NULL PRIMARY KEY, value BIGINT NOT NULL DEFAULT 0, note VARCHAR(255) NOT NULL DEFAULT '') ENGINE=InnoDB COMMENT='lastresort: restore in progress; this database is not complete while this table exists'`);
  await conn.query(`INSERT IGNORE INTO ${PROGRESS_TABLE} (item, value, note) VALUES (?, 0, ?)`, [keys.backup, fileId]);
}

export async function readProgress(conn: Connection): Promise<ProgressState | null> {
  const exists = await selectRows<unknown>(conn, 'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [PROGRESS_TABLE]);
  if (exists.length === 0) return null;
  const rows = await selectRows<{ item: string; value: string | number; note: string }>(conn, `SELECT item, value, note FROM ${PROGRESS_TABLE}`);
  return new Map(rows.map((r) => [r.item, { value: Number(r.value), note: r.note }]));
}

export async function record(conn: Connection, item: string, value = 0): Promise<void> {
  await conn.query(`REPLACE INTO ${PROGRESS_TABLE} (item, value) VALUES (?, ?)`, [item, value]);
}

/** Forgets a table's loaded pieces, so that all of them load again. */
export async function forgetPieces(conn: Connection, state: ProgressState, t: number): Promise<void> {
  await conn.query(`DELETE FROM ${PROGRESS_TABLE} WHERE item LIKE ? OR item = ?`, [`t:${t}:p:%`, keys.loading(t)]);
  for (const item of [...state.keys()]) if (item.startsWith(`t:${t}:p:`) || item === keys.loading(t)) state.delete(item);
}

export async function dropProgressTable(conn: Connection): Promise<void> {
  await conn.query(`DROP TABLE IF EXISTS ${PROGRESS_TABLE}`);
}
