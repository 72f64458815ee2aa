/**
 * A private scratch database server (like MySQL Shell's sandbox instances):
 * the installed mariadbd/mysqld run with their own data directory, socket, pid
 * file and error log, all inside one folder (see paths.ts for the layout).
 * It listens on no TCP port: the only way in is the Unix socket inside the
 * 0700 folder, so only the user who started it (and the system's root) can
 * read the restored patient data, although root has no database password.
 * It is where a backup is restored to be looked at without touching the real
 * Open Dental server. It keeps running after we exit; `stopSandbox` ends it and
 * leaves the data in place so a later start brings the restored database back.
 */
import { chown, mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LrError } from '../errors.js';
import { log } from '../log.js';
import { initDataDir } from './datadir.js';
import { info, launch, waitReady } from './launch.js';
import { shellQuote as sh } from '../shell-quote.js';
import { canEnter, chownTree, closedAncestor, sandboxAccount, SYSTEM_SANDBOX_HOME, type RunAs } from './account.js';
import { DEFAULT_SANDBOX_DIR, defaultSandboxDir, exists, layout, MAX_SOCKET_PATH, securePrivateFolder, sleep, type Layout } from './paths.js';
import { findServer, flavorOf } from './programs.js';
import { binaryFromCmdline, findLive, isOurServer, removeRunFiles, writeState, type Live, type StateFile } from './state.js';
import type { SandboxInfo, SandboxOptions, SandboxStatus } from './types.js';

export { DEFAULT_SANDBOX_DIR, defaultSandboxDir };
export type { SandboxInfo, SandboxOptions, SandboxStatus };

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 120_000;

export async function startSandbox(opts: SandboxOptions = {}): Promise<SandboxInfo> {
  const p = layout(opts.dir ?? (await defaultSandboxDir()));
  const timeoutMs = opts.timeoutMs ?? START_TIMEOUT_MS;
  if (Buffer.byteLength(p.socket) > MAX_SOCKET_PATH) {
    throw new LrError('LR_SANDBOX', `The sandbox folder path ${p.dir} is too long for a server socket; choose a shorter folder.`);
  }

  const account = await sandboxAccount();
  let live = await findLive(p);
  if (live?.networked || (account && live?.uid === 0)) {
    // Started by an older lastresort that served it on 127.0.0.1 to anyone on this
    // machine, or ran it as root: restart it socket-only as the sandbox account rather
    // than keep that door open. The data stays.
    log('sandbox').warn({ dir: p.dir, pid: live.pid, networked: live.networked, uid: live.uid }, 'sandbox server listens on a TCP port or runs as root; restarting it');
    await stopServer(p, live);
    live = undefined;
  }
  if (live) {
    await securePrivateFolder(p, account);
    return attach(p, live, timeoutMs);
  }

  const binary = await findServer(opts.binary);
  const flavor = await flavorOf(binary);
  await securePrivateFolder(p, account);
  for (const d of [p.files, p.tmp]) await mkdir(d, { recursive: true, mode: 0o700 });
  if (account) await handOver(p, account);
  // Leftovers of a server that died without cleaning up would confuse the next one.
  await removeRunFiles(p);
  if (!(await exists(join(p.data, 'mysql')))) await initDataDir(p, binary, flavor, account);
  return launch(p, binary, flavor, timeoutMs, account);
}

/**
 * As root: the folder and everything the server touches belong to the sandbox
 * account (a folder from a version that ran the server as root is given over
 * once), and that account must be able to reach the folder at all.
 */
async function handOver(p: Layout, account: RunAs): Promise<void> {
  // sandbox.json and install.log are lastresort's, not the server's: they stay root's.
  for (const d of [p.dir, p.files, p.tmp, p.data, p.errorLog]) {
    if (d === p.dir) {
      const st = await stat(d);
      if (st.uid !== account.uid || st.gid !== account.gid) await chown(d, account.uid, account.gid);
      continue;
    }
    if (!(await exists(d))) continue;
    const n = await chownTree(d, account);
    if (n > 0) log('sandbox').info({ path: d, account: account.name, files: n }, 'gave sandbox files to the sandbox account');
  }
  if (!(await canEnter(account, p.dir))) {
    const closed = await closedAncestor(p.dir);
    const where = closed ? `${closed.path} (mode ${closed.mode}) is closed to other accounts` : 'it cannot enter the folder';
    throw new LrError('LR_SANDBOX', `The sandbox server runs as the unprivileged account ${account.name}, and ${where}; choose a sandbox folder it can reach, for example sandbox:${join(SYSTEM_SANDBOX_HOME, 'sandbox')}.`);
  }
}

export async function stopSandbox(dir?: string): Promise<{ stopped: boolean }> {
  const p = layout(dir ?? (await defaultSandboxDir()));
  const live = await findLive(p);
  if (!live) {
    await removeRunFiles(p);
    await rm(p.state, { force: true });
    return { stopped: false };
  }
  await stopServer(p, live);
  return { stopped: true };
}

export async function sandboxStatus(dir?: string): Promise<SandboxStatus> {
  const p = layout(dir ?? (await defaultSandboxDir()));
  const live = await findLive(p);
  if (!live) return { dir: p.dir, running: false };
  return { dir: p.dir, running: true, pid: live.pid, socket: p.socket, startedAt: live.state?.startedAt, version: live.state?.version };
}

/** SIGTERM is a clean shutdown for mariadbd/mysqld and needs no database password. */
async function stopServer(p: Layout, live: Live): Promise<void> {
  try {
    process.kill(live.pid, 'SIGTERM');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') {
      throw new LrError('LR_SANDBOX', `Not allowed to stop the sandbox server (process ${live.pid}) in ${p.dir}; run as the user who started it.`, { cause: err });
    }
  }
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (await isOurServer(live.pid, p)) {
    if (Date.now() > deadline) {
      throw new LrError('LR_SANDBOX', `The sandbox server (process ${live.pid}) in ${p.dir} did not stop within ${STOP_TIMEOUT_MS / 1000} s; see ${p.errorLog}.`);
    }
    await sleep(100);
  }
  await removeRunFiles(p);
  await rm(p.state, { force: true });
  log('sandbox').info({ dir: p.dir, pid: live.pid }, 'sandbox stopped');
}

async function attach(p: Layout, live: Live, timeoutMs: number): Promise<SandboxInfo> {
  // It may have been started a moment ago by another run and still be coming up.
  let version: string;
  try {
    version = await waitReady(p, timeoutMs, async () => ((await isOurServer(live.pid, p)) ? undefined : 'the server process ended'));
  } catch (err) {
    if (err instanceof LrError) throw err;
    throw new LrError('LR_SANDBOX', `A sandbox server (process ${live.pid}) runs in ${p.dir} but does not answer on ${p.socket}; stop it with: lastresort sandbox stop ${sh(p.dir)}`, { cause: err });
  }
  const state: StateFile = live.state ?? {
    pid: live.pid, socket: p.socket, dataDir: p.data, startedAt: new Date().toISOString(),
    binary: (await binaryFromCmdline(live.pid)) ?? 'unknown', version, flavor: /mariadb/i.test(version) ? 'mariadb' : 'mysql',
  };
  if (!live.state) await writeState(p, state);
  log('sandbox').info({ dir: p.dir, pid: live.pid }, 'reusing running sandbox');
  return info(p, state, true);
}
