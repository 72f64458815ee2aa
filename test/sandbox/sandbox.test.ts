/**
 * Real mariadbd processes, no mocks. One sandbox is started in a temp folder
 * and walked through start → load → reuse → stop → restart; teardown always
 * stops it so no server is left behind when an assertion fails.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/db/connect.js';
import { isLrError } from '../../src/errors.js';
import { parseTarget, sandboxStatus, startSandbox, stopSandbox, type SandboxInfo } from '../../src/sandbox/index.js';

const run = promisify(execFile);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); ok(true); });
    s.once('error', () => ok(false));
  });
}

async function rowsOf(info: SandboxInfo): Promise<unknown[]> {
  const conn = await connect({ ...info.dsn, database: 'lr' });
  try {
    const [rows] = await conn.query('SELECT id, name FROM t ORDER BY id');
    return rows as unknown[];
  } finally {
    await conn.end();
  }
}

describe('sandbox server', { timeout: 90_000 }, () => {
  let dir: string;
  let first: SandboxInfo;

  before(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'lr-sbx-')), 'sb');
  });

  after(async () => {
    await stopSandbox(dir).catch((err) => console.error('teardown stop failed:', err));
    await rm(join(dir, '..'), { recursive: true, force: true });
  });

  it('starts a fresh sandbox that accepts LOAD DATA LOCAL INFILE', async () => {
    const t0 = Date.now();
    first = await startSandbox({ dir });
    console.log(`cold start (install + start): ${Date.now() - t0} ms`);
    assert.equal(first.reused, false);
    assert.equal(first.dsn.host, '127.0.0.1');
    assert.equal(first.dsn.user, 'root');
    assert.equal(first.dsn.password, '');
    assert.equal(first.connectCommand, `mariadb --socket=${join(dir, 'mysqld.sock')} -uroot`);
    assert.equal(first.stopCommand, `lastresort sandbox stop ${dir}`);

    const state = JSON.parse(await readFile(join(dir, 'sandbox.json'), 'utf8'));
    assert.equal(state.pid, first.pid);
    assert.equal(state.port, first.port);
    assert.equal((await stat(join(dir, 'sandbox.json'))).mode & 0o777, 0o600);

    const conn = await connect(first.dsn, { noDatabase: true });
    try {
      const [vars] = await conn.query('SELECT @@local_infile AS li, @@bind_address AS ba, @@log_bin AS lb');
      assert.deepEqual(vars, [{ li: '1', ba: '127.0.0.1', lb: '0' }]); // connect() asks for big numbers as strings
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
    assert.deepEqual(await rowsOf(first), [{ id: 1, name: 'alpha' }, { id: 2, name: 'beta' }, { id: 3, name: 'gamma' }]);
  });

  it('reuses the running sandbox', async () => {
    const again = await startSandbox({ dir });
    assert.equal(again.reused, true);
    assert.equal(again.pid, first.pid);
    assert.equal(again.port, first.port);
    const status = await sandboxStatus(dir);
    assert.equal(status.running, true);
    assert.equal(status.pid, first.pid);
    assert.equal(status.port, first.port);
  });

  it('stops it: process gone, port closed, data kept', async () => {
    assert.deepEqual(await stopSandbox(dir), { stopped: true });
    assert.equal(isAlive(first.pid), false);
    assert.equal(await portAnswers(first.port), false);
    await assert.rejects(stat(join(dir, 'mysqld.sock')));
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
    const again = JSON.parse(stdout) as SandboxInfo;
    assert.equal(again.reused, false);
    assert.notEqual(again.pid, first.pid);
    assert.equal(isAlive(again.pid), true);
    assert.equal((await sandboxStatus(dir)).running, true);
    assert.equal((await rowsOf(again)).length, 3);
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
