/** What runs in a sandbox folder: DIR/sandbox.json, the pid file, and the live process behind them. */
import { chmod, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Layout } from './paths.js';
import type { Flavor } from './programs.js';
import { isAlive } from '../system/process.js';

/** The content of DIR/sandbox.json. */
export interface StateFile {
  pid: number;
  socket: string;
  dataDir: string;
  startedAt: string;
  binary: string;
  version: string;
  flavor?: Flavor;
  /** Only in files written by versions that served the sandbox on a TCP port. */
  port?: number;
}

export interface Live {
  pid: number;
  state?: StateFile;
  /** Started by an older lastresort without --skip-networking: it listens on a TCP port. */
  networked: boolean;
  /** The server's real user id, from /proc (undefined without it): 0 means it was started as root by an older lastresort. */
  uid?: number;
}

/** The server already running in this folder, if any (pid alive and it is ours, not a reused pid). */
export async function findLive(p: Layout): Promise<Live | undefined> {
  const state = await readState(p);
  const pidText = await readFile(p.pidFile, 'utf8').catch(() => '');
  const pids = [Number(pidText.trim()), state?.pid].filter((n): n is number => Number.isInteger(n) && n! > 0);
  for (const pid of new Set(pids)) {
    if (!(await isOurServer(pid, p))) continue;
    const fromState = state?.pid === pid ? state : undefined;
    const args = await cmdline(pid);
    const networked = args ? !args.includes('--skip-networking') : typeof fromState?.port === 'number';
    return { pid, state: fromState, networked, uid: await uidOf(pid) };
  }
  return undefined;
}

/** Alive and really our server: guards against a pid reused by an unrelated process. */
export async function isOurServer(pid: number, p: Layout): Promise<boolean> {
  if (!isAlive(pid)) return false;
  const args = await cmdline(pid);
  if (args === undefined) return process.platform !== 'linux'; // no /proc: trust the pid
  return args.includes(`--datadir=${p.data}`);
}

async function cmdline(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter(Boolean); // empty for a zombie: not "ours" any more
  } catch {
    return undefined;
  }
}

/** The real user id a process runs as (the first Uid field of /proc/PID/status). */
export async function uidOf(pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /^Uid:\s+(\d+)/m.exec(status);
  return m ? Number(m[1]) : undefined;
}

export async function binaryFromCmdline(pid: number): Promise<string | undefined> {
  return (await cmdline(pid))?.[0];
}

export async function readState(p: Layout): Promise<StateFile | undefined> {
  try {
    const s = JSON.parse(await readFile(p.state, 'utf8')) as StateFile;
    return Number.isInteger(s.pid) ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Written to a side file and renamed, so a reader never sees half a file; 0600 because it says where patient data is served. */
export async function writeState(p: Layout, s: StateFile): Promise<void> {
  const tmp = `${p.state}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
  await chmod(tmp, 0o600); // in case a stale tmp file existed with another mode
  await rename(tmp, p.state);
}

export async function removeRunFiles(p: Layout): Promise<void> {
  for (const f of [p.socket, `${p.socket}.lock`, p.pidFile]) await rm(f, { force: true });
}
