/**
 * A private scratch database server (like MySQL Shell's sandbox instances):
 * the installed mariadbd/mysqld run with their own data directory, socket, pid
 * file and error log, all inside one folder, listening on 127.0.0.1 only.
 * It is where a backup is restored to be looked at without touching the real
 * Open Dental server. It keeps running after we exit; `stopSandbox` ends it and
 * leaves the data in place so a later start brings the restored database back.
 *
 * Layout of DIR:
 *   data/          the data directory (created by mariadb-install-db once)
 *   mysqld.sock    socket, mysqld.pid, error.log, install.log
 *   files/         the only place server-side file SQL may touch (secure_file_priv)
 *   tmp/           server temporary files (they may hold patient data)
 *   sandbox.json   what is running: pid, port, socket, ... (mode 0600)
 */
import { execFile, spawn } from 'node:child_process';
import { constants as fsc } from 'node:fs';
import { access, chmod, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { connect } from '../db/connect.js';
import type { Dsn } from '../db/dsn.js';
import { isLrError, LrError } from '../errors.js';
import { log } from '../log.js';

const run = promisify(execFile);

export const DEFAULT_SANDBOX_DIR = 'lastresort-sandbox';

export interface SandboxOptions {
  /** Folder for the sandbox; default ./lastresort-sandbox. */
  dir?: string;
  /** TCP port on 127.0.0.1; a free one is picked when left out. */
  port?: number;
  /** Server program; found on this machine when left out (tests inject a missing one). */
  binary?: string;
  /** How long to wait for the server to accept connections. */
  timeoutMs?: number;
}

export interface SandboxInfo {
  dir: string;
  dsn: Dsn;
  socket: string;
  pid: number;
  port: number;
  /** Shell command that opens a client on the sandbox. */
  connectCommand: string;
  stopCommand: string;
  version: string;
  binary: string;
  /** True when a sandbox was already running in `dir` and we only attached to it. */
  reused: boolean;
}

export interface SandboxStatus {
  dir: string;
  running: boolean;
  pid?: number;
  port?: number;
  socket?: string;
  startedAt?: string;
  version?: string;
}

/** The content of DIR/sandbox.json. */
interface StateFile {
  pid: number;
  port: number;
  socket: string;
  dataDir: string;
  startedAt: string;
  binary: string;
  version: string;
  flavor?: Flavor;
}

type Flavor = 'mariadb' | 'mysql';

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 120_000;
/** Linux sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

function layout(dir: string) {
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
type Layout = ReturnType<typeof layout>;

export async function startSandbox(opts: SandboxOptions = {}): Promise<SandboxInfo> {
  const p = layout(opts.dir ?? DEFAULT_SANDBOX_DIR);
  const timeoutMs = opts.timeoutMs ?? START_TIMEOUT_MS;
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535)) {
    throw new LrError('LR_SANDBOX', `The sandbox port ${opts.port} is not a valid port number.`);
  }
  if (Buffer.byteLength(p.socket) > MAX_SOCKET_PATH) {
    throw new LrError('LR_SANDBOX', `The sandbox folder path ${p.dir} is too long for a server socket; choose a shorter folder.`);
  }

  const live = await findLive(p);
  if (live) return attach(p, live, opts.port, timeoutMs);

  const binary = await findServer(opts.binary);
  const flavor = await flavorOf(binary);
  await mkdir(p.dir, { recursive: true, mode: 0o700 });
  for (const d of [p.files, p.tmp]) await mkdir(d, { recursive: true, mode: 0o700 });
  // Leftovers of a server that died without cleaning up would confuse the next one.
  await removeRunFiles(p);
  if (!(await exists(join(p.data, 'mysql')))) await initDataDir(p, binary, flavor);

  // A port we picked can be taken between our check and the server's bind; then pick again.
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    if (opts.port !== undefined && !(await portIsFree(port))) {
      throw new LrError('LR_SANDBOX', `Port ${port} is already in use on this machine; choose another sandbox port or leave it out.`);
    }
    try {
      return await launch(p, binary, flavor, port, timeoutMs);
    } catch (err) {
      const portTaken = err instanceof LrError && err.detail?.portTaken === true;
      if (!portTaken || opts.port !== undefined || attempt >= 3) throw err;
      log('sandbox').warn({ port, attempt }, 'sandbox port was taken meanwhile; trying another');
    }
  }
}

export async function stopSandbox(dir: string = DEFAULT_SANDBOX_DIR): Promise<{ stopped: boolean }> {
  const p = layout(dir);
  const live = await findLive(p);
  if (!live) {
    await removeRunFiles(p);
    await rm(p.state, { force: true });
    return { stopped: false };
  }
  // SIGTERM is a clean shutdown for mariadbd/mysqld and needs no database password.
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
  return { stopped: true };
}

export async function sandboxStatus(dir: string = DEFAULT_SANDBOX_DIR): Promise<SandboxStatus> {
  const p = layout(dir);
  const live = await findLive(p);
  if (!live) return { dir: p.dir, running: false };
  return { dir: p.dir, running: true, pid: live.pid, port: live.port, socket: p.socket, startedAt: live.state?.startedAt, version: live.state?.version };
}

// ---------------------------------------------------------------- start

interface Live {
  pid: number;
  port?: number;
  state?: StateFile;
}

/** The server already running in this folder, if any (pid alive and it is ours, not a reused pid). */
async function findLive(p: Layout): Promise<Live | undefined> {
  const state = await readState(p);
  const pidText = await readFile(p.pidFile, 'utf8').catch(() => '');
  const pids = [Number(pidText.trim()), state?.pid].filter((n): n is number => Number.isInteger(n) && n! > 0);
  for (const pid of new Set(pids)) {
    if (!(await isOurServer(pid, p))) continue;
    const fromState = state?.pid === pid ? state : undefined;
    return { pid, state: fromState, port: fromState?.port ?? (await portFromCmdline(pid)) };
  }
  return undefined;
}

async function attach(p: Layout, live: Live, wantPort: number | undefined, timeoutMs: number): Promise<SandboxInfo> {
  if (live.port === undefined) {
    throw new LrError('LR_SANDBOX', `A sandbox server (process ${live.pid}) runs in ${p.dir} but its port is unknown; stop it with: lastresort sandbox stop ${sh(p.dir)}`);
  }
  if (wantPort !== undefined && wantPort !== live.port) {
    throw new LrError('LR_SANDBOX', `A sandbox already runs in ${p.dir} on port ${live.port}, not ${wantPort}; stop it first or leave the port out.`);
  }
  // It may have been started a moment ago by another run and still be coming up.
  const version = await waitReady(live.port, timeoutMs, async () => ((await isOurServer(live.pid, p)) ? undefined : 'the server process ended'), p);
  const state: StateFile = live.state ?? {
    pid: live.pid, port: live.port, socket: p.socket, dataDir: p.data, startedAt: new Date().toISOString(),
    binary: (await binaryFromCmdline(live.pid)) ?? 'unknown', version, flavor: /mariadb/i.test(version) ? 'mariadb' : 'mysql',
  };
  if (!live.state) await writeState(p, state);
  log('sandbox').info({ dir: p.dir, pid: live.pid, port: live.port }, 'reusing running sandbox');
  return info(p, state, true);
}

async function launch(p: Layout, binary: string, flavor: Flavor, port: number, timeoutMs: number): Promise<SandboxInfo> {
  const args = serverArgs(p, flavor, port);
  const logOffset = await sizeOf(p.errorLog);
  const started = Date.now();
  log('sandbox').info({ dir: p.dir, binary, port }, 'starting sandbox server');
  // Detached with stdio ignored and unref'd: the server outlives this process and
  // is not killed by Ctrl-C in the terminal that started it.
  const child = spawn(binary, args, { detached: true, stdio: 'ignore' });
  let ended: string | undefined;
  child.on('error', (err) => { ended = `it could not be run (${(err as NodeJS.ErrnoException).code ?? err.message})`; });
  child.on('exit', (code, signal) => { ended = `it stopped (${signal ?? `exit code ${code}`})`; });
  child.unref();

  let version: string;
  try {
    version = await waitReady(port, timeoutMs, async () => ended, p);
  } catch (err) {
    if (isLrError(err)) throw err;
    const tail = await readTail(p.errorLog, logOffset);
    log('sandbox').error({ dir: p.dir, port, errorLogTail: tail }, 'sandbox server did not start');
    const why = lastError(tail);
    const portTaken = /address already in use|bind on tcp\/ip port/i.test(tail);
    const msg = ended === undefined
      ? `The sandbox server in ${p.dir} did not answer within ${Math.round(timeoutMs / 1000)} s; it may still be starting (see ${p.errorLog}), or stop it with: lastresort sandbox stop ${sh(p.dir)}`
      : `The sandbox server in ${p.dir} could not start${why ? `: ${why}` : ''}. See ${p.errorLog}.`;
    throw new LrError('LR_SANDBOX', msg, { cause: err, detail: { port, portTaken } });
  }

  const state: StateFile = {
    pid: child.pid!, port, socket: p.socket, dataDir: p.data, startedAt: new Date().toISOString(), binary, version, flavor,
  };
  await writeState(p, state);
  log('sandbox').info({ dir: p.dir, pid: state.pid, port, ms: Date.now() - started }, 'sandbox server ready');
  return info(p, state, false);
}

function serverArgs(p: Layout, flavor: Flavor, port: number): string[] {
  return [
    // First, always: never read /etc/mysql/my.cnf or ~/.my.cnf, which belong to the real server.
    '--no-defaults',
    ...userArgs(),
    `--datadir=${p.data}`,
    `--socket=${p.socket}`,
    `--pid-file=${p.pidFile}`,
    `--log-error=${p.errorLog}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    '--local-infile=1',
    '--skip-log-bin',
    // The server may run as root: keep LOAD_FILE / INTO OUTFILE inside the sandbox.
    `--secure-file-priv=${p.files}`,
    `--tmpdir=${p.tmp}`,
    // Tuned for a fast bulk restore; crash safety matters little for a scratch copy.
    '--innodb-buffer-pool-size=512M',
    '--innodb-log-file-size=256M',
    '--innodb-flush-log-at-trx-commit=2',
    '--innodb-doublewrite=0',
    '--max-allowed-packet=1G',
    ...(flavor === 'mariadb'
      // install-db made root@127.0.0.1 for this mode, so no DNS lookups are needed.
      ? ['--skip-name-resolve']
      // MySQL's X plugin would otherwise listen on port 33060 on every interface.
      : ['--mysqlx=OFF']),
  ];
}

/**
 * mariadbd refuses to run as root unless told to. We pass --user=root rather
 * than switching to the `mysql` account: that account usually cannot reach the
 * folder (the default ./lastresort-sandbox often sits under /root, mode 0700),
 * and chowning a user's folder to mysql is surprising. secure-file-priv and the
 * 127.0.0.1 binding limit what a root-run server can be made to do.
 */
function userArgs(): string[] {
  return process.getuid?.() === 0 ? ['--user=root'] : [];
}

/** Create the system tables once; built in a side folder and renamed so a failed run leaves no half-made data dir. */
async function initDataDir(p: Layout, binary: string, flavor: Flavor): Promise<void> {
  const building = `${p.data}.new`;
  await rm(building, { recursive: true, force: true });
  const started = Date.now();
  let cmd: string;
  let args: string[];
  if (flavor === 'mariadb') {
    cmd = await findInstallDb(binary);
    args = [
      '--no-defaults', ...userArgs(), `--basedir=${resolve(dirname(binary), '..')}`, `--datadir=${building}`,
      // 'normal' gives root an empty password, also on 127.0.0.1; the socket folder is private.
      '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve',
      '--innodb-log-file-size=256M',
    ];
  } else {
    cmd = binary;
    args = ['--no-defaults', ...userArgs(), '--initialize-insecure', `--datadir=${building}`];
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
  log('sandbox').info({ dir: p.dir, ms: Date.now() - started }, 'sandbox data directory ready');
}

/**
 * Poll until the server accepts a connection; returns its version. `gone` says
 * why the server cannot come up any more (it exited), so we fail at once
 * instead of waiting out the timeout.
 */
async function waitReady(port: number, timeoutMs: number, gone: () => Promise<string | undefined>, p: Layout): Promise<string> {
  const dsn = sandboxDsn(port);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const conn = await connect(dsn, { noDatabase: true, extra: { connectTimeout: 2000 } });
      try {
        const [rows] = await conn.query('SELECT VERSION() AS v');
        return String((rows as { v: string }[])[0].v);
      } finally {
        await conn.end().catch(() => {});
      }
    } catch (err) {
      if (isLrError(err, 'LR_DB_ACCESS')) {
        throw new LrError('LR_SANDBOX', `The sandbox server in ${p.dir} refused user root without a password; was its root password changed?`, { cause: err });
      }
      const why = await gone();
      if (why) throw new Error(`sandbox server in ${p.dir} ended before accepting connections: ${why}`, { cause: err });
      if (Date.now() > deadline) throw new Error(`sandbox server in ${p.dir} not ready after ${timeoutMs} ms`, { cause: err });
    }
    await sleep(100);
  }
}

// ---------------------------------------------------------------- finding programs

async function findServer(given?: string): Promise<string> {
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

async function findInstallDb(binary: string): Promise<string> {
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

async function flavorOf(binary: string): Promise<Flavor> {
  try {
    const { stdout } = await run(binary, ['--no-defaults', '--version'], { timeout: 15_000 });
    return /mariadb/i.test(stdout) ? 'mariadb' : 'mysql';
  } catch (err) {
    throw new LrError('LR_SANDBOX', `The database server program ${binary} could not be run; check the MariaDB installation.`, { cause: err });
  }
}

// ---------------------------------------------------------------- processes

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Alive and really our server: guards against a pid reused by an unrelated process. */
async function isOurServer(pid: number, p: Layout): Promise<boolean> {
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

async function portFromCmdline(pid: number): Promise<number | undefined> {
  const arg = (await cmdline(pid))?.find((a) => a.startsWith('--port='));
  return arg ? Number(arg.slice('--port='.length)) : undefined;
}

async function binaryFromCmdline(pid: number): Promise<string | undefined> {
  return (await cmdline(pid))?.[0];
}

// ---------------------------------------------------------------- ports

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

async function portIsFree(port: number): Promise<boolean> {
  const server = net.createServer();
  try {
    await new Promise<void>((ok, fail) => server.once('error', fail).listen(port, '127.0.0.1', ok));
    await new Promise<void>((ok) => server.close(() => ok()));
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- files

function sandboxDsn(port: number): Dsn {
  return { host: '127.0.0.1', port, user: 'root', password: '', database: '' };
}

function info(p: Layout, s: StateFile, reused: boolean): SandboxInfo {
  const client = s.flavor === 'mysql' ? 'mysql' : 'mariadb';
  return {
    dir: p.dir,
    dsn: sandboxDsn(s.port),
    socket: p.socket,
    pid: s.pid,
    port: s.port,
    connectCommand: `${client} --socket=${sh(p.socket)} -uroot`,
    stopCommand: `lastresort sandbox stop ${sh(p.dir)}`,
    version: s.version,
    binary: s.binary,
    reused,
  };
}

async function readState(p: Layout): Promise<StateFile | undefined> {
  try {
    const s = JSON.parse(await readFile(p.state, 'utf8')) as StateFile;
    return Number.isInteger(s.pid) && Number.isInteger(s.port) ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Written to a side file and renamed, so a reader never sees half a file; 0600 because it says where patient data is served. */
async function writeState(p: Layout, s: StateFile): Promise<void> {
  const tmp = `${p.state}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
  await chmod(tmp, 0o600); // in case a stale tmp file existed with another mode
  await rename(tmp, p.state);
}

async function removeRunFiles(p: Layout): Promise<void> {
  for (const f of [p.socket, `${p.socket}.lock`, p.pidFile]) await rm(f, { force: true });
}

/** The error log from `offset` (this start's part), at most the last 16 KiB. */
async function readTail(file: string, offset: number): Promise<string> {
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
function lastError(text: string): string | undefined {
  const lines = text.split('\n').filter((l) => /\[ERROR\]/.test(l) && !/Aborting|Do you already have another/i.test(l));
  const line = lines[0] ?? text.split('\n').filter((l) => /error/i.test(l)).pop();
  return line?.replace(/^.*?\[ERROR\]\s*/, '').trim().slice(0, 200) || undefined;
}

async function sizeOf(file: string): Promise<number> {
  return stat(file).then((s) => s.size, () => 0);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, fsc.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Quote for a POSIX shell, only when needed, so printed commands can be pasted. */
function sh(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
