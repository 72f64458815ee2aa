/**
 * Old backups are removed only after a newer one has been verified, and the
 * verified one is always among those kept, whatever the other names say (a
 * file dated in the future by a wrong clock must not push it out). Only this
 * database's backup names are considered; anything else in the folder is
 * left alone.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { backupFileName } from '../backup/index.js';

const STAMP = /\d{8}-\d{6}\.lrb$/;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** This database's backups in `dir`, newest name first. */
export async function listBackups(dir: string, database: string): Promise<string[]> {
  const prefix = backupFileName(database, new Date(0)).replace(STAMP, '');
  const pattern = new RegExp(`^${escapeRegExp(prefix)}\\d{8}-\\d{6}\\.lrb$`);
  const names = (await readdir(dir)).filter((n) => pattern.test(n));
  return names.sort().reverse().map((n) => join(dir, n));
}

export interface RetentionResult {
  kept: string[];
  removed: string[];
}

/** Keeps `verified` plus the newest others up to `keep` in all; removes the rest. */
export async function applyRetention(dir: string, database: string, keep: number, verified: string): Promise<RetentionResult> {
  const all = await listBackups(dir, database);
  if (!all.some((f) => basename(f) === basename(verified))) return { kept: all, removed: [] }; // nothing verified here: touch nothing
  const others = all.filter((f) => basename(f) !== basename(verified));
  const kept = [join(dir, basename(verified)), ...others.slice(0, Math.max(0, keep - 1))];
  const removed: string[] = [];
  for (const f of others.slice(Math.max(0, keep - 1))) {
    await unlink(f);
    removed.push(f);
  }
  return { kept, removed };
}

/** Temporary files a killed backup or copy left behind (older than a day, so never a running one's). */
export async function removeStaleTemporaries(dir: string, now: Date): Promise<string[]> {
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return removed;
  }
  for (const n of names) {
    if (!/^\..+\.lrb\.[0-9a-f]{8}\.tmp$/.test(n)) continue;
    const f = join(dir, n);
    const s = await stat(f).catch(() => null);
    if (s && now.getTime() - s.mtimeMs > 24 * 3600_000) {
      await unlink(f).catch(() => {});
      removed.push(f);
    }
  }
  return removed;
}
