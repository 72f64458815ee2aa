/**
 * A restore to an address where nothing listens (a port just freed) ends at
 * once with one plain line and exit 1: no minute-long wait for a server
 * that "went away", no "marked as incomplete", no resume command (it never
 * reached a server, so nothing was marked). The backup is a small crafted
 * one (test/vectors/hostile/payload.ts): only the connection is under test.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { passwordFile, tempDir } from '../helpers/files.js';
import { runCli } from '../helpers/cli.js';
import { VECTOR_PASSWORD } from '../vectors/plaintext.js';
import { encrypt, payloadBytes } from '../vectors/hostile/payload.js';

let file: string;
let password: string;

before(async () => {
  const work = await tempDir('lr-unreachable-');
  password = await passwordFile(work, VECTOR_PASSWORD);
  file = join(work, 'small.lrb');
  const create = 'CREATE TABLE `t` (\n  `id` int NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=MyISAM DEFAULT CHARSET=utf8mb4';
  const payload = await payloadBytes({ tables: [{ index: 1, name: 't', engine: 'MyISAM', columns: [{ name: 'id', dataType: 'int', encoding: 'text' }], primaryKey: ['id'], rowsEstimate: 1, create, rows: '1\n' }], objects: [] });
  await writeFile(file, await encrypt(payload));
});

/** A port nothing listens on: one the system just gave out and took back. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

for (const json of [false, true]) {
  test(`restore to a port where nothing listens${json ? ' (--json)' : ''}: exit 1 within 10 s, one plain line, nothing marked, no resume command`, async () => {
    const port = await freePort();
    const started = Date.now();
    const r = await runCli(['restore', file, '--target', `mysql://root@127.0.0.1:${port}/lr_unreachable`, '--password-file', password, ...(json ? ['--json'] : [])], { timeoutMs: 30_000 });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.code, 1, r.stderr);
    assert.ok(seconds < 10, `ended after ${seconds.toFixed(1)} s`);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('lastresort:'));
    assert.equal(lines.length, 1, r.stderr);
    assert.equal(lines[0], `lastresort: Nothing answers at root@127.0.0.1:${port}: check that MySQL/MariaDB is running there and that the address and port are right. Nothing was changed on any server.`);
    assert.doesNotMatch(r.stdout + r.stderr, /--resume|marked as incomplete|was lost|waiting for it/);
  });
}
