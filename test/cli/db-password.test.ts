/**
 * The database server's password never goes on the command line: every
 * command that connects refuses a DSN holding one (exit 2, one line saying how
 * to give it instead), and takes it from --db-password-file or
 * LASTRESORT_DB_PASSWORD. Checked against a real MariaDB account made here
 * with a password, and dropped afterwards.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { quoteId } from '../../src/db/connect.js';
import { formatDsn, parseDsn } from '../../src/db/dsn.js';
import { ADMIN, PASSWORD, makeSource, passwordFile, tempDir } from '../helpers/backup.js';
import { compareDatabases, connectServer, createTempDatabase, dropTempDatabases, serverDsn } from '../helpers/db.js';
import { runCli, type CliResult } from '../helpers/cli.js';

const SECRET = `Db-pw-${randomBytes(6).toString('hex')}`;
const USER = `lr_dbpw_${process.pid}`;
const HOSTS = ['127.0.0.1', 'localhost'];

let source: string;
let dir: string;
let adminPwFile: string;
let dbPwFile: string;

/** A DSN for the test account, optionally with its password inside (what the CLI must refuse). */
function userDsn(database: string, withPassword = false): string {
  const base = parseDsn(serverDsn(), { requireDatabase: false });
  return formatDsn({ ...base, user: USER, password: withPassword ? SECRET : '', database }, { withPassword });
}

before(async () => {
  source = await makeSource({ patients: 20, prefix: 'lr_dbpw_src' });
  dir = await tempDir();
  adminPwFile = await passwordFile(dir);
  dbPwFile = join(dir, 'db-password.txt');
  await writeFile(dbPwFile, SECRET + '\n', { mode: 0o600 });
  const admin = await connectServer();
  try {
    for (const host of HOSTS) {
      await admin.query('CREATE OR REPLACE USER ?@? IDENTIFIED BY ?', [USER, host, SECRET]);
      await admin.query(`GRANT ALL ON ${quoteId(source)}.* TO ?@?`, [USER, host]);
      await admin.query('GRANT SELECT ON mysql.proc TO ?@?', [USER, host]);
    }
  } finally {
    await admin.end();
  }
});

after(async () => {
  const admin = await connectServer();
  try {
    for (const host of HOSTS) await admin.query('DROP USER IF EXISTS ?@?', [USER, host]);
  } finally {
    await admin.end();
  }
  await dropTempDatabases();
});

/** Lets the test account create and use `database` (it need not exist yet). */
async function grantOn(database: string): Promise<void> {
  const admin = await connectServer();
  try {
    // A restore runs the file's statements as a temporary account confined to the target: the account makes it.
    for (const host of HOSTS) {
      await admin.query(`GRANT ALL ON ${quoteId(database)}.* TO ?@? WITH GRANT OPTION`, [USER, host]);
      await admin.query('GRANT CREATE USER ON *.* TO ?@?', [USER, host]);
    }
  } finally {
    await admin.end();
  }
}

function assertRefusedDsn(r: CliResult, flag: string): void {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], new RegExp(`Leave the password out of ${flag}`));
  assert.match(lines[0], /--db-password-file/);
  assert.match(lines[0], /LASTRESORT_DB_PASSWORD/);
  assert.ok(!r.stderr.includes(SECRET) && !r.stdout.includes(SECRET), 'the password is not echoed');
}

test('every command that connects refuses a DSN with a password, saying how to give it instead', async () => {
  const backupFile = await runCli(['backup', '--source', userDsn(source), '--out', dir, '--json'], { env: { LASTRESORT_DB_PASSWORD: SECRET } });
  assert.equal(backupFile.code, 0, backupFile.stderr);
  const lrb = JSON.parse(backupFile.stdout).file as string;
  const env = { LASTRESORT_PASSWORD: PASSWORD };

  assertRefusedDsn(await runCli(['keys', 'enroll', '--source', userDsn(source, true), '--user', ADMIN, '--password-file', adminPwFile, '--test-kdf']), '--source');
  assertRefusedDsn(await runCli(['backup', '--source', userDsn(source, true), '--out', dir]), '--source');
  assertRefusedDsn(await runCli(['restore', lrb, '--target', userDsn('anything', true)], { env }), '--target');
  assertRefusedDsn(await runCli(['validate', lrb, '--target', userDsn(source, true)], { env }), '--target');
  const recover = await runCli(['recover', lrb, '--target', userDsn('', true), '--yes'], { env, cwd: dir });
  assert.equal(recover.code, 2, recover.stderr);
  assert.match(recover.stderr, /Leave the password out of --target/);
  assert.ok(!recover.stderr.includes(SECRET) && !recover.stdout.includes(SECRET));
  const config = await runCli(['config', 'set', 'source', userDsn(source, true), '--config', join(dir, 'config.json')]);
  assert.equal(config.code, 2, config.stderr);
  assert.match(config.stderr, /sourcePasswordFile/);
  assert.ok(!config.stderr.includes(SECRET));
});

test('--db-password-file and LASTRESORT_DB_PASSWORD give the password to enroll, backup, restore, validate and recover', async () => {
  const viaFile = ['--db-password-file', dbPwFile];
  const viaEnv = { LASTRESORT_DB_PASSWORD: SECRET };

  const noPassword = await runCli(['backup', '--source', userDsn(source), '--out', dir]);
  assert.equal(noPassword.code, 1, 'without the password the server refuses');
  assert.match(noPassword.stderr, /refused the user name or password/);

  const enroll = await runCli(['keys', 'enroll', '--source', userDsn(source), ...viaFile, '--user', ADMIN, '--password-file', adminPwFile, '--test-kdf', '--json']);
  assert.equal(enroll.code, 0, enroll.stderr);
  const enrollEnv = await runCli(['keys', 'enroll', '--source', userDsn(source), '--user', ADMIN, '--password-file', adminPwFile, '--test-kdf', '--json'], { env: viaEnv });
  assert.equal(enrollEnv.code, 0, enrollEnv.stderr);

  const backup = await runCli(['backup', '--source', userDsn(source), ...viaFile, '--out', dir, '--json']);
  assert.equal(backup.code, 0, backup.stderr);
  const lrb = JSON.parse(backup.stdout).file as string;

  const target = await createTempDatabase('lr_dbpw_tgt', { create: false });
  await grantOn(target);
  const restore = await runCli(['restore', lrb, '--target', userDsn(target), '--json'], { env: { ...viaEnv, LASTRESORT_PASSWORD: PASSWORD } });
  assert.equal(restore.code, 0, restore.stderr);
  const report = JSON.parse(restore.stdout);
  assert.ok(report.commands.validate.includes(USER) && !JSON.stringify(report).includes(SECRET), 'no password in the report');
  assert.deepEqual(await compareDatabases(source, target), []);

  const validate = await runCli(['validate', lrb, '--target', userDsn(target), ...viaFile, '--json'], { env: { LASTRESORT_PASSWORD: PASSWORD } });
  assert.equal(validate.code, 0, validate.stderr);
  assert.equal(JSON.parse(validate.stdout).match, true);

  const recovered = await createTempDatabase('lr_dbpw_rec', { create: false });
  await grantOn(recovered);
  const reportDir = join(dir, 'reports');
  await mkdir(reportDir);
  const recover = await runCli(['recover', lrb, '--target', userDsn(''), ...viaFile, '--database', recovered, '--yes', '--report-dir', reportDir, '--json'], { env: { LASTRESORT_PASSWORD: PASSWORD }, cwd: dir });
  assert.equal(recover.code, 0, recover.stderr);
  assert.deepEqual(await compareDatabases(source, recovered), []);
});

test('the settings file may hold a password in its DSN only while it is 0600; the daemon takes LASTRESORT_DB_PASSWORD', async () => {
  const configDir = join(dir, 'svc');
  await mkdir(configDir);
  const config = join(configDir, 'config.json');
  await writeFile(config, JSON.stringify({ source: userDsn(source, true), outDir: join(configDir, 'out'), logDir: join(configDir, 'log'), stateFile: join(configDir, 'state.json') }) + '\n', { mode: 0o644 });
  await chmod(config, 0o644);
  const readable = await runCli(['config', 'show', '--config', config]);
  assert.equal(readable.code, 2, readable.stderr);
  assert.match(readable.stderr, /other users may read it \(mode 0644\).*chmod 600/);
  assert.ok(!readable.stderr.includes(SECRET));

  await chmod(config, 0o600);
  const shown = await runCli(['config', 'show', '--config', config, '--json']);
  assert.equal(shown.code, 0, shown.stderr);
  assert.ok(!shown.stdout.includes(SECRET), 'config show never prints the password');
  const once = await runCli(['daemon', '--once', '--config', config, '--json']);
  assert.notEqual(JSON.parse(once.stdout).backup, null, once.stderr);

  // No password in the DSN: the service takes it from the environment.
  await writeFile(config, JSON.stringify({ source: userDsn(source), outDir: join(configDir, 'out'), logDir: join(configDir, 'log'), stateFile: join(configDir, 'state.json') }) + '\n');
  const refused = await runCli(['daemon', '--once', '--config', config, '--json']);
  assert.equal(JSON.parse(refused.stdout).backup, null, 'without the password no backup is made');
  const viaEnv = await runCli(['daemon', '--once', '--config', config, '--json'], { env: { LASTRESORT_DB_PASSWORD: SECRET } });
  assert.notEqual(JSON.parse(viaEnv.stdout).backup, null, viaEnv.stderr);
});
