/**
 * Backup file names and their temporaries.
 *
 * A backup is `<database>-YYYYMMDD-HHMMSS.lrb`; a second one started in the
 * same second gets `-2`, then `-3`: the name is claimed with a hard link,
 * which fails when the name is taken, so two runs never replace each other.
 *
 * A temporary is `.<backup name>.<8 hex>.<pid>.tmp`: the pid says whose it
 * is, so the next run removes one whose writer is gone at once, and never a
 * running writer's, nor anything not named like ours (the copy's
 * temporaries, which carry no pid, wait a day as before).
 */
import { randomBytes } from 'node:crypto';
import { link, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

const pad2 = (n: number) => String(n).padStart(2, '0');
const STAMP = /-(\d{8}-\d{6})(?:-(\d+))?\.lrb$/;
const TEMPORARY = /^\.(.+-\d{8}-\d{6}(?:-\d+)?\.lrb)\.[0-9a-f]{8}(?:\.(\d+))?\.tmp$/;
const DAY_MS = 24 * 3600_000;
/** Names tried for one second before giving up (a hundred backups in one second is a loop gone wrong). */
const MAX_SAME_SECOND = 100;

export function backupFileName(database: string, at: Date, nth = 1): string {
  const safe = database.replace(/[^A-Za-z0-9_.-]/g, '_') || 'database';
  const stamp = `${at.getFullYear()}${pad2(at.getMonth() + 1)}${pad2(at.getDate())}-${pad2(at.getHours())}${pad2(at.getMinutes())}${pad2(at.getSeconds())}`;
  return `${safe}-${stamp}${nth > 1 ? `-${nth}` : ''}.lrb`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Matches this database's backup names (with or without a same-second number). */
export function backupNamePattern(database: string): RegExp {
  const prefix = backupFileName(database, new Date(0)).replace(STAMP, '');
  return new RegExp(`^${escapeRegExp(prefix)}-\\d{8}-\\d{6}(?:-\\d+)?\\.lrb$`);
}

/** Sorts names by time, then by their same-second number: `-2` is newer than none. */
export function backupNameOrder(name: string): string {
  const m = STAMP.exec(name);
  return m ? `${m[1]}-${(m[2] ?? '1').padStart(6, '0')}` : name;
}

export function temporaryName(finalName: string): string {
  return `.${finalName}.${randomBytes(4).toString('hex')}.${process.pid}.tmp`;
}

/**
 * Moves the finished temporary to the first free name for `at` and returns
 * it. A link fails when the name exists (a rename would replace it).
 */
export async function publishBackup(tmpPath: string, dir: string, database: string, at: Date): Promise<string> {
  for (let nth = 1; nth <= MAX_SAME_SECOND; nth++) {
    const file = join(dir, backupFileName(database, at, nth));
    try {
      await link(tmpPath, file);
      await unlink(tmpPath);
      return file;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
      // No hard links here (some network shares): check, then rename.
      if (await stat(file).then(() => true, () => false)) continue;
      await rename(tmpPath, file);
      return file;
    }
  }
  throw Object.assign(new Error(`more than ${MAX_SAME_SECOND} backups named for one second`), { code: 'EEXIST' });
}

/** Whether process `pid` exists on this machine (EPERM: it does, under another account). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, someone else's
  }
}

/**
 * Removes the temporaries a stopped or killed run left in `dir`: at once
 * when their writer's process is gone, after a day when the name carries no
 * process (a copy's, or an older version's). Returns what it removed.
 */
export async function removeLeftoverTemporaries(dir: string, now = new Date()): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const n of names) {
    const m = TEMPORARY.exec(n);
    if (!m) continue;
    const pid = m[2] === undefined ? null : Number(m[2]);
    const path = join(dir, n);
    if (pid === process.pid || (pid !== null && isRunning(pid))) continue; // still being written
    if (pid === null) {
      const s = await stat(path).catch(() => null);
      if (!s || now.getTime() - s.mtimeMs <= DAY_MS) continue;
    }
    await unlink(path).then(() => removed.push(path), () => {});
  }
  return removed;
}
