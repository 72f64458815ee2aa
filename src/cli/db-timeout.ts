/** `--db-timeout`: how long a silent server is waited for; and the line a person sees when one stops answering. */
import { LrError } from '../errors.js';
import { setDbTimeout, setStallNotice } from '../db/watchdog.js';

export function applyDbTimeout(seconds: number | undefined): void {
  if (seconds !== undefined) {
    if (!Number.isFinite(seconds) || seconds < 1 || seconds > 86_400) throw new LrError('LR_USAGE', '--db-timeout must be a number of seconds from 1 to 86400.');
    setDbTimeout(seconds);
  }
  setStallNotice((line) => process.stderr.write(`\n${line}\n`));
}
