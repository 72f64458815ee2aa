/**
 * A restore killed with -9 leaves its temporary account (lr_restore_*, with
 * rights on its target database) on the server. The next restore against
 * that server, into any database, drops it; so does the recover wizard,
 * which says so when it offers to continue that restore. An account whose
 * restore is still running (its database's restore lock held) is left
 * alone. Real kills of real restores (MyISAM and InnoDB sources); the
 * "running" restore is a held lock and an account made as a restore makes it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { backupOf, makeSource, passwordFile, tempDir } from '../helpers/backup.js';
import { compareDatabases, connectServer, createTempDatabase, describeDifferences, dropTempDatabases, dsnFor, serverDsn } from '../helpers/db.js';
import { CLI, runCli } from '../helpers/cli.js';
import { grantDatabase } from '../../src/restore/isolation.js';
import { restoreLockName } from '../../src/restore/lock.js';
import { PROGRESS_TABLE } from '../../src/restore/progress-table.js';
import { chooseDatabase, serverInspector } from '../../src/recover/database.js';
import { locateHeader } from '../../src/format/reader.js';
import { parseDsn } from '../../src/db/dsn.js';
import { said, scriptedAsk } from '../recover/helpers/scripted-ask.js';

const files: Record<string, { source: string; file: string }> = {};
let pw: string;

before(async () => {
  const dir = await tempDir('lr-leftover-');
  pw = await passwordFile(dir);
  for (const engine of ['MyISAM', 'InnoDB'] as const) {
    const source = await makeSource({ patients: 3000, prefix: `lr_left_${engine.toLowerCase()}`, engine });
    files[engine] = { source, file: (await backupOf(source, dir, { pieceBytes: 64 * 1024 })).file };
  }
});
after(dropTempDatabases);

async function sql(query: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const conn = await connectServer();
  try {
    return (await conn.query(query, values))[0] as Record<string, unknown>[];
  } finally {
    await conn.end();
  }
}

/** The lr_restore_* accounts with rights on `database`. */
const accountsOn = async (database: string) => (await sql("SELECT DISTINCT GRANTEE AS g FROM information_schema.SCHEMA_PRIVILEGES WHERE TABLE_SCHEMA = ? AND GRANTEE LIKE '''lr\\\\_restore\\\\_%'", [database.replace(/_/g, '\\_')])).map((r) => String(r.g));

/** A restore into `database`, killed with -9 once it has made its account and its progress record. */
async function killedRestore(file: string, database: string): Promise<void> {
  const child = spawn(process.execPath, [CLI, 'restore', file, '--target', dsnFor(database), '--password-file', pw], { stdio: 'ignore' });
  const ended = new Promise((resolve) => child.on('close', resolve));
  for (let k = 0; k < 1500; k++) {
    const progress = await sql('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [database, PROGRESS_TABLE]);
    if (progress.length && (await accountsOn(database)).length) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  await ended;
  assert.equal((await accountsOn(database)).length, 1, 'the killed restore left its account');
}

/** An account as a running restore has it: the database's restore lock held, rights on it. */
async function runningRestore(database: string): Promise<{ release: () => Promise<void> }> {
  const conn = await connectServer();
  await conn.query('SELECT GET_LOCK(?, 0)', [restoreLockName(database)]);
  const user = `lr_restore_${randomBytes(6).toString('hex')}`;
  await conn.query("CREATE USER ?@'localhost' IDENTIFIED BY ?", [user, randomBytes(12).toString('hex')]);
  await conn.query(`GRANT ALL PRIVILEGES ON ${grantDatabase(database)}.* TO ?@'localhost'`, [user]);
  return {
    release: async () => {
      await conn.end();
    },
  };
}

for (const engine of ['MyISAM', 'InnoDB'] as const) {
  test(`${engine}: the next restore into another database drops a killed restore's account, and leaves a running one's`, async () => {
    const { source, file } = files[engine];
    const killed = await createTempDatabase('lr_left_killed', { create: false });
    await killedRestore(file, killed);
    const busy = await createTempDatabase('lr_left_busy');
    const running = await runningRestore(busy);
    try {
      const other = await createTempDatabase('lr_left_other', { create: false });
      const r = await runCli(['restore', file, '--target', dsnFor(other), '--password-file', pw]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await accountsOn(killed), [], 'the killed restore\'s account is gone');
      assert.equal((await accountsOn(busy)).length, 1, 'the running restore\'s account is kept');
      assert.deepEqual(await accountsOn(other), [], 'and this restore dropped its own');
      const diffs = await compareDatabases(source, other);
      assert.deepEqual(diffs, [], describeDifferences(diffs));
    } finally {
      await running.release();
    }
    const after = await createTempDatabase('lr_left_after', { create: false });
    assert.equal((await runCli(['restore', file, '--target', dsnFor(after), '--password-file', pw])).code, 0);
    assert.deepEqual(await accountsOn(busy), [], 'once its lock is free, it is a leftover too');
  });
}

test('the wizard drops a killed restore\'s account and says so when it offers to continue that restore', async () => {
  const { file } = files.MyISAM;
  const killed = await createTempDatabase('lr_left_wizard', { create: false });
  await killedRestore(file, killed);
  const [account] = await accountsOn(killed);
  const located = await locateHeader(file);
  const ask = scriptedAsk([killed, 'resume']);
  const server = { ...parseDsn(serverDsn(), { requireDatabase: false }), database: '' };
  const choice = await chooseDatabase(ask, { header: located.header, where: 'x' }, serverInspector(server));
  assert.equal(choice.mode, 'resume');
  const [, user, host] = /^'(.*)'@'(.*)'$/.exec(account)!;
  assert.match(said(ask), new RegExp(`holds an interrupted restore of this same backup[^]*The temporary account that restore ran under \\(${user}@${host.replace(/\./g, '\\.')}, with rights on ${killed}\\) was still on the server: it has been removed\\.`));
  assert.deepEqual(await accountsOn(killed), []);
});
