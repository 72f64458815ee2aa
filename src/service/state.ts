/**
 * What the service remembers between runs: the last attempt, the last good
 * backup and copy, tonight's planned start. Only facts a person may see:
 * file names, sizes, times, an admin's user name, plain error lines.
 */
import { readFile, rename } from 'node:fs/promises';
import { log } from '../log.js';
import { targetKind, writeFileAtomic } from '../system/atomic-file.js';
import type { OffsiteRecord } from './offsite-leg.js';

export interface BackupRecord {
  at: string;
  file: string;
  /** The file's size. */
  bytes: number;
  /** The payload (the tar) before compression; absent in a state written before version 3. */
  uncompressedBytes?: number;
  /** The payload's compressed chunks (version 3's zstd frames; uncompressedBytes in version 2). */
  compressedBytes?: number;
  rows: number;
  tables: number;
  durationMs: number;
  admin: string;
  /** The admin changed their password after enrolling: this backup opens with the old one. */
  keyStale: boolean;
  /** Absent in records written before they were kept: see BackupResult. */
  oneMoment?: boolean;
  notOneMoment?: string | null;
  writesHeldMs?: number;
  tablesHeld?: number;
}

export interface CopyRecord {
  at: string;
  ok: boolean;
  /** The verified copy, when ok. */
  file?: string;
  code?: string;
  message?: string;
}

export interface AttemptRecord {
  at: string;
  outcome: 'ok' | 'failed' | 'interrupted';
  code?: string;
  message?: string;
}

export interface ServiceState {
  version: 1;
  /** When this service first ran: the clock for "no backup for 30 days" before the first success. */
  firstRunAt?: string;
  lastAttempt?: AttemptRecord;
  lastSuccess?: BackupRecord;
  lastCopy?: CopyRecord;
  /** The last offsite upload tried, the last that succeeded, and when the first was tried. */
  lastOffsite?: OffsiteRecord;
  lastOffsiteSuccess?: OffsiteRecord;
  offsiteSince?: string;
  /** Tonight's random start, kept so a restart does not roll again. */
  plan?: { night: string; at: string };
  /** The last night whose backup is finished (made, or given up on). */
  nightDone?: string;
}

export async function loadState(path: string): Promise<ServiceState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1 };
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as ServiceState;
    if (parsed && parsed.version === 1) return parsed;
  } catch {
    // fall through
  }
  // A damaged state file must not stop the backups: keep it aside and start afresh.
  // Only a regular file is set aside: renaming a device (a state path of /dev/null) would take it from the whole machine.
  if ((await targetKind(path)) === 'regular') await rename(path, `${path}.damaged`).catch(() => {});
  log('service').warn({ path }, 'state file unreadable; set aside as .damaged and started afresh');
  return { version: 1 };
}

export async function saveState(path: string, state: ServiceState): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(state, null, 2) + '\n');
}

/** Read, change, write: the only way the service changes its state. */
export async function updateState(path: string, change: (s: ServiceState) => void): Promise<ServiceState> {
  const state = await loadState(path);
  change(state);
  await saveState(path, state);
  return state;
}
