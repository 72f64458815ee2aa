/**
 * What a person reads when the server itself is the problem, each its own
 * plain line instead of a server code: a read-only target (a private
 * MariaDB with read_only on: the temporary restore account may not write),
 * a frozen server (SIGSTOP: its kernel still takes the connection, so "check
 * the address and the network" would send the person the wrong way), for a
 * restore and for a backup, and a table that went away under the tool
 * (ER_NO_SUCH_TABLE, a real error of the shared server).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { passwordFile, tempDir } from '../helpers/backup.js';
import { connectServer } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { startSecondServer, type SecondServer } from '../helpers/second-server.js';
import { VECTOR_PASSWORD } from '../vectors/plaintext.js';
import { encrypt, payloadBytes } from '../vectors/hostile/payload.js';
import { translateDbError } from '../../src/db/connect.js';
import { parseDsn } from '../../src/db/dsn.js';

let server: SecondServer;
let file: string;
let password: string;

before(async () => {
  const work = await tempDir('lr-words-');
  password = await passwordFile(work, VECTOR_PASSWORD);
  file = join(work, 'small.lrb');
  const table = (name: string, engine: string) => ({ index: name === 'a' ? 1 : 2, name, engine, columns: [{ name: 'id', dataType: 'int', encoding: 'text' as const }], primaryKey: ['id'], rowsEstimate: 1, create: `CREATE TABLE \`${name}\` (\n  \`id\` int NOT NULL,\n  PRIMARY KEY (\`id\`)\n) ENGINE=${engine} DEFAULT CHARSET=utf8mb4`, rows: '1\n' });
  await writeFile(file, await encrypt(await payloadBytes({ tables: [table('a', 'MyISAM'), table('b', 'InnoDB')], objects: [] })));
  server = (await startSecondServer())!;
});
after(async () => {
  server?.thaw();
  await server?.stop();
});

const lastresortLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('lastresort'));

test('a read-only target: one line that says so and what to do, no server code', async () => {
  const admin = await server.connect();
  await admin.query('SET GLOBAL read_only = 1');
  try {
    const r = await runCli(['restore', file, '--target', server.dsnFor('lr_words_ro'), '--password-file', password], { timeoutMs: 60_000 });
    assert.equal(r.code, 1, r.stderr);
    const lines = lastresortLines(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /is read-only \(its read_only setting is on\), so nothing can be written to it\. Restore to a server that accepts writes, or turn read_only off/);
    assert.doesNotMatch(r.stdout + r.stderr, /ER_OPTION_PREVENTS_STATEMENT/);
  } finally {
    await admin.query('SET GLOBAL read_only = 0');
    await admin.end();
  }
});

test('a frozen server: restore and backup say it takes the connection but does not answer, not "check the network"', async () => {
  server.freeze();
  try {
    const restore = await runCli(['restore', file, '--target', server.dsnFor('lr_words_frozen'), '--password-file', password], { timeoutMs: 60_000 });
    const backup = await runCli(['backup', '--source', server.dsnFor('opendental'), '--out', await tempDir('lr-words-out-')], { timeoutMs: 60_000 });
    for (const [what, r] of [['restore', restore], ['backup', backup]] as const) {
      assert.equal(r.code, 1, `${what}: ${r.stderr}`);
      const lines = lastresortLines(r.stderr);
      assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
      assert.match(lines[0], /takes the connection but does not answer: it is running but stuck/, what);
      assert.doesNotMatch(lines[0], /address and the network/, what);
    }
  } finally {
    server.thaw();
  }
});

test('a table that went away (ER_NO_SUCH_TABLE) is said in words', async () => {
  const conn = await connectServer();
  const err = await conn.query('SELECT 1 FROM mysql.lr_no_such_table_here').then(() => null, (e: unknown) => e);
  await conn.end();
  assert.equal((err as { code?: string }).code, 'ER_NO_SUCH_TABLE');
  const said = translateDbError(err, parseDsn('mysql://root@127.0.0.1:3306/opendental'));
  assert.match(said.message, /^A table of opendental on root@127\.0\.0\.1:3306\/opendental went away while lastresort was reading it: something else is dropping or creating its tables \(a restore into it, an upgrade\)\./);
  assert.doesNotMatch(said.message, /ER_NO_SUCH_TABLE/);
});
