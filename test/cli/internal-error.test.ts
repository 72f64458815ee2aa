/**
 * A bug is said as a bug: an error that carries no server code never
 * becomes "the server reported an error" (LR_DB), and the person is told
 * where its detail was written (a 0600 file when no log file was given),
 * with quoted values scrubbed out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { isServerError, translateDbError, connect } from '../../src/db/connect.js';
import { parseDsn } from '../../src/db/dsn.js';
import { internalErrorLine } from '../../src/cli/internal-error.js';
import { tempDir } from '../helpers/backup.js';
import { dsnFor } from '../helpers/db.js';

test('only errors from the server or the connection count as server errors', async () => {
  const conn = await connect(parseDsn(dsnFor('mysql')));
  const serverError = await conn.query('SELECT * FROM no_such_table_here').then(() => null, (e: unknown) => e);
  await conn.end();
  assert.ok(isServerError(serverError), 'a real server error');
  assert.equal(translateDbError(serverError, parseDsn(dsnFor('mysql'))).code, 'LR_DB');
  assert.ok(isServerError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })), 'a refused connection');
  assert.ok(!isServerError(new TypeError("Cannot read properties of undefined (reading 'name')")), 'a bug');
  assert.ok(!isServerError(Object.assign(new Error('x'), { code: 'ERR_INVALID_ARG_TYPE' })), "a Node argument error is a bug too");
});

test('an internal error names itself and where its detail went, without row values', async () => {
  const dir = await tempDir('lr-internal-');
  const bug = new TypeError("Cannot use 'Smith, John' here\nsecond line");
  const line = internalErrorLine(bug, undefined, dir);
  assert.match(line, /internal error \(a fault in this program, not in your backup or your server\)/);
  assert.doesNotMatch(line, /Smith/);
  const path = /The detail is in (\S+); send/.exec(line)?.[1];
  assert.ok(path, line);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const detail = readFileSync(path, 'utf8');
  assert.match(detail, /TypeError/);
  assert.match(detail, /internal-error\.test\.ts/, 'the stack is kept');
  assert.doesNotMatch(detail, /Smith/);
  assert.match(internalErrorLine(bug, '/var/log/lastresort/lastresort.log'), /The detail is in \/var\/log\/lastresort\/lastresort\.log/);
});
