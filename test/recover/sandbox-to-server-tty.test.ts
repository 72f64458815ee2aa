/**
 * The sandbox choice says what it is for, and after a restore into it the
 * end screen gives IT the commands that put the database on the real server.
 * Driven in a real terminal at 100 columns (at 60, the test's long database and file names are single words wider than the screen); the printed copy commands are then
 * run as printed (SERVER and USER filled in with the test server, and `-p`
 * given its empty password so no prompt waits), and the copy on the real
 * server is compared with the source through SQL. MyISAM and InnoDB tables.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { stopSandbox } from '../../src/sandbox/index.js';
import { backupOf, makeSource, passwordFile } from '../helpers/backup.js';
import { compareDatabases, describeDifferences } from '../helpers/db.js';
import { PASSWORD, reportsIn, scratchDir, willCreate } from './helpers/setup.js';
import { commandOnScreen, requireTool, Terminal } from './helpers/terminal.js';
import { readFile } from 'node:fs/promises';
import type { RecoverReport } from '../../src/report/recover-report.js';

const run = promisify(execFile);
const flat = (text: string) => text.replace(/\/\n +/g, '/').replace(/\s+/g, ' ');

describe('the sandbox, and how IT moves its database to the real server', { timeout: 300_000 }, () => {
  let source = '';
  let file = '';
  const terminals: Terminal[] = [];
  const sandboxes: string[] = [];
  before(async () => {
    requireTool('tmux');
    source = await makeSource({ patients: 30, prefix: 'lr_sbx2srv', engine: { '*': 'InnoDB', patient: 'MyISAM', procedurelog: 'MyISAM' } });
    const dir = await scratchDir('lr-sbx2srv-');
    file = (await backupOf(source, dir)).file;
    await passwordFile(dir);
  });
  after(async () => {
    for (const t of terminals) await t.close();
    for (const dir of sandboxes) await stopSandbox(dir);
  });

  it('100 columns: the choice says Open Dental cannot use it; the end screen\'s commands copy it to the real server', async () => {
    const cwd = await scratchDir('lr-sbx2srv-tty-');
    const sandboxDir = join(cwd, 'lastresort-sandbox');
    sandboxes.push(sandboxDir);
    const t = await Terminal.start({ cwd, args: ['recover', file], columns: 100 });
    terminals.push(t);
    await t.answer('Password of jsmith', PASSWORD);
    const choice = await t.waitFor('? Restore where?');
    assert.match(flat(choice), /to look at the data; Open Dental cannot use it/);
    await t.press('Enter');
    await t.waitFor('The sandbox server is running', { timeoutMs: 120_000 });
    await t.answer('Name for the restored database');
    await t.answer('Start the restore?');
    const { code, text } = await t.exit(180_000);
    assert.equal(code, 0, text);
    assert.match(flat(text), /Open Dental cannot use the sandbox: it is there to look at the data\. To put the database on the real server, IT runs this/);
    const { json } = await reportsIn(cwd);
    const report = JSON.parse(await readFile(json[0], 'utf8')) as RecoverReport;
    assert.ok(report.commands.toServer, 'the report carries the commands too');
    const db = report.place.database;
    const again = commandOnScreen(text, 'lastresort recover');
    assert.ok(again?.includes('--target mysql://USER@SERVER:3306'), text);
    const create = commandOnScreen(text.split('or copies')[1] ?? '', 'mariadb -h SERVER') ?? commandOnScreen(text.split('or copies')[1] ?? '', 'mysql -h SERVER');
    const copy = commandOnScreen(text, 'mariadb-dump') ?? commandOnScreen(text, 'mysqldump');
    assert.ok(create && copy, `no copy commands on the screen:\n${text}`);
    assert.deepEqual(t.tooWide(), [], 'lines wider than the 100-column terminal');

    // As IT would run them, with the test server for SERVER and USER (root, empty password).
    const target = willCreate(db);
    const fill = (c: string) => c.replaceAll('-h SERVER -u USER -p', '-h 127.0.0.1 -P 3306 -u root --password=');
    await run('bash', ['-o', 'pipefail', '-c', fill(create!)]);
    await run('bash', ['-o', 'pipefail', '-c', fill(copy!)]);
    const diffs = await compareDatabases(source, target);
    assert.deepEqual(diffs, [], describeDifferences(diffs));
    // Run again, the first command refuses: an existing database is never written over.
    await assert.rejects(run('bash', ['-o', 'pipefail', '-c', fill(create!)]), /database exists/i);
  });
});
