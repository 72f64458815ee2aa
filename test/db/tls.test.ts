/**
 * TLS to the database server: `?ssl=required` encrypts, `?ssl-ca=PATH` also
 * checks the server's certificate. Against a private MariaDB started here
 * with a certificate made here by openssl (test/helpers/tls-server.ts), whose
 * one account must use TLS, so every success below went over TLS; and
 * against the shared server on 3306, which has TLS off.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, type Connection } from '../../src/db/connect.js';
import { formatDsn, parseDsn, type Dsn } from '../../src/db/dsn.js';
import { isLrError } from '../../src/errors.js';
import { enrollAdmin } from '../../src/keys/enroll.js';
import { FAST_TEST_KDF } from '../../src/keys/crypto.js';
import { generateOpenDental, DEMO_ADMIN } from '../../fixtures/opendental.js';
import { PASSWORD, passwordFile, tempDir } from '../helpers/backup.js';
import { runCli } from '../helpers/cli.js';
import { makeCertificates, startTlsServer, type TlsFiles, type TlsServer } from '../helpers/tls-server.js';

let dir: string;
let tls: TlsFiles;
let server: TlsServer;

before(async () => {
  dir = await tempDir('lrtls-');
  tls = await makeCertificates(join(dir, 'certs'));
  server = await startTlsServer(join(dir, 'server'), tls);
});
after(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The private server's address for its TLS-only account, with `query` (no password: it is given apart). */
function address(query: string, database = '', host = '127.0.0.1'): string {
  return `mysql://${server.user}@${host}:${server.port}/${database}${query}`;
}
const withPassword = (text: string): Dsn => ({ ...parseDsn(text, { requireDatabase: false }), password: server.password });

async function cipherOf(conn: Connection): Promise<string> {
  try {
    const [rows] = (await conn.query("SHOW STATUS LIKE 'Ssl_cipher'")) as unknown as [{ Value: string }[]];
    return rows[0]?.Value ?? '';
  } finally {
    await conn.end();
  }
}

test('the DSN reads ssl=required and ssl-ca, writes them back, and refuses other ssl values', () => {
  assert.deepEqual(parseDsn('mysql://u@h:3306/d?ssl=required').ssl, {});
  assert.deepEqual(parseDsn('mysql://u@h:3306/d?ssl-ca=/etc/ca.pem').ssl, { ca: '/etc/ca.pem' });
  assert.equal(parseDsn('mysql://u@h:3306/d').ssl, undefined);
  const back = parseDsn(formatDsn(parseDsn('mysql://u@h:3306/d?ssl=required&ssl-ca=/etc/my%20ca.pem')));
  assert.deepEqual(back.ssl, { ca: '/etc/my ca.pem' });
  assert.throws(() => parseDsn('mysql://u@h:3306/d?ssl=preferred'), (e: unknown) => isLrError(e, 'LR_BAD_DSN'));
  assert.throws(() => parseDsn('mysql://u@h:3306/d?ssl-ca='), (e: unknown) => isLrError(e, 'LR_BAD_DSN'));
});

test('ssl=required connects with TLS; ssl-ca checks the certificate (by IP and by host name)', async () => {
  assert.notEqual(await cipherOf(await connect(withPassword(address('?ssl=required')), { noDatabase: true })), '');
  assert.notEqual(await cipherOf(await connect(withPassword(address(`?ssl-ca=${tls.ca}`)), { noDatabase: true })), '');
  assert.notEqual(await cipherOf(await connect(withPassword(address(`?ssl-ca=${tls.ca}`, '', 'localhost')), { noDatabase: true })), '');
  // Without TLS this account is refused by the server: the DSN's ssl is what made the difference.
  await assert.rejects(connect(withPassword(address('')), { noDatabase: true }), (e: unknown) => isLrError(e, 'LR_DB_ACCESS'));
});

test('a certificate the given CA did not sign is refused, and so is a server without TLS', async () => {
  await assert.rejects(connect(withPassword(address(`?ssl-ca=${tls.wrongCa}`)), { noDatabase: true }), (e: unknown) => isLrError(e, 'LR_DB_UNREACHABLE') && /certificate that the CA in ssl-ca does not vouch for/.test(e.message));
  await assert.rejects(connect(withPassword(address(`?ssl-ca=${join(dir, 'missing.pem')}`)), { noDatabase: true }), (e: unknown) => isLrError(e, 'LR_NO_FILE'));
  // The shared server has TLS off (have_ssl DISABLED): asking for TLS must not fall back to plain text.
  await assert.rejects(connect(parseDsn('mysql://root@127.0.0.1:3306/?ssl=required', { requireDatabase: false }), { noDatabase: true }), (e: unknown) => isLrError(e, 'LR_DB_UNREACHABLE') && /does not offer TLS/.test(e.message));
});

test('backup, restore, validate and recover reach source and target over TLS through the CLI', async () => {
  const source = 'lrtls_src';
  const admin = await connect({ ...withPassword(address(`?ssl-ca=${tls.ca}`)) }, { noDatabase: true });
  try {
    await admin.query(`CREATE DATABASE ${source}`);
    await admin.query(`USE ${source}`);
    await generateOpenDental(admin, { database: source, patients: 10, seed: 7 });
  } finally {
    await admin.end();
  }
  await enrollAdmin({ source: withPassword(address(`?ssl-ca=${tls.ca}`, source)), userName: DEMO_ADMIN.userName, password: PASSWORD, kdf: FAST_TEST_KDF });
  const env = { LASTRESORT_DB_PASSWORD: server.password, LASTRESORT_PASSWORD: PASSWORD };

  const backup = await runCli(['backup', '--source', address(`?ssl-ca=${tls.ca}`, source), '--out', dir, '--json'], { env });
  assert.equal(backup.code, 0, backup.stderr);
  const file = JSON.parse(backup.stdout).file as string;

  const restore = await runCli(['restore', file, '--target', address('?ssl=required', 'lrtls_restored'), '--json'], { env });
  assert.equal(restore.code, 0, restore.stderr);
  assert.match(JSON.parse(restore.stdout).commands.validate, /ssl=required/, 'the next command keeps TLS');
  const validate = await runCli(['validate', file, '--target', address(`?ssl-ca=${tls.ca}`, 'lrtls_restored'), '--json'], { env });
  assert.equal(validate.code, 0, validate.stderr);
  assert.equal(JSON.parse(validate.stdout).match, true);

  const pwFile = await passwordFile(dir);
  const dbPwFile = join(dir, 'db-password.txt');
  await writeFile(dbPwFile, server.password, { mode: 0o600 });
  const flags = ['--host', '127.0.0.1', '--port', String(server.port), '--user', server.user, '--db-password-file', dbPwFile, '--password-file', pwFile, '--yes', '--report-dir', dir];
  const recover = await runCli(['recover', file, ...flags, '--ssl-ca', tls.ca, '--database', 'lrtls_recovered', '--json'], { cwd: dir });
  assert.equal(recover.code, 0, recover.stderr);
  const wrongCa = await runCli(['recover', file, ...flags, '--ssl-ca', tls.wrongCa, '--database', 'lrtls_never'], { cwd: dir });
  assert.equal(wrongCa.code, 1, wrongCa.stderr);
  assert.match(wrongCa.stderr, /does not vouch for/);
  const plain = await runCli(['recover', file, ...flags, '--database', 'lrtls_never'], { cwd: dir });
  assert.equal(plain.code, 1, 'without --ssl the TLS-only account is refused');
});
