/**
 * Each wizard step on its own, driven by scripted answers (as a person would
 * answer), against a real backup and the real server. No mocks: passwords go
 * through the real key derivation, servers are really connected to.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { quoteId } from '../../src/db/connect.js';
import { parseDsn, type Dsn } from '../../src/db/dsn.js';
import { isLrError } from '../../src/errors.js';
import { locateHeader } from '../../src/format/reader.js';
import { checkFile } from '../../src/identify/check.js';
import { checkBackup, cleanTypedPath, describeBackup, findBackup, listBackups } from '../../src/recover/find-backup.js';
import { unlockBackup, whosePassword } from '../../src/recover/unlock.js';
import { chooseServer, probeServer } from '../../src/recover/server.js';
import { chooseDatabase, defaultDatabaseName, problemWithName, serverInspector } from '../../src/recover/database.js';
import { createProgressTable } from '../../src/restore/progress-table.js';
import { confirmPlan, recoverCommands, runWords, summaryLines, type RecoveryPlan } from '../../src/recover/plan.js';
import { connectServer, createTempDatabase, dropDatabase, serverDsn } from '../helpers/db.js';
import { humanDate } from '../../src/text.js';
import { CTRL_C, said, scriptedAsk } from './helpers/scripted-ask.js';
import { PASSWORD, damagedCopy, sourceWithBackup, scratchDir, type SourceBackup } from './helpers/setup.js';

const rejectsWith = (code: string) => (err: unknown) => isLrError(err) && err.code === code;
const server = (): Dsn => ({ ...parseDsn(serverDsn(), { requireDatabase: false }), database: '' });

async function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => ok(port));
    });
  });
}

describe('recover steps, with scripted answers', { timeout: 60_000 }, () => {
  let src: SourceBackup;
  before(async () => {
    src = await sourceWithBackup({ patients: 60, prefix: 'lr_rsteps' });
  });

  describe('1. find the backup', () => {
    it('takes the file named on the command line and says what it is, whole', async () => {
      const ask = scriptedAsk([]);
      const located = await findBackup(ask, { file: src.file, cwd: '/' });
      const check = await checkBackup(ask, located);
      const lines = describeBackup(located, check).join('\n');
      assert.match(lines, new RegExp(`practice database "${src.database}"`));
      assert.match(lines, /The file is whole: all \d+ of its parts check out/);
      assert.equal(check.intact, true);
    });

    it('offers the .lrb files of the folder, explains one that is not a backup, and asks again', async () => {
      const dir = await scratchDir('lr-find-');
      const junk = join(dir, 'holiday-photos.lrb');
      await writeFile(junk, 'not a backup at all\n'.repeat(100));
      const real = join(dir, 'real.lrb');
      await writeFile(real, await readFile(src.file));
      const found = await listBackups(dir);
      assert.deepEqual(found.map((f) => f.path).sort(), [junk, real].sort());
      const ask = scriptedAsk([junk, real]);
      const located = await findBackup(ask, { cwd: dir });
      assert.equal(located.path, real);
      assert.match(said(ask), /not a lastresort backup/);
      assert.deepEqual(ask.offered[0].at(-1), ':type-a-path');
    });

    it('with no .lrb here, asks for a path and accepts one pasted in quotes', async () => {
      const empty = await scratchDir('lr-empty-');
      const ask = scriptedAsk([`'${src.file}'`]);
      const located = await findBackup(ask, { cwd: empty });
      assert.equal(located.path, src.file);
      assert.match(said(ask), /There is no backup file \(\.lrb\) in this folder/);
      assert.equal(cleanTypedPath('~/a\\ b.lrb', '/x'), join(process.env.HOME ?? '', 'a b.lrb'));
    });

    it('without a terminal and without a file, names what to give', async () => {
      await assert.rejects(findBackup(scriptedAsk([], { interactive: false }), { cwd: '/' }), rejectsWith('LR_USAGE'));
    });

    it('says plainly when the file is damaged', async () => {
      const copy = join(src.dir, 'damaged-steps.lrb');
      await damagedCopy(src.file, copy);
      const located = await locateHeader(copy);
      const check = await checkFile(copy, { located });
      const lines = describeBackup(located, check).join('\n');
      assert.match(lines, new RegExp(`The file is damaged: ${check.damagedChunks} of its ${check.chunks} parts cannot be read`));
      assert.match(lines, /list exactly what is lost/);
      assert.ok(check.damagedChunks >= 1);
    });
  });

  describe('2. the password', () => {
    it("before the first try: whose password, which one (Open Dental, not Windows or the server's), as of the backup's date, and why only theirs", async () => {
      const located = await locateHeader(src.file);
      const text = whosePassword(located);
      assert.match(text, /^This backup opens only with jsmith's Open Dental password: the one jsmith types to log on to Open Dental, not a Windows password and not the database server's\. /);
      assert.ok(text.includes(`It must be the password as it was on ${humanDate(located.header.createdAt)}, when the backup was made.`), text);
      assert.match(text, /because jsmith was the last admin to log on \(on 27 Jun 2025, 17:42\): nobody else can open it, not even Open Dental support\.$/);
      assert.ok(!text.includes('`'), 'no Markdown backticks on screen');
    });

    it('a wrong password, a blank Enter (not counted), then the right one opens it', async () => {
      const located = await locateHeader(src.file);
      const ask = scriptedAsk(['not it', '', PASSWORD]);
      const opened = await unlockBackup(ask, located);
      assert.equal(opened.located.path, src.file);
      const text = said(ask);
      assert.match(text, /does not open this backup \(try 1 of 3\)/);
      assert.match(text, /No password was typed/);
      assert.match(text, /The password is right/);
      assert.ok(!text.includes(PASSWORD) && !text.includes('not it'), 'a password appeared in what was said');
    });

    it('after three wrong passwords, explains what to do next and ends with exit code 4', async () => {
      const located = await locateHeader(src.file);
      const ask = scriptedAsk(['a', 'b', 'c']);
      await assert.rejects(unlockBackup(ask, located), (err: unknown) => isLrError(err, 'LR_WRONG_PASSWORD') && err.exitCode === 4);
      assert.match(said(ask), /try 3 of 3/);
      assert.match(said(ask), /What to do next:[\s\S]*Ask jsmith for their Open Dental password/);
    });

    it('a password from a file is tried once, never asked again', async () => {
      const located = await locateHeader(src.file);
      await assert.rejects(unlockBackup(scriptedAsk([]), located, { given: 'wrong' }), rejectsWith('LR_WRONG_PASSWORD'));
    });

    it('Ctrl-C at the password question stops cleanly', async () => {
      const located = await locateHeader(src.file);
      await assert.rejects(unlockBackup(scriptedAsk([CTRL_C]), located), rejectsWith('LR_INTERRUPTED'));
    });
  });

  describe('3a. where to restore', () => {
    const limitedUser = `lr_nocreate_${process.pid}`;
    before(async () => {
      const conn = await connectServer();
      await conn.query(`CREATE USER IF NOT EXISTS ${quoteId(limitedUser)}@'%' IDENTIFIED BY 'pw'`);
      await conn.query(`GRANT SELECT ON *.* TO ${quoteId(limitedUser)}@'%'`); // may read, may not create
      await conn.end();
    });
    after(async () => {
      const conn = await connectServer();
      await conn.query(`DROP USER IF EXISTS ${quoteId(limitedUser)}@'%'`);
      await conn.end();
    });

    it('the defaults connect to the test server', async () => {
      const ask = scriptedAsk(['server', '', '', '', '']);
      const { where } = await chooseServer(ask, { cwd: '/' });
      assert.equal(where.kind, 'server');
      assert.match(said(ask), /Connected to root@127\.0\.0\.1:3306/);
    });

    it('explains a server that is not running, access denied, and no right to create databases', async () => {
      const port = await freePort();
      await assert.rejects(probeServer({ ...server(), port }), (e: unknown) => isLrError(e, 'LR_DB_UNREACHABLE') && /No database server answers .* Check that MySQL\/MariaDB is running/.test(e.message));
      await assert.rejects(probeServer({ ...server(), password: 'surely-not-the-password' }), (e: unknown) => isLrError(e, 'LR_DB_ACCESS') && /refused the user name or password/.test(e.message));
      await assert.rejects(probeServer({ ...server(), user: limitedUser, password: 'pw' }), (e: unknown) => isLrError(e, 'LR_DB_ACCESS') && /may not create databases/.test(e.message));
    });

    it('after a failed attempt, asks again with the previous answers as defaults', async () => {
      const port = await freePort();
      const ask = scriptedAsk(['server', '127.0.0.1', String(port), 'root', '', 'server', '', '3306', '', '']);
      const { where } = await chooseServer(ask, { cwd: '/' });
      assert.equal(where.dsn.port, 3306);
      assert.match(said(ask), /No database server answers at root@127\.0\.0\.1:\d+[\s\S]*Try again, or choose the sandbox server/);
    });

    it('refuses a password written into --target, and --target mixed with --host', async () => {
      await assert.rejects(chooseServer(scriptedAsk([]), { target: 'mysql://root:secret@127.0.0.1:3306/x', cwd: '/' }), (e: unknown) => isLrError(e, 'LR_USAGE') && !e.message.includes('secret'));
      await assert.rejects(chooseServer(scriptedAsk([]), { target: 'mysql://root@127.0.0.1/x', host: 'h', cwd: '/' }), rejectsWith('LR_USAGE'));
    });

    it('--target names the server and the database without asking', async () => {
      const ask = scriptedAsk([], { interactive: false });
      const { where, database } = await chooseServer(ask, { target: 'mysql://root@127.0.0.1:3306/some_name', cwd: '/' });
      assert.equal(where.dsn.database, '');
      assert.equal(database, 'some_name');
    });
  });

  describe('3b. the database name', () => {
    it('defaults to <original>_restored_<backup date> and accepts only plain names', async () => {
      assert.equal(defaultDatabaseName({ database: 'opendental', createdAt: new Date(2026, 10, 26, 17, 42).toISOString() }), 'opendental_restored_20261126');
      assert.equal(defaultDatabaseName({ database: 'x'.repeat(80), createdAt: new Date(2026, 0, 2).toISOString() }).length, 64);
      assert.equal(problemWithName('ok_name_1'), null);
      assert.match(problemWithName('bad name; DROP')!, /only letters/);
    });

    it('a second run proposes a free name at once: Enter never lands on the restore before', async () => {
      const located = await locateHeader(src.file);
      const first = defaultDatabaseName(located.header);
      await dropDatabase(`${first}_2`);
      const conn = await connectServer();
      await conn.query(`CREATE DATABASE ${quoteId(first)}`);
      await conn.query(`CREATE TABLE ${quoteId(first)}.patient (PatNum BIGINT PRIMARY KEY)`); // what the first run restored
      await conn.end();
      try {
        const ask = scriptedAsk(['']); // Enter: take what is proposed
        const choice = await chooseDatabase(ask, { header: located.header, where: 'x' }, serverInspector(server()));
        assert.deepEqual(choice, { name: `${first}_2`, mode: 'fresh', tablesBefore: 0 });
        assert.doesNotMatch(said(ask), /already has/, 'the taken name was never proposed, so nothing had to be refused');
      } finally {
        await dropDatabase(first);
      }
    });

    it('a new name is used as it is', async () => {
      const located = await locateHeader(src.file);
      const name = await createTempDatabase('lr_rname', { create: false });
      const ask = scriptedAsk([name]);
      const choice = await chooseDatabase(ask, { header: located.header, where: 'test server' }, serverInspector(server()));
      assert.deepEqual(choice, { name, mode: 'fresh', tablesBefore: 0 });
    });

    it('a database with tables is refused; a wrong retyped name keeps it; the suggested new name is taken', async () => {
      const located = await locateHeader(src.file);
      const taken = await createTempDatabase('lr_rtaken');
      const conn = await connectServer(taken);
      await conn.query('CREATE TABLE keepme (id INT PRIMARY KEY)');
      await conn.query('INSERT INTO keepme VALUES (1)');
      await conn.end();
      const ask = scriptedAsk([taken, 'replace', `${taken}x`, 'suggested']);
      const choice = await chooseDatabase(ask, { header: located.header, where: 'test server' }, serverInspector(server()));
      assert.equal(choice.name, `${taken}_2`);
      assert.equal(choice.mode, 'fresh');
      assert.match(said(ask), /already has 1 table\. It will not be overwritten/);
      assert.match(said(ask), /not the same name, so it is kept/);
    });

    it('replacing needs the exact name typed again', async () => {
      const located = await locateHeader(src.file);
      const taken = await createTempDatabase('lr_rrepl');
      const conn = await connectServer(taken);
      await conn.query('CREATE TABLE t (id INT)');
      await conn.end();
      const ask = scriptedAsk([taken, 'replace', taken]);
      const choice = await chooseDatabase(ask, { header: located.header, where: 'test server' }, serverInspector(server()));
      assert.deepEqual(choice, { name: taken, mode: 'replace', tablesBefore: 1 });
    });

    it('without a terminal (or with --yes) a database with tables is an error, never overwritten', async () => {
      const located = await locateHeader(src.file);
      const taken = await createTempDatabase('lr_rtaken2');
      const conn = await connectServer(taken);
      await conn.query('CREATE TABLE t (id INT)');
      await conn.end();
      await assert.rejects(chooseDatabase(scriptedAsk([], { interactive: false }), { given: taken, header: located.header, where: 'x' }, serverInspector(server())), rejectsWith('LR_TARGET_NOT_EMPTY'));
      await assert.rejects(chooseDatabase(scriptedAsk([]), { given: taken, yes: true, header: located.header, where: 'x' }, serverInspector(server())), rejectsWith('LR_TARGET_NOT_EMPTY'));
    });

    it('offers to continue an interrupted restore of this same backup', async () => {
      const located = await locateHeader(src.file);
      const stopped = await createTempDatabase('lr_rstop');
      const conn = await connectServer(stopped);
      await conn.query('CREATE TABLE patient (PatNum BIGINT PRIMARY KEY)');
      await createProgressTable(conn, located.header.fileId); // what an interrupted restore leaves
      await conn.end();
      const offered = scriptedAsk([stopped, 'resume']);
      assert.deepEqual(await chooseDatabase(offered, { header: located.header, where: 'x' }, serverInspector(server())), { name: stopped, mode: 'resume', tablesBefore: 1 });
      assert.match(said(offered), /holds an interrupted restore of this same backup/);
      const flagged = await chooseDatabase(scriptedAsk([], { interactive: false }), { given: stopped, resume: true, header: located.header, where: 'x' }, serverInspector(server()));
      assert.equal(flagged.mode, 'resume');
      await assert.rejects(chooseDatabase(scriptedAsk([], { interactive: false }), { given: stopped, header: located.header, where: 'x' }, serverInspector(server())), (e: unknown) => isLrError(e, 'LR_TARGET_NOT_EMPTY') && /Add --resume/.test(e.message));
    });

    it('warns when the name is the live database', async () => {
      const located = await locateHeader(src.file);
      const ask = scriptedAsk([src.database, 'type', await createTempDatabase('lr_rnew', { create: false })]);
      await chooseDatabase(ask, { header: located.header, where: 'x' }, serverInspector(server()));
      assert.match(said(ask), /same name as the backed-up database: it may be the live one/);
    });
  });

  describe('4. summary and confirmation', () => {
    it('says what will happen, and "no" stops with nothing changed', async () => {
      const located = await locateHeader(src.file);
      const check = await checkFile(src.file, { located });
      const plan: RecoveryPlan = { located, check, where: { kind: 'server', dsn: { ...server(), password: 'server-secret' }, version: 'x' }, database: { name: 'newdb', mode: 'fresh', tablesBefore: 0 }, reportDir: '/reports here' };
      const text = summaryLines(plan).join('\n');
      assert.match(text, /Into: +newdb \(a new database\)/);
      assert.match(text, /Nothing changes until you say yes/);
      await assert.rejects(confirmPlan(scriptedAsk([false]), plan, false), rejectsWith('LR_INTERRUPTED'));
      await confirmPlan(scriptedAsk([]), plan, true); // --yes asks nothing
      const commands = recoverCommands(plan);
      assert.ok(!JSON.stringify(commands).includes('server-secret'), 'a password leaked into the commands');
      assert.match(commands.resume, /--target mysql:\/\/root@127\.0\.0\.1:3306\/newdb --resume --report-dir '\/reports here'$/);
      assert.match(commands.note ?? '', /LASTRESORT_DB_PASSWORD/);
      assert.equal(commands.newLink, undefined);
      assert.equal(runWords(commands), 'run:');
      // A backup read from a link: the commands say <LINK> (the link is a key, and may have expired), to be run with a new one.
      const remote = { ...located, path: 'http://127.0.0.1:7480/bucket/night.lrb', source: { ...located.source, local: false, name: 'http://127.0.0.1:7480/bucket/night.lrb' } };
      const linked = recoverCommands({ ...plan, located: remote });
      assert.equal(linked.newLink, true);
      assert.match(linked.resume, /^lastresort recover <LINK> --target mysql:\/\/root@127\.0\.0\.1:3306\/newdb --resume /);
      assert.match(linked.repeat, /^lastresort recover <LINK> /);
      assert.ok(!JSON.stringify(linked).includes('7480'), 'the link is not printed');
      assert.equal(runWords(linked), 'run, with a new link from support in place of <LINK>:');
    });
  });
});
