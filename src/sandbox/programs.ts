/** Finding the installed server programs and telling MariaDB from MySQL. */
import { execFile } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { LrError } from '../errors.js';
import type { RunAs } from './account.js';
import { isExecutable } from './paths.js';

export const run = promisify(execFile);

export type Flavor = 'mariadb' | 'mysql';

export async function findServer(given?: string): Promise<string> {
  if (given !== undefined) {
    const path = resolve(given);
    if (!(await isExecutable(path))) {
      throw new LrError('LR_SANDBOX', `The database server program ${path} does not exist or cannot be run; install MariaDB (mariadb-server) or give the right path.`);
    }
    return path;
  }
  for (const name of ['mariadbd', 'mysqld']) {
    const found = await which(name, ['/usr/sbin', '/usr/local/sbin', '/usr/libexec', '/usr/local/mysql/bin']);
    if (found) return found;
  }
  throw new LrError('LR_SANDBOX', 'No MariaDB or MySQL server program (mariadbd or mysqld) is installed on this machine; install mariadb-server to use a sandbox.');
}

export async function findInstallDb(binary: string): Promise<string> {
  const near = [resolve(dirname(binary), '..', 'bin'), resolve(dirname(binary), '..', 'scripts'), dirname(binary)];
  for (const name of ['mariadb-install-db', 'mysql_install_db']) {
    const found = await which(name, near);
    if (found) return found;
  }
  throw new LrError('LR_SANDBOX', 'mariadb-install-db, needed to create a new sandbox, is not installed; install mariadb-server.');
}

/** First executable `name` in the given folders, then in PATH. */
async function which(name: string, first: string[]): Promise<string | undefined> {
  const path = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const d of [...first, ...path]) {
    const candidate = join(d, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export async function flavorOf(binary: string): Promise<Flavor> {
  try {
    const { stdout } = await run(binary, ['--no-defaults', '--version'], { timeout: 15_000 });
    return /mariadb/i.test(stdout) ? 'mariadb' : 'mysql';
  } catch (err) {
    throw new LrError('LR_SANDBOX', `The database server program ${binary} could not be run; check the MariaDB installation.`, { cause: err });
  }
}

/**
 * mariadbd refuses to run as root unless told which account to be. The
 * sandbox passes its unprivileged account (account.ts), which then owns the
 * folder; without one (the test helpers' private servers) root stays root.
 */
export function userArgs(account?: RunAs): string[] {
  if (account) return [`--user=${account.name}`];
  return process.getuid?.() === 0 ? ['--user=root'] : [];
}
