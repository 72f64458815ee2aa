/** Creating the sandbox's system tables, once per folder. */
import { chmod, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LrError } from '../errors.js';
import { log } from '../log.js';
import { lastError, type Layout } from './paths.js';
import { chownTree, type RunAs } from './account.js';
import { findInstallDb, run, userArgs, type Flavor } from './programs.js';

/** Create the system tables once; built in a side folder and renamed so a failed run leaves no half-made data dir. */
export async function initDataDir(p: Layout, binary: string, flavor: Flavor, account?: RunAs): Promise<void> {
  const building = `${p.data}.new`;
  await rm(building, { recursive: true, force: true });
  const started = Date.now();
  let cmd: string;
  let args: string[];
  if (flavor === 'mariadb') {
    cmd = await findInstallDb(binary);
    args = [
      '--no-defaults', ...userArgs(account), `--basedir=${resolve(dirname(binary), '..')}`, `--datadir=${building}`,
      // 'normal' gives root@localhost an empty password. The server runs with
      // --skip-networking, so the only way to it is the socket in the private
      // (0700) folder; the root@127.0.0.1 / root@::1 accounts it also makes stay unreachable.
      '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve',
      '--innodb-log-file-size=256M',
    ];
  } else {
    cmd = binary;
    // root@localhost with an empty password, reached through the socket only.
    args = ['--no-defaults', ...userArgs(account), '--initialize-insecure', `--datadir=${building}`];
  }
  log('sandbox').info({ dir: p.dir, cmd }, 'initialising sandbox data directory');
  try {
    const out = await run(cmd, args, { timeout: 120_000, maxBuffer: 16 << 20 });
    await writeFile(p.installLog, out.stdout + out.stderr, { mode: 0o600 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: string | number };
    const output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
    await writeFile(p.installLog, output, { mode: 0o600 }).catch(() => {});
    log('sandbox').error({ dir: p.dir, cmd, code: e.code, outputTail: output.slice(-4000) }, 'sandbox data directory initialisation failed');
    const why = lastError(output);
    throw new LrError('LR_SANDBOX', `Could not prepare the sandbox data directory in ${p.dir}${why ? `: ${why}` : ''}. See ${p.installLog}.`, { cause: err });
  }
  await rename(building, p.data);
  await chmod(p.data, 0o700);
  // mariadb-install-db itself (running as root) leaves a file or two behind, such as mysql_upgrade_info.
  if (account) await chownTree(p.data, account);
  log('sandbox').info({ dir: p.dir, ms: Date.now() - started }, 'sandbox data directory ready');
}
