/**
 * Real mariadbd processes, no mocks. One sandbox is started in a temp folder
 * and walked through start → load → reuse → stop → restart → replace an old
 * networked server; teardown always stops it so no server is left behind when
 * an assertion fails.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/db/connect.js';
import { describeDsn, formatDsn, parseDsn, type Dsn } from '../../src/db/dsn.js';
import { isLrError } from '../../src/errors.js';
import { defaultSandboxDir, parseTarget, SANDBOX_ACCOUNT, sandboxStatus, startSandbox, stopSandbox, type SandboxInfo } from '../../src/sandbox/index.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** Running: a zombie does not count (a server this test process started stays one until Node reaps it). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return process.platform !== 'linux';
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); ok(true); });
    s.once('error', () => ok(false));
  });
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

/**
 * The network sockets a process holds, from /proc: its fds' socket inodes
 * matched against its network namespace's tcp/udp tables (and the unix table,
 * to prove the lookup found the process's sockets at all).
 */
async function socketsOf(pid: number): Promise<{ tcpListening: number[]; udp: number[]; unixPaths: string[] }> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
    if (m) inodes.add(m[1]);
  }
  const rows = async (table: string) => (await readFile(`/proc/${pid}/net/${table}`, 'utf8')).split('\n').slice(1)
    .map((l) => l.trim().split(/\s+/)).filter((f) => f.length > 6);
  const port = (local: string) => parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
  const tcpListening: number[] = [];
  const udp: number[] = [];
  for (const t of ['tcp', 'tcp6']) for (const f of await rows(t)) if (f[3] === '0A' && inodes.has(f[9])) tcpListening.push(port(f[1]));
  for (const t of ['udp', 'udp6']) for (const f of await rows(t)) if (inodes.has(f[9])) udp.push(port(f[1]));
  const unixPaths = (await rows('unix').catch(() => [] as string[][])).filter((f) => inodes.has(f[6]) && f[7]).map((f) => f[7]);
  return { tcpListening, udp, unixPaths };
}

async function rowsOf(dsn: Dsn): Promise<unknown[]> {
  const conn = await connect({ ...dsn, database: 'lr' });
  try {
    const [rows] = await conn.query('SELECT id, name FROM t ORDER BY id');
    return rows as unknown[];
  } finally {
    await conn.end();
  }
}

/**
 * The server runs as a non-root user (the sandbox account when we are root,
 * else as us), and owns its data folder and every file in it.
 */
async function assertUnprivileged(pid: number, dir: string): Promise<void> {
  const uid = Number(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]);
  assert.notEqual(uid, 0, 'the sandbox server does not run as root');
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', SANDBOX_ACCOUNT]);
    assert.equal(uid, Number(stdout.trim()));
  } else {
    assert.equal(uid, process.getuid?.());
  }
  const { stdout: foreign } = await run('find', [join(dir, 'data'), join(dir, 'files'), join(dir, 'tmp'), join(dir, 'error.log'), '!', '-uid', String(uid)]);
  assert.equal(foreign, '', 'every file of the server belongs to the account it runs as');
  assert.equal((await stat(dir)).uid, uid);
}

describe('sandbox server', { timeout: 120_000 }, () => {
  let dir: string;
  let sock: string;
  let first: SandboxInfo;
  let current: SandboxInfo;

  before(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'lr-sbx-')), 'sb');
    sock = join(dir, 'mysqld.sock');
    // As root the server runs as the sandbox account, which must pass through mkdtemp's 0700 parent.
    if (process.getuid?.() === 0) await chmod(join(dir, '..'), 0o711);
  });

  after(async () => {
    await stopSandbox(dir).catch((err) => console.error('teardown stop failed:', err));
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  it('starts a fresh socket-only sandbox that accepts LOAD DATA LOCAL INFILE', async () => {
    const t0 = Date.now();
    first = current = await startSandbox({ dir });
    console.log(`cold start (install + start): ${Date.now() - t0} ms`);
    assert.equal(first.reused, false);
    assert.deepEqual(first.dsn, { host: 'localhost', port: 0, user: 'root', password: '', database: '', socketPath: sock });
    assert.equal(first.socket, sock);
    assert.equal(describeDsn(first.dsn), `root@socket ${sock}`);
    assert.equal(first.connectCommand, `mariadb --socket=${sock} -uroot`);
    assert.equal(first.stopCommand, `lastresort sandbox stop ${dir}`);
    assert.equal('port' in first, false);

    await assertUnprivileged(first.pid, dir);
    const state = JSON.parse(await readFile(join(dir, 'sandbox.json'), 'utf8'));
    assert.equal(state.pid, first.pid);
    assert.equal(state.socket, sock);
    assert.equal('port' in state, false);
    assert.equal((await stat(join(dir, 'sandbox.json'))).mode & 0o777, 0o600);
    assert.equal((await stat(dir)).mode & 0o777, 0o700); // the one lock on the socket

    const conn = await connect(first.dsn, { noDatabase: true });
    try {
      const [vars] = await conn.query('SELECT @@local_infile AS li, @@skip_networking AS sn, @@port AS port, @@log_bin AS lb, USER() AS u');
      // connect() asks for big numbers as strings; root@localhost (not @127.0.0.1) means it came over the socket.
      assert.deepEqual(vars, [{ li: '1', sn: '1', port: '0', lb: '0', u: 'root@localhost' }]);
      await conn.query('CREATE DATABASE lr');
      await conn.query('CREATE TABLE lr.t (id INT PRIMARY KEY, name VARCHAR(50))');
      await conn.query({
        sql: "LOAD DATA LOCAL INFILE 'rows.tsv' INTO TABLE lr.t",
        // mysql2 copies the chunks, so they must be Buffers, not strings.
        infileStreamFactory: () => Readable.from([Buffer.from('1\talpha\n2\tbeta\n'), Buffer.from('3\tgamma\n')]),
      });
    } finally {
      await conn.end();
    }
    assert.deepEqual(await rowsOf(first.dsn), [{ id: 1, name: 'alpha' }, { id: 2, name: 'beta' }, { id: 3, name: 'gamma' }]);

    // The printed connect command works as printed: root, empty password, over the socket.
    const { stdout } = await run('sh', ['-c', `${first.connectCommand} -N -e 'SELECT COUNT(*) FROM lr.t'`]);
    assert.equal(stdout.trim(), '3');
  });

  it('opens no TCP or UDP port (checked in /proc, with the check itself proven on a listener)', { skip: process.platform !== 'linux' }, async () => {
    // Positive control: the same lookup must see a port this test process listens on.
    const probe = net.createServer();
    await new Promise<void>((ok) => probe.listen(0, '127.0.0.1', ok));
    try {
      const probePort = (probe.address() as net.AddressInfo).port;
      assert.ok((await socketsOf(process.pid)).tcpListening.includes(probePort), 'the /proc lookup finds a listening port');
    } finally {
      await new Promise<void>((ok) => probe.close(() => ok()));
    }
    const s = await socketsOf(first.pid);
    assert.ok(s.unixPaths.includes(sock), `the lookup sees the server's sockets: ${JSON.stringify(s)}`);
    assert.deepEqual(s.tcpListening, []);
    assert.deepEqual(s.udp, []);
    assert.match(await readFile(join(dir, 'error.log'), 'utf8'), new RegExp(`socket: '${sock}'  port: 0 `));
  });

  it('another local user cannot reach the socket (the folder is the lock)', { skip: process.getuid?.() !== 0 && 'needs root to act as another user' }, async () => {
    // As user nobody, try the socket; mkdtemp made the parent 0700, open it so only the sandbox folder's mode decides.
    const parent = join(dir, '..');
    await chmod(parent, 0o755);
    const tryAsNobody = async (path: string) => (await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e',
      `require('net').connect(process.argv[1]).on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => console.log(e.code));`, path])).stdout.trim();
    // Positive control: a world-writable socket in an open folder is reachable by nobody.
    const openDir = join(parent, 'open');
    await mkdir(openDir, { mode: 0o755 });
    const probe = net.createServer((c) => c.destroy());
    await new Promise<void>((ok) => probe.listen(join(openDir, 'probe.sock'), ok));
    try {
      await chmod(join(openDir, 'probe.sock'), 0o777);
      assert.equal(await tryAsNobody(join(openDir, 'probe.sock')), 'connected');
    } finally {
      await new Promise<void>((ok) => probe.close(() => ok()));
    }
    assert.equal((await stat(sock)).mode & 0o777, 0o777); // the server leaves its socket open to all...
    assert.equal(await tryAsNobody(sock), 'EACCES'); // ...so this is the folder's 0700 at work
  });

  it('reuses the running sandbox, and makes a loosened folder private again', async () => {
    await chmod(dir, 0o755);
    const again = await startSandbox({ dir });
    assert.equal(again.reused, true);
    assert.equal(again.pid, first.pid);
    assert.deepEqual(again.dsn, first.dsn);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    const status = await sandboxStatus(dir);
    assert.equal(status.running, true);
    assert.equal(status.pid, first.pid);
    assert.equal(status.socket, sock);
  });

  it('a mysql:// address with ?socket= reaches it, and formats and parses back the same', async () => {
    // The form `recover` prints for validate (no port: parseDsn fills in its default, unused over a socket).
    const text = `mysql://root@localhost/lr?socket=${encodeURIComponent(sock)}`;
    const dsn = parseDsn(text);
    assert.equal(dsn.socketPath, sock);
    assert.deepEqual(parseDsn(formatDsn(dsn)), dsn);
    const t = parseTarget(text);
    assert.ok(t.kind === 'dsn');
    assert.equal((await rowsOf(t.dsn)).length, 3);
    assert.deepEqual(parseTarget(`sandbox:${dir}`), { kind: 'sandbox', dir });
  });

  it('stops it: process gone, socket gone, data kept', async () => {
    assert.deepEqual(await stopSandbox(dir), { stopped: true });
    assert.equal(isAlive(first.pid), false);
    await assert.rejects(connect(first.dsn, { noDatabase: true }), (e: unknown) => isLrError(e, 'LR_DB_UNREACHABLE'));
    await assert.rejects(stat(sock));
    await assert.rejects(stat(join(dir, 'mysqld.pid')));
    assert.ok((await stat(join(dir, 'data', 'lr'))).isDirectory());
    assert.equal((await sandboxStatus(dir)).running, false);
    assert.deepEqual(await stopSandbox(dir), { stopped: false });
  });

  it('a restart from a process that then exits brings the data back and keeps running', async () => {
    // The server must outlive whoever started it: start it from a child Node process.
    const script = join(dir, '..', 'start.mts');
    const entry = pathToFileURL(join(process.cwd(), 'src/sandbox/index.ts')).href;
    await writeFile(script, `import { startSandbox } from '${entry}';\nconsole.log(JSON.stringify(await startSandbox({ dir: ${JSON.stringify(dir)} })));\n`);
    const t0 = Date.now();
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script], { cwd: process.cwd() });
    console.log(`warm start in a child process (existing data dir, incl. node+tsx start-up): ${Date.now() - t0} ms`);
    const again = current = JSON.parse(stdout) as SandboxInfo;
    assert.equal(again.reused, false);
    assert.notEqual(again.pid, first.pid);
    assert.equal(isAlive(again.pid), true);
    assert.equal((await sandboxStatus(dir)).running, true);
    assert.equal((await rowsOf(again.dsn)).length, 3);
    if (process.platform === 'linux') assert.deepEqual((await socketsOf(again.pid)).tcpListening, []);
  });

  it('a server left on a TCP port by an older version is restarted socket-only, data kept', { skip: process.platform !== 'linux' }, async () => {
    assert.deepEqual(await stopSandbox(dir), { stopped: true });
    // What the previous version ran: 127.0.0.1:PORT, root without a password.
    const port = await freePort();
    const old = spawn('/usr/sbin/mariadbd', [
      '--no-defaults', ...(process.getuid?.() === 0 ? ['--user=root'] : []), `--datadir=${join(dir, 'data')}`, `--socket=${sock}`,
      `--pid-file=${join(dir, 'mysqld.pid')}`, `--log-error=${join(dir, 'error.log')}`, `--port=${port}`, '--bind-address=127.0.0.1',
      '--skip-log-bin', '--skip-name-resolve',
    ], { detached: true, stdio: 'ignore' });
    old.unref();
    const oldPid = old.pid!;
    try {
      for (let i = 0; !(await portAnswers(port)); i++) {
        assert.ok(i < 300 && isAlive(oldPid), 'the old-style server came up');
        await sleep(100);
      }
      await writeFile(join(dir, 'sandbox.json'), JSON.stringify({ pid: oldPid, port, socket: sock, dataDir: join(dir, 'data'), startedAt: new Date().toISOString(), binary: '/usr/sbin/mariadbd', version: 'x', flavor: 'mariadb' }), { mode: 0o600 });
      // The /proc check does see a mariadbd that listens: it would catch a regression.
      assert.deepEqual((await socketsOf(oldPid)).tcpListening, [port]);

      const fresh = current = await startSandbox({ dir });
      assert.equal(fresh.reused, false);
      assert.notEqual(fresh.pid, oldPid);
      assert.equal(isAlive(oldPid), false);
      assert.equal(await portAnswers(port), false);
      assert.deepEqual((await socketsOf(fresh.pid)).tcpListening, []);
      assert.equal('port' in JSON.parse(await readFile(join(dir, 'sandbox.json'), 'utf8')), false);
      assert.equal((await rowsOf(fresh.dsn)).length, 3);
      // The old server ran as root and wrote files as root: the new one runs as the account, owning them all.
      await assertUnprivileged(fresh.pid, dir);
    } finally {
      if (isAlive(oldPid)) process.kill(oldPid, 'SIGKILL');
    }
  });

  it('refuses a folder that belongs to another user', { skip: process.getuid?.() !== 0 && 'needs root to give a folder away' }, async () => {
    const theirs = join(dir, '..', 'theirs');
    await mkdir(theirs, { mode: 0o755 });
    await chown(theirs, 65534, 65534);
    await assert.rejects(startSandbox({ dir: theirs }), (err: unknown) => {
      assert.ok(isLrError(err, 'LR_SANDBOX'), String(err));
      assert.match(err.message, /belongs to another user/);
      return true;
    });
    assert.deepEqual(await readdir(theirs), []);
  });

  it('as root, refuses a folder the sandbox account cannot reach, in one plain line, and creates nothing', { skip: process.getuid?.() !== 0 && 'only root switches accounts' }, async () => {
    const closed = join(dir, '..', 'closed');
    await mkdir(closed, { mode: 0o700 });
    await assert.rejects(startSandbox({ dir: join(closed, 'sb') }), (err: unknown) => {
      assert.ok(isLrError(err, 'LR_SANDBOX'), String(err));
      assert.doesNotMatch(err.message, /\n/);
      assert.equal(err.message, `The sandbox server runs as the unprivileged account ${SANDBOX_ACCOUNT}, and ${closed} (mode 700) is closed to other accounts; choose a sandbox folder it can reach, for example sandbox:/var/lib/lastresort-sandbox/sandbox.`);
      return true;
    });
    assert.deepEqual(await readdir(join(closed, 'sb')), ['files', 'tmp']); // no data folder, no server
    // Without a DIR, root in such a folder gets the system folder instead of ./lastresort-sandbox ...
    assert.equal(await defaultSandboxDir(closed), '/var/lib/lastresort-sandbox/sandbox');
    // ... and in a folder others may pass through, ./lastresort-sandbox as before.
    assert.equal(await defaultSandboxDir(join(dir, '..')), join(dir, '..', 'lastresort-sandbox'));
  });

  it('a server that fails to start is one plain LR_SANDBOX line from its error log', async () => {
    const other = join(dir, '..', 'broken');
    await mkdir(join(other, 'data', 'mysql'), { recursive: true }); // looks initialised: no install step
    const fake = join(dir, '..', 'fake-mariadbd');
    await writeFile(fake, [
      '#!/bin/sh',
      'for a in "$@"; do case "$a" in --version) echo "fake Ver 10.11 MariaDB"; exit 0;; --log-error=*) L="${a#--log-error=}";; esac; done',
      'echo "2026-01-01 00:00:00 0 [ERROR] InnoDB: the data is unreadable" >> "$L"',
      'echo "2026-01-01 00:00:00 0 [ERROR] Aborting" >> "$L"',
      'exit 1',
    ].join('\n'), { mode: 0o755 });
    await assert.rejects(startSandbox({ dir: other, binary: fake }), (err: unknown) => {
      assert.ok(isLrError(err, 'LR_SANDBOX'), String(err));
      assert.doesNotMatch(err.message, /\n/);
      assert.match(err.message, /could not start: InnoDB: the data is unreadable\. See .*error\.log/);
      return true;
    });
  });

  it('a missing server program is one plain LR_SANDBOX line', async () => {
    const other = join(dir, '..', 'never');
    await assert.rejects(startSandbox({ dir: other, binary: '/nonexistent/sbin/mariadbd' }), (err: unknown) => {
      assert.ok(isLrError(err, 'LR_SANDBOX'), String(err));
      assert.doesNotMatch(err.message, /\n/);
      assert.match(err.message, /\/nonexistent\/sbin\/mariadbd/);
      return true;
    });
    await assert.rejects(stat(other)); // nothing created for a sandbox that could not start
  });

  it('is still the one running at the end (teardown stops it)', async () => {
    assert.equal((await sandboxStatus(dir)).pid, current.pid);
  });
});

describe('parseTarget', () => {
  it('reads sandbox, sandbox:DIR and server addresses', () => {
    assert.deepEqual(parseTarget('sandbox'), { kind: 'sandbox' });
    assert.deepEqual(parseTarget('sandbox:'), { kind: 'sandbox' });
    assert.deepEqual(parseTarget('sandbox:/srv/sb'), { kind: 'sandbox', dir: '/srv/sb' });
    assert.deepEqual(parseTarget('sandbox:rel/dir'), { kind: 'sandbox', dir: 'rel/dir' });
    const t = parseTarget('mysql://u:p@db.example:3307/od');
    assert.equal(t.kind, 'dsn');
    assert.equal(t.kind === 'dsn' && t.dsn.port, 3307);
    assert.throws(() => parseTarget('sandbox://x'), (e: unknown) => isLrError(e, 'LR_BAD_DSN'));
    assert.throws(() => parseTarget('nonsense'), (e: unknown) => isLrError(e, 'LR_BAD_DSN'));
  });
});
