/**
 * A private MariaDB server for the tests that freeze, kill or fill one: its
 * own folder, port and socket, its data folder optionally on a tmpfs of a
 * given size, small InnoDB logs so that it fits there. Never the shared
 * test server. Always stopped by pid (stop()), and unmounted.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connect, type Connection } from '../../src/db/connect.js';
import { formatDsn, parseDsn } from '../../src/db/dsn.js';
import { findInstallDb, findServer, run, userArgs } from '../../src/sandbox/programs.js';
import { tempDir } from './backup.js';

export interface SecondServer {
  dir: string;
  dataDir: string;
  port: number;
  pid: number;
  /** Its DSN naming `database`. */
  dsnFor(database: string): string;
  connect(database?: string): Promise<Connection>;
  freeze(): void;
  thaw(): void;
  /** Kills it outright (SIGKILL), as a crash would. */
  kill(): void;
  /** Starts it again on the same data folder if it has stopped (crashed on a full disk, killed). */
  ensureRunning(): Promise<void>;
  /** Gives its tmpfs data folder a new size, contents kept. */
  resize(size: string): void;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

// Small files that grow a megabyte at a time (the default grows ibdata1 by 64 MB), so a small tmpfs holds it.
const INNODB = ['--innodb-log-file-size=4M', '--innodb-buffer-pool-size=32M', '--innodb-data-file-path=ibdata1:4M:autoextend', '--innodb-autoextend-increment=1'];

/**
 * Starts a server with its data folder on a tmpfs of `tmpfsSize` (default
 * 512 MB: in memory, so the shared disk's free space never decides a test),
 * or on disk when root may not mount one and no size was asked for; null
 * when a size was asked for and cannot be had (the caller skips).
 */
export async function startSecondServer(opts: { tmpfsSize?: string } = {}): Promise<SecondServer | null> {
  const dir = await tempDir('lr-second-');
  const dataDir = join(dir, 'data');
  await mkdir(dataDir);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${opts.tmpfsSize ?? '512m'}`, 'tmpfs', dataDir]).status === 0;
  if (!mounted && opts.tmpfsSize) return null;
  const binary = await findServer();
  await run(await findInstallDb(binary), ['--no-defaults', ...userArgs(), `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve', ...INNODB], { timeout: 120_000 });
  const port = await freePort();
  const args = [
    '--no-defaults', ...userArgs(), `--datadir=${dataDir}`, `--socket=${join(dir, 'sock')}`, `--pid-file=${join(dir, 'pid')}`, `--log-error=${join(dir, 'error.log')}`,
    `--port=${port}`, '--bind-address=127.0.0.1', '--skip-name-resolve', '--local-infile=1', '--skip-log-bin', `--tmpdir=${dir}`, ...INNODB,
  ];
  const dsnFor = (database: string) => formatDsn({ ...parseDsn(`mysql://root@127.0.0.1:${port}/`, { requireDatabase: false }), database }, { withPassword: true });
  const connectTo = (database?: string) => connect({ ...parseDsn(dsnFor(database ?? ''), { requireDatabase: false }) }, { noDatabase: database === undefined });
  const launch = async (): Promise<{ child: ChildProcess; exited: Promise<void> }> => {
    const child = spawn(binary, args, { stdio: 'ignore' });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const c = await connectTo();
        await c.end();
        return { child, exited };
      } catch (err) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the second server did not start (see ${dir}/error.log)`, { cause: err });
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  let current = await launch();
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(current.child.pid!, sig);
    } catch {
      // already gone
    }
  };
  const running = () => current.child.exitCode === null && current.child.signalCode === null;
  return {
    dir, dataDir, port,
    get pid() {
      return current.child.pid!;
    },
    dsnFor, connect: connectTo,
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
    kill: () => signal('SIGKILL'),
    ensureRunning: async () => {
      if (!running()) current = await launch();
    },
    resize: (size) => {
      const r = spawnSync('mount', ['-o', `remount,size=${size}`, dataDir], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`remount failed: ${r.stderr}`);
    },
    stop: async () => {
      if (running()) {
        signal('SIGCONT');
        signal('SIGTERM');
        const timer = setTimeout(() => signal('SIGKILL'), 20_000);
        await current.exited;
        clearTimeout(timer);
      }
      if (mounted) spawnSync('umount', [dataDir]);
    },
  };
}
