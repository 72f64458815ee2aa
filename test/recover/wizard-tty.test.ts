/**
 * The wizard end to end, as a person would drive it: in a real terminal
 * (tmux), keys typed at each question, against the real server. Restored
 * databases are compared with their source through SQL (compareDatabases).
 */
import assert from 'node:assert/strict';
import { copyFile, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultDatabaseName } from '../../src/recover/database.js';
import { locateHeader } from '../../src/format/reader.js';
import { PROGRESS_TABLE } from '../../src/restore/progress-table.js';
import { compareDatabases, connectServer, createTempDatabase, describeDifferences } from '../helpers/db.js';
import { PASSWORD, damagedCopy, reportsIn, rowCount, sourceWithBackup, tableNames, willCreate, scratchDir, type SourceBackup } from './helpers/setup.js';
import { requireTool, Terminal } from './helpers/terminal.js';
import type { RecoverReport } from '../../src/report/recover-report.js';

const SERVER = 'mysql://root@127.0.0.1:3306';
const terminals: Terminal[] = [];
async function open(cwd: string, args: string[]): Promise<Terminal> {
  const t = await Terminal.start({ cwd, args });
  terminals.push(t);
  return t;
}

async function readReport(dir: string): Promise<RecoverReport> {
  const { json } = await reportsIn(dir);
  assert.equal(json.length, 1, `one JSON report expected in ${dir}`);
  assert.equal((await stat(json[0])).mode & 0o777, 0o600);
  return JSON.parse(await readFile(json[0], 'utf8')) as RecoverReport;
}

async function assertSame(source: string, restored: string): Promise<void> {
  const diffs = await compareDatabases(source, restored);
  assert.deepEqual(diffs, [], describeDifferences(diffs));
}

describe('recover in a terminal, as a person drives it', { timeout: 180_000 }, () => {
  let small: SourceBackup;
  let big: SourceBackup;

  before(async () => {
    requireTool('tmux');
    small = await sourceWithBackup({ patients: 200, prefix: 'lr_rtty' });
    // Large enough that the restore takes a few seconds, so Ctrl-C lands in the middle of it.
    big = await sourceWithBackup({ patients: 8_000, prefix: 'lr_rbig' });
  });
  after(async () => {
    for (const t of terminals) await t.close();
  });

  it('a clean recovery: picks the file in the folder, takes every default, restores and verifies', async () => {
    const cwd = await scratchDir('lr-tty-clean-');
    await copyFile(small.file, join(cwd, basename(small.file)));
    const expectedName = willCreate(defaultDatabaseName((await locateHeader(small.file)).header));
    const t = await open(cwd, ['recover']);
    await t.answer('Which backup file do you want to restore?');
    await t.waitFor('The file is whole');
    await t.waitFor('This backup can only be opened with the password of admin user `jsmith`, who last logged on 27 Jun 2025, 17:42.');
    await t.answer('Password of jsmith', PASSWORD);
    await t.answer('Where should the backup be restored?');
    await t.answer('Server address');
    await t.answer('Port');
    await t.answer('User name on that server');
    await t.answer('Password of root on that server');
    await t.waitFor('Connected to root@127.0.0.1:3306');
    await t.answer('Name of the database to restore into');
    await t.waitFor(`Into:     ${expectedName} (a new database)`);
    await t.answer('Start the restore?');
    const { code, text } = await t.exit();
    assert.equal(code, 0, text);
    assert.match(text, /All 22 tables restored and verified: every row matches the backup\./);
    assert.ok(!text.includes(PASSWORD), 'the password appeared on the screen');
    await assertSame(small.database, expectedName);
    const report = await readReport(cwd);
    assert.equal(report.place.database, expectedName);
    assert.equal(report.validation?.match, true);
    const { html, md } = await reportsIn(cwd);
    assert.equal(html.length, 1);
    assert.equal(md.length, 1);
    assert.ok(html[0].startsWith(join(cwd, `${expectedName}-`)), `report named after the database: ${html[0]}`);
  });

  it('a wrong password, then the right one', async () => {
    const cwd = await scratchDir('lr-tty-pw-');
    const name = willCreate(await createTempDatabase('lr_rtty_pw', { create: false }));
    const t = await open(cwd, ['recover', small.file, '--target', `${SERVER}/${name}`]);
    await t.answer('Password of jsmith', 'Correct Horse Battery Staple');
    await t.waitFor('That password does not open this backup (try 1 of 3)');
    await t.waitFor('? Password of jsmith');
    await t.type(PASSWORD);
    await t.press('Enter');
    await t.waitFor('The password is right: the backup is open.');
    await t.answer('Start the restore?');
    const { code, text } = await t.exit();
    assert.equal(code, 0, text);
    assert.ok(!text.includes('Correct Horse') && !text.includes(PASSWORD), 'a password appeared on the screen');
    await assertSame(small.database, name);
  });

  it('three wrong passwords: says what to do next, exit code 4, nothing created', async () => {
    const cwd = await scratchDir('lr-tty-pw3-');
    const name = willCreate(await createTempDatabase('lr_rtty_pw3', { create: false }));
    const t = await open(cwd, ['recover', small.file, '--target', `${SERVER}/${name}`]);
    for (const [i, guess] of ['one', 'two', 'three'].entries()) {
      await t.waitFor('? Password of jsmith');
      await t.type(guess);
      await t.press('Enter');
      await t.waitFor(`try ${i + 1} of 3`);
    }
    const { code, text } = await t.exit();
    assert.equal(code, 4, text);
    assert.match(text, /What to do next:/);
    assert.match(text, /Ask jsmith for their Open Dental password as it was on/);
    assert.deepEqual(await tableNames(name), [], 'nothing may be created after wrong passwords');
  });

  it('Ctrl-C at a question ends cleanly: nothing created', async () => {
    const cwd = await scratchDir('lr-tty-cancel-');
    const name = willCreate(await createTempDatabase('lr_rtty_cancel', { create: false }));
    const t = await open(cwd, ['recover', small.file, '--target', `${SERVER}/${name}`, '--password-file', small.passwordFile]);
    await t.waitFor('? Start the restore?');
    await t.press('C-c');
    const { code, text } = await t.exit();
    assert.equal(code, 1, text);
    assert.match(text, /Stopped: nothing was restored and nothing on the server was changed\./);
    const conn = await connectServer();
    const [rows] = (await conn.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name])) as unknown as [unknown[]];
    await conn.end();
    assert.equal(rows.length, 0, 'the database must not exist');
    assert.deepEqual((await reportsIn(cwd)).json, [], 'no report for a recovery that never started');
  });

  it('an existing database with tables is refused (even after a wrong retyped name), and a new name accepted', async () => {
    const cwd = await scratchDir('lr-tty-taken-');
    const taken = await createTempDatabase('lr_rtty_taken');
    const conn = await connectServer(taken);
    await conn.query('CREATE TABLE keepme (id INT PRIMARY KEY, note VARCHAR(20))');
    await conn.query("INSERT INTO keepme VALUES (1, 'precious')");
    await conn.end();
    const fresh = willCreate(`${taken}_2`);

    const t = await open(cwd, ['recover', small.file, '--target', SERVER, '--password-file', small.passwordFile]);
    await t.answer('Name of the database to restore into', taken); // typing replaces the suggested name
    await t.waitFor(`${taken} on root@127.0.0.1:3306 already has 1 table. It will not be overwritten.`);
    await t.choose('What now?', 2); // "Replace …"
    await t.answer(`To delete everything in ${taken} and restore into it, type its name again`, `${taken}_oops`);
    await t.waitFor('That is not the same name, so it is kept: nothing will be deleted.');
    await t.waitFor('? What now?');
    await t.press('Enter'); // "Restore into a new database named …_2"
    await t.waitFor(`Into:     ${fresh} (a new database)`);
    await t.answer('Start the restore?');
    const { code, text } = await t.exit();
    assert.equal(code, 0, text);
    await assertSame(small.database, fresh);
    assert.deepEqual(await tableNames(taken), ['keepme']);
    assert.equal(await rowCount(taken, 'keepme'), 1);
  });

  it('Ctrl-C in the middle of the restore leaves it marked incomplete; --resume finishes it', async () => {
    const cwd = await scratchDir('lr-tty-int-');
    const name = willCreate(await createTempDatabase('lr_rtty_int', { create: false }));
    const t = await open(cwd, ['recover', big.file, '--target', `${SERVER}/${name}`]);
    await t.answer('Password of jsmith', PASSWORD);
    await t.answer('Start the restore?');
    await t.waitFor(/\d+\/22 tables · [\d,]+ rows/, { timeoutMs: 60_000 });
    await t.press('C-c');
    const { code, text } = await t.exit();
    assert.equal(code, 1, text);
    assert.match(text, /The restore was interrupted: \d+ of 22 tables (was|were) finished/);
    assert.match(text, new RegExp(`marked as not complete: it keeps a table named ${PROGRESS_TABLE}`));
    const resume = /^ +(lastresort recover .* --resume .*)$/m.exec(text)?.[1];
    assert.ok(resume, `no resume command on the screen:\n${text}`);
    assert.ok((await tableNames(name)).includes(PROGRESS_TABLE), 'the target must keep its progress table');
    const stopped = await readReport(cwd);
    assert.equal(stopped.interrupted, true);
    assert.equal(stopped.exitCode, 1);
    assert.ok(stopped.tables.some((x) => x.status !== 'restored'), 'an interrupted report lists unfinished tables');
    for (const x of stopped.tables.filter((y) => y.status === 'restored')) {
      assert.equal(await rowCount(name, x.name), await rowCount(big.database, x.name), `${x.name} is called finished but is not whole`);
    }

    // The exact command the wizard printed, as the person would paste it.
    const args = resume.replace(/^lastresort /, '').split(' ').map((a) => a.replace(/^'(.*)'$/, '$1'));
    const r = await open(cwd, args);
    await r.answer('Password of jsmith', PASSWORD);
    await r.waitFor('Into:     ' + name + ' (continue the restore that was interrupted)');
    await r.answer('Start the restore?');
    const resumed = await r.exit(120_000);
    assert.equal(resumed.code, 0, resumed.text);
    assert.match(resumed.text, /All 22 tables restored and verified/);
    assert.ok(!(await tableNames(name)).includes(PROGRESS_TABLE));
    await assertSame(big.database, name);
  });

  it('a damaged backup ends in "Restored with losses" with the incomplete tables listed', async () => {
    const cwd = await scratchDir('lr-tty-dmg-');
    const copy = join(cwd, 'damaged.lrb');
    await damagedCopy(small.file, copy);
    const name = willCreate(await createTempDatabase('lr_rtty_dmg', { create: false }));
    const t = await open(cwd, ['recover', copy, '--target', `${SERVER}/${name}`]);
    await t.waitFor(/The file is damaged: \d+ of its \d+ parts cannot be read/);
    await t.answer('Password of jsmith', PASSWORD);
    await t.answer('Start the restore?');
    const { code, text } = await t.exit();
    assert.equal(code, 3, text);
    assert.match(text, /Restored with losses: \d+ of 22 tables (is|are) incomplete/);
    assert.match(text, /Tables that are not complete:/);
    const report = await readReport(cwd);
    const incomplete = report.tables.filter((x) => x.status !== 'restored');
    assert.ok(incomplete.length > 0);
    for (const x of incomplete) {
      assert.match(text, new RegExp(`^ +${x.name} `, 'm'), `${x.name} is not in the table on screen`);
      if (x.status !== 'missing') assert.equal(await rowCount(name, x.name), x.rowsRestored, `${x.name}: report and server disagree`);
    }
    // Every table the report calls complete is identical to the source.
    const complete = report.tables.filter((x) => x.status === 'restored').map((x) => x.name);
    const diffs = await compareDatabases(small.database, name, { tables: complete, objects: false });
    assert.deepEqual(diffs, [], describeDifferences(diffs));
  });
});
