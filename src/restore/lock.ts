/**
 * One restore per target database at a time, guaranteed by the server: a
 * named lock (GET_LOCK) taken by the restore's admin connection before
 * anything is dropped or created, and held until that connection closes at
 * the end of the restore. The server lets go of it when the connection
 * dies, so a killed restore never leaves it behind. The name is derived
 * from the database name (hashed: lock names are limited to 64 characters).
 */
import { createHash } from 'node:crypto';
import { LrError } from '../errors.js';
import type { Connection } from '../db/connect.js';
import { selectOne } from '../db/query.js';

/**
 * A pass retried after a lost connection waits this long for the lock: the
 * server may not yet have noticed that the failed pass's connection is gone.
 */
export const RETRY_LOCK_WAIT_S = 30;

export function restoreLockName(database: string): string {
  return `lastresort.restore.${createHash('sha256').update(database, 'utf8').digest('hex').slice(0, 40)}`;
}

/** Takes the lock for `database` on `admin`'s server (waiting up to `waitS`), or throws LR_BUSY (nothing touched yet). */
export async function takeRestoreLock(admin: Connection, database: string, where: string, waitS = 0): Promise<void> {
  const name = restoreLockName(database);
  const row = (await selectOne<{ got: number | string | null; holder: number | string | null }>(admin, 'SELECT GET_LOCK(?, ?) AS got, IS_USED_LOCK(?) AS holder', [name, waitS, name]))!;
  if (Number(row?.got) === 1) return;
  throw new LrError('LR_BUSY', `Another restore into ${database} on ${where} is running, so this one did not start and changed nothing. Let that one finish (if it stops, continue it with --resume).`, { detail: { lock: name, holderConnection: row?.holder ?? null } });
}
