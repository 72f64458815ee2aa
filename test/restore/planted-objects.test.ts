/**
 * The planted-objects case on the real server. An account with rights on
 * the practice database only plants a function, a view over it, a trigger
 * on a MyISAM table and procedures (some harmless, some using the ways past
 * the checks that an earlier version let through). The project's producer
 * backs the database up; the backup is restored as root. Then:
 * - the planted objects that reach outside are refused and named;
 * - no restored object's definer holds any right outside the restored
 *   database (read from SHOW GRANTS), and none is root;
 * - every restored object, used as an ordinary user would (view read,
 *   routines called, trigger fired), changes nothing outside the database:
 *   the general log and its file, max_connections, a canary database, users;
 * - even an object the checks never saw, created in the restored database
 *   with the same definer, cannot change a server setting or reach the
 *   canary: the definer's rights are the second wall;
 * - with --keep-definers, the practice account (confined to its database)
 *   is kept as definer, and root in the file is not.
 * The restored tables equal the source's, InnoDB and MyISAM.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, quoteId } from '../../src/db/connect.js';
import { parseDsn } from '../../src/db/dsn.js';
import { objectsAccountName } from '../../src/restore/definers.js';
import { grantDatabase } from '../../src/restore/isolation.js';
import { backupOf, makeSource, passwordFile, tempDir } from '../helpers/backup.js';
import { compareDatabases, connectServer, createTempDatabase, dropDatabase, dropTempDatabases, dsnFor } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { outsideState, useObjectsAsOrdinaryUser } from '../helpers/outside.js';
import type { RestoreReport } from '../../src/restore/report.js';

const CANARY = `lr_planted_canary_${process.pid}`;
const PRACTICE = `lr_practice_${process.pid}`;
const SECRET = 'practice-secret-1';
const HOSTS = ['localhost', '127.0.0.1'];
let source: string;
let file: string;
let work: string;

async function sql(query: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const conn = await connectServer();
  try {
    return ((await conn.query(query, values)) as unknown as [Record<string, unknown>[]])[0];
  } finally {
    await conn.end();
  }
}

const HARMLESS = [
  'CREATE FUNCTION balance_of(p BIGINT) RETURNS BIGINT READS SQL DATA BEGIN DECLARE t BIGINT DEFAULT 0; SELECT IFNULL(SUM(Amount), 0) INTO t FROM practice_ledger WHERE PatNum = p; RETURN t; END',
  'CREATE SQL SECURITY DEFINER VIEW patient_balance AS SELECT PatNum, balance_of(PatNum) AS Balance FROM patient',
  'CREATE TRIGGER ledger_bi BEFORE INSERT ON practice_ledger FOR EACH ROW SET NEW.Amount = ABS(NEW.Amount)',
  'CREATE PROCEDURE tidy_ledger() BEGIN DELETE FROM practice_ledger WHERE Amount < 0; SELECT COUNT(*) INTO @left FROM practice_ledger; END',
];
const HOSTILE: [string, string][] = [
  ['rotate_logs', `CREATE PROCEDURE rotate_logs() BEGIN SET @a = 1, GLOBAL general_log_file = '/tmp/lr_planted_${process.pid}.log', GLOBAL general_log = 1; SET @b = 1, GLOBAL max_connections = 999; END`],
  ['monthly_cleanup', `CREATE PROCEDURE monthly_cleanup() BEGIN CREATE OR REPLACE DATABASE ${CANARY}; CREATE OR REPLACE USER 'backdoor_${process.pid}'@'%' IDENTIFIED BY 'x'; END`],
  ['reset_logs', 'CREATE PROCEDURE reset_logs() BEGIN SET @@global /**/ .max_connections = 998; RESET MASTER; END'],
];

before(async () => {
  work = await tempDir('lr-planted-');
  source = await makeSource({ patients: 20, prefix: 'lr_planted_src' });
  await sql(`DROP DATABASE IF EXISTS ${CANARY}`);
  await sql(`CREATE DATABASE ${CANARY}`);
  await sql(`CREATE TABLE ${CANARY}.t (a INT PRIMARY KEY) ENGINE=InnoDB`);
  await sql(`INSERT INTO ${CANARY}.t VALUES (1), (2), (3)`);
  for (const h of HOSTS) {
    await sql('CREATE OR REPLACE USER ?@? IDENTIFIED BY ?', [PRACTICE, h, SECRET]);
    await sql(`GRANT ALL PRIVILEGES ON ${quoteId(source)}.* TO ?@?`, [PRACTICE, h]);
  }
  // The practice account plants its objects: harmless where it stands, with its own rights.
  const practice = await connect({ ...parseDsn(dsnFor(source)), user: PRACTICE, password: SECRET });
  try {
    await practice.query('CREATE TABLE practice_ledger (LedgerNum BIGINT AUTO_INCREMENT PRIMARY KEY, PatNum BIGINT NOT NULL, Amount BIGINT NOT NULL) ENGINE=MyISAM');
    await practice.query('INSERT INTO practice_ledger (PatNum, Amount) VALUES (1, 50), (2, -5), (3, 75)');
    for (const statement of [...HARMLESS, ...HOSTILE.map(([, s]) => s)]) await practice.query(statement);
  } finally {
    await practice.end();
  }
  // And one object in the file claims root as its definer.
  const root = await connectServer(source);
  await root.query('CREATE DEFINER=`root`@`localhost` PROCEDURE count_patients(OUT n INT) SELECT COUNT(*) INTO n FROM patient');
  await root.end();
  const out = await tempDir('lr-planted-out-');
  file = (await backupOf(source, out)).file;
});

after(async () => {
  for (const h of HOSTS) await sql('DROP USER IF EXISTS ?@?', [PRACTICE, h]);
  await sql(`DROP DATABASE IF EXISTS ${CANARY}`);
  await dropTempDatabases();
});

/** Every object of `database` and its definer (user@host as information_schema gives it). */
async function definersIn(database: string): Promise<{ name: string; definer: string }[]> {
  const rows = await sql(
    `SELECT ROUTINE_NAME AS name, DEFINER AS definer FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? UNION ALL
     SELECT TABLE_NAME, DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? UNION ALL
     SELECT TRIGGER_NAME, DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? UNION ALL
     SELECT EVENT_NAME, DEFINER FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`,
    [database, database, database, database],
  );
  return rows.map((r) => ({ name: String(r.name), definer: String(r.definer) }));
}

/** The lines of SHOW GRANTS that reach outside `database` (anything but USAGE ON *.* and rights ON `database`.*). */
async function grantsOutside(definer: string, database: string): Promise<string[]> {
  const at = definer.lastIndexOf('@');
  const lines = (await sql('SHOW GRANTS FOR ?@?', [definer.slice(0, at), definer.slice(at + 1)])).map((r) => String(Object.values(r)[0]));
  const escaped = database.replace(/_/g, '\\_');
  return lines.filter((l) => !/^GRANT USAGE ON \*\.\* TO /.test(l) && !l.includes(` ON \`${database}\`.* TO `) && !l.includes(` ON \`${escaped}\`.* TO `));
}

async function restore(extra: string[] = [], into?: string): Promise<{ target: string; report: RestoreReport; code: number; out: string }> {
  const target = into ?? (await createTempDatabase('lr_planted_dst', { create: false }));
  const reportPath = join(work, `${target}.json`);
  const pw = await passwordFile(work);
  const r = await runCli(['restore', file, '--target', dsnFor(target), '--password-file', pw, '--report', reportPath, ...extra]);
  return { target, report: JSON.parse(await readFile(reportPath, 'utf8')) as RestoreReport, code: r.code ?? -1, out: r.stdout + r.stderr };
}

test('planted objects restored as root: hostile ones refused, the rest defined by an account confined to the database, and harmless when used', async () => {
  const before = await outsideState(CANARY, [`backdoor_${process.pid}`]);
  const { target, report, code, out } = await restore();
  assert.equal(code, 3, out);
  assert.deepEqual(report.objectErrors.map((e) => e.name).sort(), HOSTILE.map(([n]) => n).sort(), 'each hostile object is refused and named');
  for (const [name] of HOSTILE) assert.match(out, new RegExp(`${name}: not restored \\(not created: `));
  assert.deepEqual(await compareDatabases(source, target, { objects: false }), [], 'the tables (InnoDB and MyISAM) equal the source');

  const definers = await definersIn(target);
  assert.equal(definers.length, HARMLESS.length + 1, JSON.stringify(definers));
  const confined = `${objectsAccountName(target)}@localhost`;
  for (const d of definers) {
    assert.equal(d.definer, confined, `${d.name} runs as the confined account`);
    assert.deepEqual(await grantsOutside(d.definer, target), [], `${d.name}'s definer holds no right outside ${target}`);
  }
  assert.equal(report.objectsRunAs?.account, `\`${objectsAccountName(target)}\`@\`localhost\``);
  assert.match(report.objectsRunAs?.reason ?? '', /not trusted/);
  assert.match(report.commands.repointDefiners ?? '', /^lastresort definers --target .* --to /);
  assert.match(out, /run as `lr_objects_/);
  assert.ok(report.definersReplaced.some((d) => d.name === 'count_patients' && /root/.test(d.definer)), 'root in the file is replaced and listed');
  const [{ locked }] = await sql("SELECT JSON_VALUE(Priv, '$.account_locked') AS locked FROM mysql.global_priv WHERE User = ? AND Host = 'localhost'", [objectsAccountName(target)]);
  assert.match(String(locked), /^(true|1)$/, 'the account cannot log in');

  assert.deepEqual(await useObjectsAsOrdinaryUser(target, definers.map((d) => d.name)), [], 'every restored object works for an ordinary user');
  assert.deepEqual(await outsideState(CANARY, [`backdoor_${process.pid}`]), before, 'nothing outside the database changed');

  // The second wall: an object the checks never saw, with the same definer, still cannot reach outside.
  await sql(`CREATE DEFINER=${'`'}${objectsAccountName(target)}${'`'}@\`localhost\` PROCEDURE ${quoteId(target)}.unchecked() BEGIN SET GLOBAL max_connections = 997; END`);
  await sql(`CREATE DEFINER=${'`'}${objectsAccountName(target)}${'`'}@\`localhost\` PROCEDURE ${quoteId(target)}.unchecked_drop() BEGIN DROP TABLE ${CANARY}.t; END`);
  const errors = await useObjectsAsOrdinaryUser(target, ['unchecked', 'unchecked_drop']);
  assert.equal(errors.length, 2, JSON.stringify(errors));
  for (const e of errors) assert.match(e, /ACCESS_DENIED|ER_SPECIFIC_ACCESS|ER_TABLEACCESS_DENIED/);
  assert.deepEqual(await outsideState(CANARY, [`backdoor_${process.pid}`]), before, 'nothing outside the database changed');

  // IT has checked them: the report's one command re-points them to the account IT names.
  const repoint = report.commands.repointDefiners!.replace("'USER@HOST'", `'${PRACTICE}@localhost'`).split(' ').slice(1);
  const missing = await runCli(['definers', '--target', dsnFor(target), '--to', `nobody_${process.pid}@localhost`]);
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /There is no account/);
  // A trigger's definer needs TRIGGER on its table, besides the rights its body uses.
  for (const h of HOSTS) await sql(`GRANT SELECT, INSERT, UPDATE, DELETE, EXECUTE, TRIGGER ON ${grantDatabase(target)}.* TO ?@?`, [PRACTICE, h]);
  const moved = await runCli(repoint.map((a) => a.replace(/^'(.*)'$/, '$1')));
  assert.equal(moved.code, 0, moved.stderr);
  assert.match(moved.stdout, /7 view\(s\), routine\(s\), trigger\(s\) or event\(s\) of .* now run as/);
  const after = await definersIn(target);
  assert.deepEqual(after.filter((d) => d.definer !== `${PRACTICE}@localhost`).map((d) => d.name), [], 'every object re-pointed');
  assert.deepEqual(await useObjectsAsOrdinaryUser(target, after.map((d) => d.name).filter((n) => !n.startsWith('unchecked'))), [], 'and they still work');
  for (const h of HOSTS) await sql(`REVOKE ALL PRIVILEGES ON ${grantDatabase(target)}.* FROM ?@?`, [PRACTICE, h]);
  await dropDatabase(target);
});

test('--keep-definers keeps a definer confined to the database and replaces root', async () => {
  // The practice account as it would be on the practice's own server: rights on the restored database only.
  const target = await createTempDatabase('lr_planted_keep', { create: false });
  for (const h of HOSTS) {
    await sql(`REVOKE ALL PRIVILEGES ON ${quoteId(source)}.* FROM ?@?`, [PRACTICE, h]);
    // Escaped: an unescaped _ is a pattern matching other databases too, which would count as outside.
    await sql(`GRANT ALL PRIVILEGES ON ${grantDatabase(target)}.* TO ?@?`, [PRACTICE, h]);
  }
  const { report, code, out } = await restore(['--keep-definers'], target);
  assert.equal(code, 3, out);
  const definers = new Map((await definersIn(target)).map((d) => [d.name, d.definer]));
  assert.equal(definers.get('count_patients'), `${objectsAccountName(target)}@localhost`, 'root from the file is not kept');
  for (const name of ['balance_of', 'patient_balance', 'ledger_bi', 'tidy_ledger']) assert.match(definers.get(name) ?? '', new RegExp(`^${PRACTICE}@(localhost|127\\.0\\.0\\.1)$`), `${name} keeps the practice account, confined to its database`);
  assert.deepEqual(report.definersReplaced.map((d) => d.name), ['count_patients']);
  assert.deepEqual(await grantsOutside(definers.get('balance_of')!, target), [], 'the kept definer holds no right outside the database');
  await dropDatabase(target);
});
