/**
 * The wizard end to end, as a person would drive it: in a real terminal
 * (tmux), keys typed at each question, against the real server. Restored
 * databases are compared with their source through SQL (compareDatabases).
 */
import assert from 'node:assert/strict';
import { copyFile, readFile, rename, stat, truncate } from 'node:fs/promises';
import net from 'node:net';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { defaultDatabaseName } from '../../src/recover/database.js';
import { locateHeader } from '../../src/format/reader.js';
import { connect } from '../../src/db/connect.js';
import { humanDate } from '../../src/text.js';
import { MAIN_TABLES } from '../../src/opendental/main-tables.js';
import { stopSandbox } from '../../src/sandbox/index.js';
import { backupOf } from '../helpers/backup.js';
import { PROGRESS_TABLE } from '../../src/restore/progress-table.js';
import { compareDatabases, connectServer, createTempDatabase, describeDifferences } from '../helpers/db.js';
import { PASSWORD, damagedCopy, reportsIn, rowCount, sourceWithBackup, tableNames, willCreate, scratchDir, type SourceBackup } from './helpers/setup.js';
import { commandOnScreen, requireTool, Terminal } from './helpers/terminal.js';
import type { RecoverReport } from '../../src/report/recover-report.js';

const SERVER = 'mysql://root@127.0.0.1:3306';
const terminals: Terminal[] = [];
async function open(cwd: string, args: string[], columns?: number): Promise<Terminal> {
  const t = await Terminal.start({ cwd, args, columns });
  terminals.push(t);
  return t;
}

/** A paragraph as one line, however the terminal width broke it (a path broken after a slash is joined again). */
const flat = (text: string) => text.replace(/\/\n +/g, '/').replace(/\s+/g, ' ');

async function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => ok(port));
    });
  });
}

/** A copy of `file` cut short at `fraction` of its length, as an interrupted copy or download leaves it. */
async function cutCopy(file: string, dest: string, fraction: number): Promise<number> {
  await copyFile(file, dest);
  const size = (await stat(dest)).size;
  await truncate(dest, Math.floor(size * fraction));
  return size - Math.floor(size * fraction);
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
  const sandboxes: string[] = [];
  after(async () => {
    for (const t of terminals) await t.close();
    for (const dir of sandboxes) await stopSandbox(dir);
  });

  it('a clean recovery: picks the file in the folder, takes every default, restores and verifies', async () => {
    const cwd = await scratchDir('lr-tty-clean-');
    await copyFile(small.file, join(cwd, basename(small.file)));
    const expectedName = willCreate(defaultDatabaseName((await locateHeader(small.file)).header));
    const t = await open(cwd, ['recover']);
    await t.answer('Which backup do you want to restore?');
    await t.waitFor('The file is whole');
    await t.answer('Password of jsmith', PASSWORD);
    await t.choose('Restore where?', 1); // the sandbox is the default; a server is one arrow away
    await t.answer('Server address');
    await t.answer('Port');
    await t.answer('User name on that server');
    await t.answer('Password of root on that server');
    await t.waitFor('Connected to root@127.0.0.1:3306');
    await t.answer('Name for the restored database');
    await t.waitFor(`Into:     ${expectedName} (a new database)`);
    await t.answer('Start the restore?');
    const { code, text } = await t.exit();
    assert.equal(code, 0, text);
    assert.match(text, /All 22 tables restored and verified: every row matches the backup\./);
    const { html: saved } = await reportsIn(cwd);
    assert.ok(flat(text).endsWith(flat([
      'What to do next:',
      `  - The restored database is ${expectedName} on the server root@127.0.0.1:3306.`,
      `  - IT reaches it there with the server account used here. Open Dental can use ${expectedName} once IT has checked it.`,
      `  - The report for IT (open it in a web browser): ${saved[0]}`,
      '[exit 0] ',
    ].join('\n'))), `the screen does not end with the "What to do next" block:\n${text}`);
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
    await t.answer('Name for the restored database', taken); // typing replaces the suggested name
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
    assert.match(text, new RegExp(`What to do next: ${name} is marked as not complete\\. To finish the restore where it stopped \\(what is restored so far is kept\\), run:\\n  lastresort recover `));
    assert.ok(!text.includes(PROGRESS_TABLE), 'an internal table name reached the screen');
    assert.doesNotMatch(text, /\d+% .*\^C/, 'the frozen bar stayed on the screen with ^C on it');
    const resume = commandOnScreen(text, 'lastresort recover ');
    assert.ok(resume?.includes(' --resume '), `no resume command on the screen:\n${text}`);
    assert.ok((await tableNames(name)).includes(PROGRESS_TABLE), 'the target must keep its progress table');
    const stopped = await readReport(cwd);
    assert.equal(stopped.interrupted, true);
    assert.equal(stopped.exitCode, 1);
    assert.ok(stopped.tables.some((x) => x.status !== 'restored'), 'an interrupted report lists unfinished tables');
    for (const x of stopped.tables.filter((y) => y.status === 'restored')) {
      assert.equal(await rowCount(name, x.name), await rowCount(big.database, x.name), `${x.name} is called finished but is not whole`);
    }

    // The exact command the wizard printed, as the person would paste it.
    const args = resume!.replace(/^lastresort /, '').split(' ').map((a) => a.replace(/^'(.*)'$/, '$1'));
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
    assert.match(text, /Tables with some rows missing:/);
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
  it('80 columns: three delivered files listed by backup date, the newest whole one first and chosen; the password explained before the first try; the sandbox by default; What to do next', async () => {
    const cwd = await scratchDir('lr-tty-three-');
    const made: Record<string, string> = {};
    for (const [name, day] of [['older', 27], ['middle', 28], ['newest', 29]] as const) {
      const b = await backupOf(small.database, cwd, { now: new Date(2026, 10, day, 3, 0) });
      await rename(b.file, join(cwd, `${name}.lrb`));
      made[name] = humanDate((await locateHeader(join(cwd, `${name}.lrb`))).header.createdAt);
    }
    await cutCopy(join(cwd, 'newest.lrb'), join(cwd, 'newest.cut'), 0.6);
    await rename(join(cwd, 'newest.cut'), join(cwd, 'newest.lrb'));
    const sandboxDir = join(cwd, 'lastresort-sandbox');
    sandboxes.push(sandboxDir);

    const t = await open(cwd, ['recover'], 80);
    const list = await t.waitFor('? Which backup do you want to restore?');
    const row = (name: string) => list.split('\n').findIndex((l) => /^ +\d /.test(l) && l.includes(made[name]));
    assert.ok(row('middle') >= 0 && row('newest') >= 0 && row('older') >= 0, `the three backups are not listed by their dates:\n${list}`);
    assert.ok(row('middle') < row('newest') && row('newest') < row('older'), `not newest whole first, then by date:\n${list}`);
    const lines = list.split('\n');
    assert.match(lines[row('middle')], new RegExp(`^ +1 +${made.middle} +${small.database.slice(0, 14)}.* +looks whole +jsmith$`));
    assert.match(lines[row('newest')], / DAMAGED +jsmith$/);
    assert.match(list, new RegExp(`❯ +1\\. ${made.middle}, looks whole`), 'the newest whole backup is not the one selected');
    await t.press('Enter');
    await t.waitFor('The file is whole');
    const asked = await t.waitFor('? Password of jsmith');
    const paragraph = "This backup opens only with jsmith's Open Dental password: the one jsmith types to log on to Open Dental, not a Windows password and not the database server's. "
      + `It must be the password as it was on ${made.middle}, when the backup was made. The backup was locked with it because jsmith was the last admin to log on (on 27 Jun 2025, 17:42): nobody else can open it, not even Open Dental support.`;
    assert.ok(flat(asked).includes(paragraph), `the password paragraph is not on the screen:\n${asked}`);
    assert.ok(flat(asked).indexOf(paragraph) < flat(asked).indexOf('? Password of jsmith'), 'the paragraph must come before the first try');
    assert.ok(!asked.includes('`'), 'Markdown backticks on the screen');
    await t.type(PASSWORD);
    await t.press('Enter');
    await t.answer('Restore where?'); // Enter: the sandbox is the default
    await t.waitFor('The sandbox server is running', { timeoutMs: 120_000 });
    await t.answer('Name for the restored database');
    await t.answer('Start the restore?');
    const { code, text } = await t.exit(120_000);
    assert.equal(code, 0, text);
    const report = await readReport(cwd);
    const { html } = await reportsIn(cwd);
    const db = report.place.database;
    assert.equal(report.validation?.match, true);
    assert.ok(flat(text).includes(flat(`What to do next:
  - The restored database ${db} is in the sandbox server on this computer (folder ${sandboxDir}), which keeps running.
  - IT can open it with: ${report.sandbox!.connectCommand} ${db}
  - When IT is done with it: ${report.sandbox!.stopCommand}
  - Open Dental cannot use the sandbox: it is there to look at the data.`)), `no "What to do next" block at the end:\n${text}`);
    assert.ok(flat(text).endsWith(flat(`  - The report for IT (open it in a web browser): ${html[0]} [exit 0] `)), `the report line does not end the screen:\n${text}`);
    assert.doesNotMatch(text, /must be running for the validate command/);
    // Counted in the sandbox itself, compared with the source on the test server.
    const info = JSON.parse(await readFile(join(sandboxDir, 'sandbox.json'), 'utf8')) as { socket: string };
    const sbx = await connect({ host: 'localhost', port: 0, user: 'root', password: '', database: db, socketPath: info.socket });
    try {
      for (const x of report.tables) {
        const [[r]] = (await sbx.query(`SELECT COUNT(*) AS n FROM \`${x.name}\``)) as unknown as [{ n: number | string }[]];
        assert.equal(Number(r.n), await rowCount(small.database, x.name), `${x.name}: sandbox and source differ`);
      }
    } finally {
      await sbx.end();
    }
    assert.deepEqual(t.tooWide(), [], 'lines wider than the 80-column terminal');
  });

  it('80 columns: a file cut short at 60% gives the cut no size, lists the tables missing entirely apart, and what to do next', async () => {
    const cwd = await scratchDir('lr-tty-cut-');
    const cut = join(cwd, 'tonight.lrb');
    const missing = await cutCopy(small.file, cut, 0.6);
    await copyFile(small.file, join(cwd, 'earlier.lrb'));
    const name = willCreate(await createTempDatabase('lr_rtty_cut', { create: false }));
    const t = await open(cwd, ['recover', cut, '--target', `${SERVER}/${name}`], 80);
    const before = await t.waitFor('? Password of jsmith');
    assert.match(flat(before), /The file is damaged: it is cut short: it ends after part \[\d+\] and the rest is missing/);
    await t.type(PASSWORD);
    await t.press('Enter');
    await t.answer('Start the restore?');
    const { code, text } = await t.exit();
    assert.equal(code, 3, text);
    const report = await readReport(cwd);
    const { html } = await reportsIn(cwd);
    const d = report.damage;
    assert.equal(d.truncated, true);
    assert.equal(d.bytesLost, 0, 'nothing proves how much was cut: bytesLost counts damaged parts only');
    assert.ok(missing > 0);
    assert.ok(flat(text).includes(`it is cut short: it ends after part [${d.chunks - 1}] and the rest is missing; how much is missing cannot be told (the file does not record its full length).`), text);

    const absent = report.tables.filter((x) => x.status === 'missing');
    const some = report.tables.filter((x) => x.status === 'partial' || x.status === 'failed');
    assert.ok(absent.length > 0, 'a cut at 60% leaves tables never reached');
    assert.match(report.summary, new RegExp(`${absent.length} (tables are|table is) missing entirely \\(the file ends before them\\)`));
    const section = text.split('Tables missing entirely (the file ends before them):')[1];
    assert.ok(section, `the tables missing entirely are not listed apart:\n${text}`);
    for (const x of absent) {
      const label = MAIN_TABLES[x.name] ? `${x.name} \\(${MAIN_TABLES[x.name]}\\)` : x.name;
      const rows = x.rowsEstimate ? `about ${x.rowsEstimate.toLocaleString('en-US')}` : 'unknown';
      assert.match(section, new RegExp(`^ +${label} +${rows}$`, 'm'), `${x.name} is not listed with its estimated rows`);
    }
    if (some.length > 0) {
      const partial = text.split('Tables with some rows missing:')[1];
      for (const x of some) assert.match(partial, new RegExp(`^ +${x.name} `, 'm'), `${x.name} is not listed among tables with rows missing`);
    }
    assert.match(text, /^"about": the exact count was in the lost part/m);
    const absentMain = Object.keys(MAIN_TABLES).filter((m) => absent.some((x) => x.name === m)).map((m) => `${m} (${MAIN_TABLES[m]})`);
    const next = flat(text.slice(text.lastIndexOf('What to do next:')));
    assert.ok(next.startsWith(flat(`What to do next:
  - Ask support to send the file again: this copy is cut short, so part of the backup never arrived.
  - Do not use ${name} for daily work yet: part of the practice's data is not in it. Looking things up in it is safe.
  - Open Dental will not start on this database: tables it needs are missing entirely.${absentMain.length ? ` Among them: ${absentMain.join(', ')}.` : ''}`)), next);
    assert.ok(next.includes(`Send this report to IT (it opens in a web browser): ${html[0]}`), next);
    assert.ok(next.includes('Ask support for an earlier backup. In the same folder there is also: earlier.lrb. [exit 3]'), next);
    // What came back is what the source holds.
    const complete = report.tables.filter((x) => x.status === 'restored').map((x) => x.name);
    const diffs = await compareDatabases(small.database, name, { tables: complete, objects: false });
    assert.deepEqual(diffs, [], describeDifferences(diffs));
    assert.deepEqual(t.tooWide(), [], 'lines wider than the 80-column terminal');
  });

  it('80 columns: Ctrl-C twice quits at once, yet saves the report and says how to finish', async () => {
    const cwd = await scratchDir('lr-tty-int2-');
    const name = willCreate(await createTempDatabase('lr_rtty_int2', { create: false }));
    const t = await open(cwd, ['recover', big.file, '--target', `${SERVER}/${name}`], 80);
    await t.answer('Password of jsmith', PASSWORD);
    await t.answer('Start the restore?');
    await t.waitFor(/\d+\/22 tables · [\d,]+ rows/, { timeoutMs: 60_000 });
    await t.press('C-c', 'C-c');
    const { code, text } = await t.exit();
    assert.equal(code, 1, text); // LR_INTERRUPTED, as for one Ctrl-C
    // The clean stop that the first Ctrl-C starts can finish (report saved, process gone) before the
    // second press arrives 60 ms later; either way the person must get the same ending, checked below.
    if (!text.includes('Quitting now.')) assert.match(text, /Stopping cleanly/);
    assert.ok(flat(text).includes(`What to do next: ${name} is marked as not complete. To finish the restore where it stopped (what is restored so far is kept), run:`), text);
    const resume = commandOnScreen(text, 'lastresort recover ');
    assert.ok(resume?.includes(` --target ${SERVER}/${name} --resume `), `no resume command on the screen:\n${text}`);
    assert.ok(!text.includes(PROGRESS_TABLE), 'an internal table name reached the screen');
    const report = await readReport(cwd);
    assert.equal(report.interrupted, true);
    assert.equal(report.commands.resume, resume);
    assert.ok((await tableNames(name)).includes(PROGRESS_TABLE), 'the target must stay marked as not complete');
    for (const x of report.tables.filter((y) => y.status === 'restored')) {
      assert.equal(await rowCount(name, x.name), await rowCount(big.database, x.name), `${x.name} is called finished but is not whole`);
    }
    assert.deepEqual(t.tooWide(), [], 'lines wider than the 80-column terminal');
  });

  it('80 columns: a server that cannot be reached ends with what to do next', async () => {
    const cwd = await scratchDir('lr-tty-fail-');
    const port = await freePort();
    const t = await open(cwd, ['recover', small.file, '--target', `mysql://root@127.0.0.1:${port}/nothing_here`, '--password-file', small.passwordFile], 80);
    const { code, text } = await t.exit();
    assert.notEqual(code, 0, text);
    assert.ok(flat(text).includes('What to do next: - Nothing was restored. The last line below says what went wrong: fix that, or show it to IT. - Then run lastresort recover again.'), text);
    assert.match(text, new RegExp(`\\nlastresort: [^\\n]*${port}[^\\n]*(\\n[^\\n]+)*\\n\\[exit ${code}\\]`));
    assert.deepEqual((await reportsIn(cwd)).json, [], 'no report for a recovery that never started');
    // The last line is the error every command ends with (src/cli.ts), not the wizard's own drawing.
    assert.deepEqual(t.tooWide(), [], 'lines wider than the 80-column terminal');
  });
});
