/**
 * Old backups are removed only after a newer one has been verified, and the
 * verified one is always among those kept, whatever the other names say (a
 * file dated in the future by a wrong clock must not push it out). Only this
 * database's backup names are considered; anything else in the folder is
 * left alone.
 */
import { lstat, readdir, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { backupNameOrder, backupNamePattern } from '../backup/names.js';

/** This database's backups in `dir`, newest first. */
export async function listBackups(dir: string, database: string): Promise<string[]> {
  const pattern = backupNamePattern(database);
  const names = (await readdir(dir)).filter((n) => pattern.test(n));
  const newestFirst = (a: string, b: string) => (backupNameOrder(a) < backupNameOrder(b) ? 1 : -1);
  return names.sort(newestFirst).map((n) => join(dir, n));
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
    if (!(await lstat(f).catch(() => null))?.isFile()) continue; // only backups this service wrote: never a device or link of that name
    await unlink(f);
    removed.push(f);
  }
  return { kept, removed };
}

