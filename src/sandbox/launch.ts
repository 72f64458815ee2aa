/** Starting the server process and waiting until it answers on its socket. */
import { spawn } from 'node:child_process';
import { connect } from '../db/connect.js';
import type { Dsn } from '../db/dsn.js';
import { isLrError, LrError } from '../errors.js';
import { log } from '../log.js';
import { shellQuote as sh } from '../shell-quote.js';
import { lastError, readTail, sizeOf, sleep, type Layout } from './paths.js';
import type { RunAs } from './account.js';
import { userArgs, type Flavor } from './programs.js';
import { writeState, type StateFile } from './state.js';
import type { SandboxInfo } from './types.js';

export async function launch(p: Layout, binary: string, flavor: Flavor, timeoutMs: number, account?: RunAs): Promise<SandboxInfo> {
  const args = serverArgs(p, flavor, account);
  const logOffset = await sizeOf(p.errorLog);
  const started = Date.now();
  log('sandbox').info({ dir: p.dir, binary }, 'starting sandbox server');
  // Detached with stdio ignored and unref'd: the server outlives this process and
  // is not killed by Ctrl-C in the terminal that started it.
  const child = spawn(binary, args, { detached: true, stdio: 'ignore' });
  let ended: string | undefined;
  child.on('error', (err) => { ended = `it could not be run (${(err as NodeJS.ErrnoException).code ?? err.message})`; });
  child.on('exit', (code, signal) => { ended = `it stopped (${signal ?? `exit code ${code}`})`; });
  child.unref();

  let version: string;
  try {
    version = await waitReady(p, timeoutMs, async () => ended);
  } catch (err) {
    if (isLrError(err)) throw err;
    const tail = await readTail(p.errorLog, logOffset);
    log('sandbox').error({ dir: p.dir, errorLogTail: tail }, 'sandbox server did not start');
    const why = lastError(tail);
    const msg = ended === undefined
      ? `The sandbox server in ${p.dir} did not answer within ${Math.round(timeoutMs / 1000)} s; it may still be starting (see ${p.errorLog}), or stop it with: lastresort sandbox stop ${sh(p.dir)}`
      : `The sandbox server in ${p.dir} could not start${why ? `: ${why}` : ''}. See ${p.errorLog}.`;
    throw new LrError('LR_SANDBOX', msg, { cause: err });
  }

  const state: StateFile = {
    pid: child.pid!, socket: p.socket, dataDir: p.data, startedAt: new Date().toISOString(), binary, version, flavor,
  };
  await writeState(p, state);
  log('sandbox').info({ dir: p.dir, pid: state.pid, ms: Date.now() - started }, 'sandbox server ready');
  return info(p, state, false);
}

function serverArgs(p: Layout, flavor: Flavor, account?: RunAs): string[] {
  return [
    // First, always: never read /etc/mysql/my.cnf or ~/.my.cnf, which belong to the real server.
    '--no-defaults',
    ...userArgs(account),
    `--datadir=${p.data}`,
    `--socket=${p.socket}`,
    `--pid-file=${p.pidFile}`,
    `--log-error=${p.errorLog}`,
    // No TCP port at all: root has an empty password, and any local user could
    // reach 127.0.0.1. The socket sits in the 0700 folder, so only its owner can.
    '--skip-networking',
    '--local-infile=1',
    '--skip-log-bin',
    // Keep LOAD_FILE / INTO OUTFILE inside the sandbox, whatever account the server runs as.
    `--secure-file-priv=${p.files}`,
    `--tmpdir=${p.tmp}`,
    // Tuned for a fast bulk restore; crash safety matters little for a scratch copy.
    '--innodb-buffer-pool-size=512M',
    '--innodb-log-file-size=256M',
    '--innodb-flush-log-at-trx-commit=2',
    '--innodb-doublewrite=0',
    '--max-allowed-packet=1G',
    ...(flavor === 'mariadb'
      ? ['--skip-name-resolve']
      // MySQL's X plugin would otherwise listen on port 33060 and a socket in /tmp.
      : ['--mysqlx=OFF']),
  ];
}

/**
 * Poll until the server accepts a connection on its socket; returns its
 * version. `gone` says why the server cannot come up any more (it exited), so
 * we fail at once instead of waiting out the timeout.
 */
export async function waitReady(p: Layout, timeoutMs: number, gone: () => Promise<string | undefined>): Promise<string> {
  const dsn = sandboxDsn(p);
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

/** Through the socket only; see SandboxInfo.dsn for the placeholder host and port. */
function sandboxDsn(p: Layout): Dsn {
  return { host: 'localhost', port: 0, user: 'root', password: '', database: '', socketPath: p.socket };
}

export function info(p: Layout, s: StateFile, reused: boolean): SandboxInfo {
  const client = s.flavor === 'mysql' ? 'mysql' : 'mariadb';
  return {
    dir: p.dir,
    dsn: sandboxDsn(p),
    socket: p.socket,
    pid: s.pid,
    connectCommand: `${client} --socket=${sh(p.socket)} -uroot`,
    stopCommand: `lastresort sandbox stop ${sh(p.dir)}`,
    version: s.version,
    binary: s.binary,
    reused,
  };
}
