/**
 * What a full disk costs a person to fix: the folder, what is free there now,
 * and about how much a backup needs (the size of the last backup of this
 * database in that folder, else the server's estimate of the data).
 */
import { readdir, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import type { Connection } from '../db/connect.js';
import { humanBytes } from '../text.js';
import { backupNameOrder, backupNamePattern } from './names.js';
import { selectRows } from '../db/query.js';
import { tableBytes } from '../db/ranges.js';

/** The size of the newest backup of `database` in `dir`, or the server's DATA_LENGTH sum; null if neither is known. */
export async function expectedBackupBytes(conn: Connection, dir: string, database: string, spooled: string[] = []): Promise<number | null> {
  const file = await expectedFileBytes(conn, dir, database);
  if (spooled.length === 0) return file;
  const sizes = await tableBytes(conn, database).catch(() => new Map<string, number>());
  const spool = spooled.reduce((n, t) => n + (sizes.get(t) ?? 0), 0);
  return file === null && spool === 0 ? null : (file ?? 0) + spool;
}

async function expectedFileBytes(conn: Connection, dir: string, database: string): Promise<number | null> {
  const pattern = backupNamePattern(database);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => pattern.test(n));
  const newest = names.sort((a, b) => (backupNameOrder(a) < backupNameOrder(b) ? 1 : -1))[0];
  if (newest) {
    const s = await stat(join(dir, newest)).catch(() => null);
    if (s) return s.size;
  }
  try {
    const rows = await selectRows<{ b: unknown }>(conn, 'SELECT SUM(DATA_LENGTH) AS b FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [database]);
    const bytes = Number(rows[0]?.b ?? 0);
    return bytes > 0 ? bytes : null;
  } catch {
    return null;
  }
}

export async function freeBytes(dir: string): Promise<number | null> {
  try {
    const s = await statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/** One line: the folder, what is free, what is needed, and that nothing was left there. */
export async function diskFullLine(dir: string, needed: number | null, what = 'backup'): Promise<string> {
  const free = await freeBytes(dir);
  const freeText = free === null ? '' : ` (${humanBytes(free)} free)`;
  const neededText = needed === null ? 'Free some space there' : `The ${what} needs about ${humanBytes(needed)}: free that much there`;
  return `The disk holding ${dir} is full${freeText}; no ${what} was written. ${neededText}, or choose another folder.`;
}
