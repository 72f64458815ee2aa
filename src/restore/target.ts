/**
 * Where a restore goes, and the safety rules before anything is written:
 * a database that exists and has tables is refused unless --force (or
 * --resume of the same backup). The classic disaster is restoring over the
 * live database; the message says what to do instead.
 */
import { LrError } from '../errors.js';
import { quoteId, type Connection } from '../db/connect.js';
import { PROGRESS_TABLE } from './progress-table.js';
import { selectOne, selectRows } from '../db/query.js';

export interface TargetState {
  exists: boolean;
  tables: number;
  /** fileId of an interrupted restore into this database, if one is recorded. */
  interruptedFileId: string | null;
}

export async function inspectTarget(conn: Connection, database: string): Promise<TargetState> {
  const dbs = await selectRows<unknown>(conn, 'SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [database]);
  if (dbs.length === 0) return { exists: false, tables: 0, interruptedFileId: null };
  const count = (await selectOne<{ n: number }>(conn, 'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME <> ?', [database, PROGRESS_TABLE]))!;
  let interruptedFileId: string | null = null;
  try {
    const rows = await selectRows<{ note: string }>(conn, `SELECT note FROM ${quoteId(database)}.${PROGRESS_TABLE} WHERE item = 'backup'`);
    interruptedFileId = rows[0]?.note ?? null;
  } catch {
    // no progress table: no interrupted restore
  }
  return { exists: true, tables: Number(count.n), interruptedFileId };
}

export function checkTargetSafety(state: TargetState, opts: { database: string; backupDatabase: string; fileId: string; force?: boolean; resume?: boolean; where: string }): 'fresh' | 'resume' | 'force' {
  if (opts.resume) {
    if (state.interruptedFileId === null) {
      if (state.tables === 0) return 'fresh';
      throw new LrError('LR_TARGET_NOT_EMPTY', `There is no interrupted restore to resume in ${opts.database} (it has tables but no progress record). Restore into a new database instead.`);
    }
    if (state.interruptedFileId !== opts.fileId) {
      throw new LrError('LR_TARGET_NOT_EMPTY', `The interrupted restore in ${opts.database} came from a different backup file. Resume with that file, or restore into a new database.`);
    }
    return 'resume';
  }
  if (state.tables === 0 && state.interruptedFileId === null) return 'fresh';
  if (opts.force) return 'force';
  if (state.interruptedFileId !== null) {
    throw new LrError('LR_TARGET_NOT_EMPTY', `${opts.database} holds an interrupted restore. Continue it with --resume, or choose a new database name.`);
  }
  if (opts.database === opts.backupDatabase) {
    throw new LrError('LR_TARGET_NOT_EMPTY', `${opts.database} on ${opts.where} already has ${state.tables} tables: it may be the live database. Restore beside it under a new name (e.g. ${opts.database}_restored), validate, then switch. Use --force only if you are sure.`);
  }
  throw new LrError('LR_TARGET_NOT_EMPTY', `${opts.database} on ${opts.where} already has ${state.tables} tables. Choose a new database name, or add --force to write into it anyway.`);
}
