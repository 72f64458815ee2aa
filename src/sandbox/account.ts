/**
 * The unprivileged OS account a sandbox server runs as when lastresort runs as
 * root. A restored backup may hold hostile SQL; any escape at the SQL level
 * (general_log_file, slow_query_log_file are not bound by secure_file_priv) is
 * then a file write as that account, which owns nothing but the sandbox
 * folder, instead of a file write as root.
 */
import { execFile } from 'node:child_process';
import { lchown, lstat, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, parse } from 'node:path';
import { promisify } from 'node:util';
import { LrError } from '../errors.js';
import { log } from '../log.js';

const run = promisify(execFile);

export const SANDBOX_ACCOUNT = 'lastresort-sandbox';
/** Where a sandbox lives by default when root's working folder is closed to the account (often /root, mode 0700). */
export const SYSTEM_SANDBOX_HOME = '/var/lib/lastresort-sandbox';

export interface RunAs {
  name: string;
  uid: number;
  gid: number;
}

/** The account from the passwd database, or undefined when there is none. */
async function lookUp(name: string): Promise<RunAs | undefined> {
  const text = await run('getent', ['passwd', name]).then((r) => r.stdout, () => readFile('/etc/passwd', 'utf8').catch(() => ''));
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === name && f.length >= 4) return { name, uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/** useradd (shadow-utils), else Debian's adduser, else BusyBox's adduser; a system account with no login and no home. */
async function create(name: string): Promise<void> {
  const tries: [string, string[]][] = [
    ['useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', '--comment', 'lastresort sandbox server', name]],
    ['adduser', ['--system', '--group', '--no-create-home', '--home', '/nonexistent', '--disabled-login', name]],
    ['adduser', ['-S', '-D', '-H', '-h', '/nonexistent', '-s', '/sbin/nologin', name]],
  ];
  const failures: string[] = [];
  for (const [cmd, args] of tries) {
    try {
      await run(cmd, args, { timeout: 30_000 });
      return;
    } catch (err) {
      const e = err as { code?: string | number; stderr?: string };
      failures.push(`${cmd}: ${String(e.stderr ?? e.code).trim().slice(0, 200)}`);
      // Made by a concurrent run in the meantime: fine.
      if (await lookUp(name)) return;
    }
  }
  log('sandbox').error({ account: name, failures }, 'could not create the sandbox account');
  throw new LrError('LR_SANDBOX', `Could not create the system account ${name} that the sandbox server runs as; create it (useradd --system ${name}) and try again.`);
}

/**
 * When we are root: the account the server runs as, created on first use.
 * Undefined when we are not root: the server then runs as us, which is
 * already unprivileged.
 */
export async function sandboxAccount(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  let account = await lookUp(SANDBOX_ACCOUNT);
  if (!account) {
    await create(SANDBOX_ACCOUNT);
    account = await lookUp(SANDBOX_ACCOUNT);
    if (!account) throw new LrError('LR_SANDBOX', `The system account ${SANDBOX_ACCOUNT} was created but cannot be found; check /etc/passwd.`);
    log('sandbox').info({ account: account.name, uid: account.uid }, 'created the sandbox account');
  }
  if (account.uid === 0) throw new LrError('LR_SANDBOX', `The account ${SANDBOX_ACCOUNT} has user id 0 (root); give it its own user id.`);
  return account;
}

/** Whether `account` may enter and write `dir`, asked of the kernel as that account (so ACLs count too). */
export async function canEnter(account: RunAs, dir: string): Promise<boolean> {
  return run('test', ['-d', dir, '-a', '-x', dir, '-a', '-w', dir], { uid: account.uid, gid: account.gid, timeout: 15_000 })
    .then(() => true, () => false);
}

/** The first folder on the way to `dir` that others may not pass through (no o+x), if any; for the message. */
export async function closedAncestor(dir: string): Promise<{ path: string; mode: string } | undefined> {
  const chain: string[] = [];
  for (let d = dirname(dir); ; d = dirname(d)) {
    chain.unshift(d);
    if (d === parse(d).root) break;
  }
  for (const d of chain) {
    const st = await stat(d).catch(() => undefined);
    if (st && (st.mode & 0o001) === 0) return { path: d, mode: (st.mode & 0o777).toString(8) };
  }
  return undefined;
}

/** Whether any folder on the way to `dir` (which may not exist yet) is closed to other accounts. */
export async function reachableByOthers(dir: string): Promise<boolean> {
  return (await closedAncestor(`${dir}/x`)) === undefined;
}

/**
 * Gives every file under `dir` (and `dir`) that is not yet the account's to it;
 * for folders from a version that ran the server as root. The whole tree is
 * walked each time: a root-run server may have added files anywhere.
 */
export async function chownTree(dir: string, account: RunAs): Promise<number> {
  let n = 0;
  const walk = async (path: string): Promise<void> => {
    const st = await lstat(path);
    if (st.uid !== account.uid || st.gid !== account.gid) {
      await lchown(path, account.uid, account.gid);
      n++;
    }
    if (st.isDirectory()) for (const entry of await readdir(path)) await walk(join(path, entry));
  };
  await walk(dir);
  return n;
}
