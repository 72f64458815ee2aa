/**
 * Ctrl-C and SIGTERM during long work: the first asks the work to stop
 * cleanly (it marks what is unfinished); a second one quits at once, after
 * `quit` (if given) has had a few seconds to say and save what it must.
 */
import { ERROR_CODES } from '../errors.js';
import { isLink } from '../open/index.js';

const QUIT_GRACE_MS = 8000;
/** Quitting at once is still an interruption: the contract's exit code, not the shell's 130. */
const QUIT_EXIT = ERROR_CODES.LR_INTERRUPTED;

export function onInterrupt(stop: () => void, quit?: () => Promise<void>): () => void {
  let count = 0;
  // A live line (a progress bar) is cleared first, so the message does not land on it.
  const clear = process.stderr.isTTY ? '\r\x1b[2K' : '';
  const handler = (signal: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      process.stderr.write(signal === 'SIGINT' ? `${clear}Stopping cleanly… press Ctrl-C again to quit at once.\n` : `Stopping cleanly (${signal}).\n`);
      stop();
    } else if (count === 2 && quit) {
      process.stderr.write(`${clear}Quitting now.\n`);
      const timeout = new Promise<void>((ok) => setTimeout(ok, QUIT_GRACE_MS).unref());
      void Promise.race([quit().catch(() => {}), timeout]).then(() => process.exit(QUIT_EXIT));
    } else {
      process.exit(QUIT_EXIT);
    }
  };
  // Windows: Ctrl-C arrives as SIGINT in cmd.exe and PowerShell; Ctrl-Break as SIGBREAK.
  const signals: NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGTERM', 'SIGBREAK'] : ['SIGINT', 'SIGTERM'];
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}

/**
 * Read-only work on the backup `file` names. For a link, the first Ctrl-C
 * aborts the signal `work` opens it with, so a pending store read or a pause
 * before resuming ends at once with LR_INTERRUPTED and its plain line; a
 * local file's reads end with the program, as Ctrl-C always did.
 */
export async function readingInterruptibly<T>(file: string, work: (signal?: AbortSignal) => Promise<T>): Promise<T> {
  if (!isLink(file)) return work();
  const controller = new AbortController();
  const release = onInterrupt(() => controller.abort());
  try {
    return await work(controller.signal);
  } finally {
    release();
  }
}
