/**
 * Hostile payloads (test/vectors/hostile/, made by make-hostile.ts): each is
 * restored with root as the given account while a canary database exists.
 * After each: the canary is untouched, no account was made, no file was
 * written by the server, nothing was created outside the target, every
 * event is disabled, the report names each refused entry, the exit code is
 * 3 when something was refused, and no raw escape byte reached the screen.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectServer, createTempDatabase, dropDatabase, dropTempDatabases, dsnFor } from '../helpers/db.js';
import { passwordFile, tempDir } from '../helpers/backup.js';
import { runCli } from '../helpers/cli.js';
import { VECTOR_PASSWORD } from '../vectors/plaintext.js';
import { CANARY, DATADIR, HOSTILE_ACCOUNT, OUTFILE, type HostileSpec } from '../vectors/hostile/spec.js';
import type { RestoreReport } from '../../src/restore/report.js';

const DIR = fileURLToPath(new URL('../vectors/hostile/', import.meta.url));
const specs = JSON.parse(readFileSync(join(DIR, 'hostile.json'), 'utf8')) as HostileSpec[];
let work: string;
let password: string;

type Rows = Record<string, unknown>[];
async function sql(query: string, values: unknown[] = []): Promise<Rows> {
  const conn = await connectServer();
  try {
    const [rows] = await conn.query(query, values);
    return rows as Rows;
  } finally {
    await conn.end();
  }
}

async function makeCanary(): Promise<void> {
  await sql(`DROP DATABASE IF EXISTS ${CANARY}`);
  await sql(`CREATE DATABASE ${CANARY}`);
  await sql(`CREATE TABLE ${CANARY}.t (a INT PRIMARY KEY)`);
  await sql(`INSERT INTO ${CANARY}.t VALUES (1), (2), (3)`);
}

/** Everything in the canary database, and whether the hostile account exists. */
async function canaryState(): Promise<string> {
  const tables = await sql('SELECT TABLE_NAME AS n, TABLE_TYPE AS k FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1', [CANARY]);
  const rows = tables.length ? await sql(`SELECT a FROM ${CANARY}.t ORDER BY a`) : [];
  const objects = await sql(
    `SELECT 'routine' AS k, ROUTINE_NAME AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? UNION ALL
     SELECT 'trigger', TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? OR EVENT_OBJECT_SCHEMA = ? UNION ALL
     SELECT 'event', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`,
    [CANARY, CANARY, CANARY, CANARY],
  );
  return JSON.stringify({ tables, rows, objects });
}

before(async () => {
  work = await tempDir('lr-hostile-');
  password = await passwordFile(work, VECTOR_PASSWORD);
  await makeCanary();
});

after(async () => {
  await sql(`DROP DATABASE IF EXISTS ${CANARY}`);
  await dropTempDatabases();
});

for (const spec of specs) {
  test(`hostile payload ${spec.file}: ${spec.note}`, async () => {
    const canaryBefore = await canaryState();
    const target = await createTempDatabase('lr_hostile', { create: false });
    const report = join(work, `${spec.file}.json`);
    const r = await runCli(['restore', join(DIR, spec.file), '--target', dsnFor(target), '--password-file', password, '--report', report]);

    assert.doesNotMatch(r.stdout + r.stderr, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, 'no raw control byte reaches the screen');
    assert.equal(await canaryState(), canaryBefore, 'the canary database is untouched');
    assert.equal((await sql('SELECT 1 FROM mysql.user WHERE User = ?', [HOSTILE_ACCOUNT])).length, 0, 'no account was created');
    assert.equal((await sql("SELECT 1 FROM information_schema.SCHEMA_PRIVILEGES WHERE TABLE_SCHEMA IN (?, REPLACE(?, '_', '\\\\_')) AND GRANTEE LIKE '''lr\\\\_restore\\\\_%'", [target, target])).length, 0, 'the temporary restore account is gone');
    assert.ok(!existsSync(OUTFILE) && !existsSync(DATADIR), 'the server wrote no file');
    const events = await sql('SELECT EVENT_NAME AS n, STATUS AS s FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?', [target]);
    for (const e of events) assert.equal(e.s, 'DISABLED', `event ${String(e.n)} is disabled`);

    const parsed = JSON.parse(await readFile(report, 'utf8')) as RestoreReport;
    for (const name of spec.refused) {
      const table = parsed.tables.find((t) => t.name === name);
      const object = parsed.objectErrors.find((o) => o.name === name);
      assert.ok(table?.status === 'failed' || object, `${name} is reported as not restored`);
      assert.match(table?.error ?? object?.error ?? '', /refused|not created/, `${name}'s report gives the reason`);
    }
    assert.equal(r.code, spec.refused.length ? 3 : 0, `exit code (stderr: ${r.stderr})`);
    if (spec.refused.length === 0) {
      assert.equal(parsed.outcome, 'complete');
      assert.deepEqual(parsed.definersReplaced.map((d) => d.definer).sort(), parsed.definersReplaced.map(() => '`evil`@`%`'));
      assert.ok(parsed.definersReplaced.length >= 3, 'every evil definer is replaced and listed');
      assert.ok(parsed.commands.enableEvents?.includes('ENABLE'), 'the report gives the statement that enables the events');
      for (const t of parsed.tables) {
        const [{ n }] = await sql(`SELECT COUNT(*) AS n FROM \`${target}\`.\`${t.name.replace(/`/g, '``')}\``);
        assert.equal(Number(n), 2, `${JSON.stringify(t.name)} holds its rows`);
      }
    }
    await dropDatabase(target);
  });
}

test('the restore account cannot reach outside the target database, whatever it runs', async () => {
  const { openRestoreAccount } = await import('../../src/restore/isolation.js');
  const { connect } = await import('../../src/db/connect.js');
  const { parseDsn } = await import('../../src/db/dsn.js');
  const { prepareLoadSession } = await import('../../src/restore/session.js');
  const target = await createTempDatabase('lr_wall');
  const admin = await connectServer();
  const account = await openRestoreAccount(admin, parseDsn(dsnFor(target)), target);
  const conn = await connect(account.dsn);
  try {
    const [[who]] = (await conn.query('SELECT CURRENT_USER() AS u')) as unknown as [{ u: string }[]];
    assert.match(who.u, /^lr_restore_[0-9a-f]+@/, 'statements run as the temporary account');
    await conn.query('CREATE TABLE inside (a INT)');
    const refused = [
      `CREATE TABLE ${CANARY}.x (a INT)`,
      `DROP TABLE ${CANARY}.t`,
      `INSERT INTO ${CANARY}.t VALUES (9)`,
      `SELECT 1 INTO OUTFILE '${OUTFILE}'`,
      `CREATE USER '${HOSTILE_ACCOUNT}'@'%'`,
      `GRANT ALL ON *.* TO '${HOSTILE_ACCOUNT}'@'%'`,
      'SET GLOBAL event_scheduler = ON',
      `CREATE DATABASE lr_wall_other_${process.pid}`,
    ];
    for (const statement of refused) await assert.rejects(conn.query(statement), (err: { code?: string }) => /DENIED|ER_SPECIFIC_ACCESS|ER_CANT_CREATE|ER_OPTION_PREVENTS/.test(err.code ?? ''), statement);
    // MariaDB lets any account with CREATE put a table's files in another folder
    // (DATA DIRECTORY needs no FILE privilege there); the restore's session makes
    // the server ignore it. The folder is open to the server, so only the session stops it.
    await prepareLoadSession(conn);
    const elsewhere = await mkdtemp(join(tmpdir(), 'lr-datadir-'));
    await chmod(elsewhere, 0o777);
    try {
      for (const [name, engine] of [['innodb_elsewhere', 'InnoDB'], ['myisam_elsewhere', 'MyISAM']]) {
        await conn.query(`CREATE TABLE ${name} (a INT) ENGINE=${engine} DATA DIRECTORY='${elsewhere}' INDEX DIRECTORY='${elsewhere}'`).catch(async (err: { code?: string }) => {
          // InnoDB has no INDEX DIRECTORY: try the data folder alone.
          if (err.code !== 'ER_ILLEGAL_HA_CREATE_OPTION') throw err;
          await conn.query(`CREATE TABLE ${name} (a INT) ENGINE=${engine} DATA DIRECTORY='${elsewhere}'`);
        });
        const [[shown]] = (await conn.query(`SHOW CREATE TABLE ${name}`)) as unknown as [{ 'Create Table': string }[]];
        assert.doesNotMatch(shown['Create Table'], /DIRECTORY/, `${engine}: the folder was ignored`);
      }
      assert.deepEqual(await readdir(elsewhere, { recursive: true }), [], 'no file of the target database outside the data folder');
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
    const [[file]] = (await conn.query("SELECT LOAD_FILE('/etc/passwd') AS f")) as unknown as [{ f: unknown }[]];
    assert.equal(file.f, null, 'LOAD_FILE reads nothing');
  } finally {
    await conn.end();
    await account.close();
    await admin.end();
  }
  assert.equal((await sql("SELECT 1 FROM mysql.user WHERE User LIKE 'lr\\_restore\\_%' AND User = ?", [account.dsn.user])).length, 0, 'the account is dropped');
  assert.equal(await canaryState(), JSON.stringify({ tables: [{ n: 't', k: 'BASE TABLE' }], rows: [{ a: 1 }, { a: 2 }, { a: 3 }], objects: [] }));
});

test('an account that cannot make the restore account is used only when it is already confined to the target', async () => {
  const user = `lr_confined_${process.pid}`;
  const secret = 'confined-secret-1';
  const target = await createTempDatabase('lr_confined', { create: false });
  const hosts = ['localhost', '127.0.0.1'];
  for (const host of hosts) {
    await sql('CREATE OR REPLACE USER ?@? IDENTIFIED BY ?', [user, host, secret]);
    await sql(`GRANT ALL ON \`${target}\`.* TO ?@?`, [user, host]);
  }
  const dsn = dsnFor(target).replace('root@', `${user}@`);
  const env = { LASTRESORT_DB_PASSWORD: secret };
  try {
    const file = join(DIR, 'good-payload.lrb');
    const confined = await runCli(['restore', file, '--target', dsn, '--password-file', password, '--json'], { env });
    assert.equal(confined.code, 0, confined.stderr);
    assert.equal(JSON.parse(confined.stdout).outcome, 'complete');
    await dropDatabase(target);

    for (const host of hosts) await sql(`GRANT SELECT ON ${CANARY}.* TO ?@?`, [user, host]);
    const wider = await runCli(['restore', file, '--target', dsn, '--password-file', password], { env });
    assert.equal(wider.code, 1);
    assert.match(wider.stderr, /may not create the temporary account .* rights beyond the target database/);
    const [{ n }] = await sql('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [target]);
    assert.equal(Number(n), 0, 'nothing was created in the target');
  } finally {
    for (const host of hosts) await sql('DROP USER IF EXISTS ?@?', [user, host]);
  }
});
