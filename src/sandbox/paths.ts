/**
 * Where everything of one sandbox lives, and the small file helpers the other
 * sandbox modules share.
 *
 * Layout of DIR (mode 0700, owned by whoever runs lastresort, or by the
 * lastresort-sandbox account when that is root: see account.ts):
 *   data/          the data directory (created by mariadb-install-db once)
 *   mysqld.sock    the only way in (no TCP port); mysqld.pid, error.log, install.log
 *   files/         the only place server-side file SQL may touch (secure_file_priv)
 *   tmp/           server temporary files (they may hold patient data)
 *   sandbox.json   what is running: pid, socket, ... (mode 0600)
 */
import { constants as fsc } from 'node:fs';
import { access, chmod, mkdir, open, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { LrError } from '../errors.js';
import { log } from '../log.js';
import { reachableByOthers, SYSTEM_SANDBOX_HOME, type RunAs } from './account.js';

export const DEFAULT_SANDBOX_DIR = 'lastresort-sandbox';

/** Linux sun_path holds 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH = 107;

export function layout(dir: string) {
  const root = resolve(dir);
  return {
    dir: root,
    data: join(root, 'data'),
    socket: join(root, 'mysqld.sock'),
    pidFile: join(root, 'mysqld.pid'),
    errorLog: join(root, 'error.log'),
    installLog: join(root, 'install.log'),
    files: join(root, 'files'),
    tmp: join(root, 'tmp'),
    state: join(root, 'sandbox.json'),
  };
}
export type Layout = ReturnType<typeof layout>;

/**
 * Create DIR if needed and make sure only we can enter it. This is what keeps
 * the data private: the server creates its socket world-writable (srwxrwxrwx)
 * and root logs in over it without a password, so the folder's 0700 is the one
 * lock on the door. A folder someone else owns is refused rather than taken over;
 * when we are root, the sandbox account (see account.ts) may own it too.
 */
export async function securePrivateFolder(p: Layout, account?: RunAs): Promise<void> {
  // As root, new parent folders stay passable (0755) so the sandbox account can reach DIR.
  if (account) await mkdir(dirname(p.dir), { recursive: true, mode: 0o755 });
  await mkdir(p.dir, { recursive: true, mode: 0o700 });
  const st = await stat(p.dir);
  if (!st.isDirectory()) throw new LrError('LR_SANDBOX', `The sandbox folder ${p.dir} is not a folder; choose another one.`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid && st.uid !== account?.uid) {
    throw new LrError('LR_SANDBOX', `The sandbox folder ${p.dir} belongs to another user; choose a folder of your own.`);
  }
  if ((st.mode & 0o777) !== 0o700) {
    log('sandbox').warn({ dir: p.dir, mode: (st.mode & 0o777).toString(8) }, 'sandbox folder was open to others; made it private (0700)');
    await chmod(p.dir, 0o700);
  }
}

/**
 * The folder `sandbox` means without a DIR: ./lastresort-sandbox, except for
 * root in a working folder the sandbox account cannot pass through (often
 * /root, mode 0700), where it is /var/lib/lastresort-sandbox/sandbox.
 */
export async function defaultSandboxDir(cwd: string = process.cwd()): Promise<string> {
  if (process.getuid?.() === 0 && !(await reachableByOthers(resolve(cwd)))) return join(SYSTEM_SANDBOX_HOME, 'sandbox');
  return resolve(cwd, DEFAULT_SANDBOX_DIR);
}

/** The error log from `offset` (this start's part), at most the last 16 KiB. */
export async function readTail(file: string, offset: number): Promise<string> {
  try {
    const fh = await open(file, 'r');
    try {
      const size = (await fh.stat()).size;
      const from = Math.max(offset, size - 16_384);
      const buf = Buffer.alloc(Math.max(0, size - from));
      await fh.read(buf, 0, buf.length, from);
      return buf.toString('utf8');
    } finally {
      await fh.close();
    }
  } catch {
    return '';
  }
}

/** The most telling [ERROR] line of a server log, without its timestamp. */
export function lastError(text: string): string | undefined {
  const lines = text.split('\n').filter((l) => /\[ERROR\]/.test(l) && !/Aborting|Do you already have another/i.test(l));
  const line = lines[0] ?? text.split('\n').filter((l) => /error/i.test(l)).pop();
  return line?.replace(/^.*?\[ERROR\]\s*/, '').trim().slice(0, 200) || undefined;
}

export async function sizeOf(file: string): Promise<number> {
  return stat(file).then((s) => s.size, () => 0);
}

export async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

export async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, fsc.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}


export const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
