/**
 * A private MariaDB for TLS tests, never the shared server on 3306: its own
 * data folder (made by the sandbox code), socket, and TCP port on 127.0.0.1,
 * serving a certificate made here with openssl and signed by a CA made here.
 * Stopped by its pid.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { layout, securePrivateFolder } from '../../src/sandbox/paths.js';
import { initDataDir } from '../../src/sandbox/datadir.js';
import { findServer, flavorOf, userArgs } from '../../src/sandbox/programs.js';
import { waitReady } from '../../src/sandbox/launch.js';

export interface TlsFiles {
  /** The CA that signed the server's certificate. */
  ca: string;
  /** Another CA, which signed nothing the server shows. */
  wrongCa: string;
  serverCert: string;
  serverKey: string;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

/** A CA, a server certificate it signs (for 127.0.0.1 and localhost), and an unrelated CA. */
export async function makeCertificates(dir: string): Promise<TlsFiles> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=lastresort test CA'], dir);
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'wrong-ca.key', '-out', 'wrong-ca.pem', '-days', '2', '-subj', '/CN=some other CA'], dir);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  await writeFile(join(dir, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.cnf'], dir);
  return { ca: join(dir, 'ca.pem'), wrongCa: join(dir, 'wrong-ca.pem'), serverCert: join(dir, 'server.pem'), serverKey: join(dir, 'server.key') };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface TlsServer {
  port: number;
  pid: number;
  /** The account made at start-up: reachable only over TLS (REQUIRE SSL). */
  user: string;
  password: string;
  /** root over the socket, for set-up. */
  socket: string;
  stop(): Promise<void>;
}

/**
 * Starts the server. An init file, run before it accepts any connection, drops
 * the password-less root accounts for 127.0.0.1/::1 (the port is open to this
 * machine) and makes one account that must use TLS.
 */
export async function startTlsServer(dir: string, tls: TlsFiles, account = { user: 'lrtls', password: 'tls-test-password' }): Promise<TlsServer> {
  const p = layout(dir);
  await securePrivateFolder(p);
  for (const d of [p.files, p.tmp]) await mkdir(d, { recursive: true, mode: 0o700 });
  const binary = await findServer();
  const flavor = await flavorOf(binary);
  await initDataDir(p, binary, flavor);
  const initFile = join(p.dir, 'init.sql');
  await writeFile(initFile, [
    "DROP USER IF EXISTS 'root'@'127.0.0.1', 'root'@'::1';",
    `CREATE USER '${account.user}'@'127.0.0.1' IDENTIFIED BY '${account.password}' REQUIRE SSL;`,
    `GRANT ALL ON *.* TO '${account.user}'@'127.0.0.1' WITH GRANT OPTION;`,
  ].join('\n') + '\n', { mode: 0o600 });
  const port = await freePort();
  const child = spawn(binary, [
    '--no-defaults', ...userArgs(), `--datadir=${p.data}`, `--socket=${p.socket}`, `--pid-file=${p.pidFile}`, `--log-error=${p.errorLog}`,
    `--port=${port}`, '--bind-address=127.0.0.1', '--skip-name-resolve', '--skip-log-bin', `--init-file=${initFile}`,
    `--ssl-cert=${tls.serverCert}`, `--ssl-key=${tls.serverKey}`, `--ssl-ca=${tls.ca}`,
    `--secure-file-priv=${p.files}`, `--tmpdir=${p.tmp}`, '--innodb-buffer-pool-size=64M',
  ], { detached: true, stdio: 'ignore' });
  let ended: string | undefined;
  child.on('exit', (code, signal) => { ended = `exited (${signal ?? code}); see ${p.errorLog}`; });
  child.unref();
  const pid = child.pid!;
  const stop = async () => {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    for (let i = 0; i < 600 && ended === undefined; i++) await new Promise((r) => setTimeout(r, 100));
    await rm(p.dir, { recursive: true, force: true });
  };
  try {
    await waitReady(p, 60_000, async () => ended);
  } catch (err) {
    await stop();
    throw err;
  }
  return { port, pid, user: account.user, password: account.password, socket: p.socket, stop };
}
