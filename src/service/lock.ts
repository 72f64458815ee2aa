/**
 * One backup per configuration at a time: a lock file beside the state file
 * holding the pid of the run that has it. It is made whole under a temporary
 * name and linked into place, so another run never reads it half written;
 * a lock whose process is gone (killed, machine restarted) is taken over.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LrError } from '../errors.js';
import { isRunning } from '../backup/names.js';
import { makePrivate } from '../system/private-file.js';

export interface HeldLock {
  path: string;
  release(): Promise<void>;
}

async function holderOf(path: string): Promise<number | null> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = Number(text.split(/\s/)[0]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

/** Takes the lock for the configuration whose state file is `stateFile`, or throws LR_BUSY. */
export async function takeServiceLock(stateFile: string): Promise<HeldLock> {
  const path = `${stateFile}.lock`;
  const mine = `${process.pid} ${new Date().toISOString()}\n`;
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(tmp, mine, { mode: 0o600 });
  makePrivate(tmp);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(tmp, path);
        return { path, release: () => releaseIfMine(path, mine) };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = await holderOf(path);
      // Our own pid in it means a run before a restart left it (pid 1 in a container).
      if (holder !== null && holder !== process.pid && isRunning(holder)) {
        throw new LrError('LR_BUSY', `Another backup with these settings is running (process ${holder}), so this one did not start. Let it finish; the next one will run as planned.`, { detail: { lock: path, holder } });
      }
      await unlink(path).catch(() => {}); // its process is gone
    }
    throw new LrError('LR_BUSY', `Another backup with these settings keeps taking the lock ${path}, so this one did not start. Try again in a minute.`);
  } finally {
    await unlink(tmp).catch(() => {});
  }
}

async function releaseIfMine(path: string, mine: string): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => null);
  if (text === mine) await unlink(path).catch(() => {});
}
