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
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LrError } from '../errors.js';
import { log } from '../log.js';
import { initDataDir } from './datadir.js';
import { info, launch, waitReady } from './launch.js';
import { shellQuote as sh } from '../shell-quote.js';
import { DEFAULT_SANDBOX_DIR, exists, layout, MAX_SOCKET_PATH, securePrivateFolder, sleep, type Layout } from './paths.js';
import { findServer, flavorOf } from './programs.js';
import { binaryFromCmdline, findLive, isOurServer, removeRunFiles, writeState, type Live, type StateFile } from './state.js';
import type { SandboxInfo, SandboxOptions, SandboxStatus } from './types.js';

export { DEFAULT_SANDBOX_DIR };
export type { SandboxInfo, SandboxOptions, SandboxStatus };

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 120_000;

export async function startSandbox(opts: SandboxOptions = {}): Promise<SandboxInfo> {
  const p = layout(opts.dir ?? DEFAULT_SANDBOX_DIR);
  const timeoutMs = opts.timeoutMs ?? START_TIMEOUT_MS;
  if (Buffer.byteLength(p.socket) > MAX_SOCKET_PATH) {
    throw new LrError('LR_SANDBOX', `The sandbox folder path ${p.dir} is too long for a server socket; choose a shorter folder.`);
  }

  let live = await findLive(p);
  if (live?.networked) {
    // Started by an older lastresort that served it on 127.0.0.1 to anyone on this
    // machine: restart it socket-only rather than keep that door open. The data stays.
    log('sandbox').warn({ dir: p.dir, pid: live.pid }, 'sandbox server listens on a TCP port; restarting it socket-only');
    await stopServer(p, live);
    live = undefined;
  }
  if (live) {
    await securePrivateFolder(p);
    return attach(p, live, timeoutMs);
  }

  const binary = await findServer(opts.binary);
  const flavor = await flavorOf(binary);
  await securePrivateFolder(p);
  for (const d of [p.files, p.tmp]) await mkdir(d, { recursive: true, mode: 0o700 });
  // Leftovers of a server that died without cleaning up would confuse the next one.
  await removeRunFiles(p);
  if (!(await exists(join(p.data, 'mysql')))) await initDataDir(p, binary, flavor);
  return launch(p, binary, flavor, timeoutMs);
}

export async function stopSandbox(dir: string = DEFAULT_SANDBOX_DIR): Promise<{ stopped: boolean }> {
  const p = layout(dir);
  const live = await findLive(p);
  if (!live) {
    await removeRunFiles(p);
    await rm(p.state, { force: true });
    return { stopped: false };
  }
  await stopServer(p, live);
  return { stopped: true };
}

export async function sandboxStatus(dir: string = DEFAULT_SANDBOX_DIR): Promise<SandboxStatus> {
  const p = layout(dir);
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
