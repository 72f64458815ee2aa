/**
 * The nightly producer on Windows: the scheduled task's definition and the
 * schtasks commands, checked as built (Wine's Task Scheduler cannot run a
 * boot task as SYSTEM), and the clean stop that Windows needs instead of
 * SIGTERM (a stop-request file), proven on a real daemon mid-backup here.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { makeSource } from '../helpers/backup.js';
import { dropTempDatabases } from '../helpers/db.js';
import { CLI, runCli } from '../helpers/cli.js';
import { filesIn, serviceDir } from '../service/helpers.js';
import { SCHTASKS, TASK_NAME, parseQuery, schtasksPath, taskXml, taskXmlBytes, windowsArg } from '../../src/service/windows-task.js';
import { stopRequestPath } from '../../src/service/stop-request.js';

let source: string;
before(async () => {
  source = await makeSource({ patients: 60, prefix: 'lrwin_svc', engine: 'MyISAM' });
});
after(dropTempDatabases);

test('arguments are quoted as Windows reads them back (spaces, quotes, trailing backslashes)', () => {
  assert.equal(windowsArg('daemon'), 'daemon');
  assert.equal(windowsArg('C:\\ProgramData\\lastresort\\config.json'), 'C:\\ProgramData\\lastresort\\config.json');
  assert.equal(windowsArg('C:\\Program Files\\lastresort\\config.json'), '"C:\\Program Files\\lastresort\\config.json"');
  assert.equal(windowsArg('\\\\nas\\Open Dental\\'), '"\\\\nas\\Open Dental\\\\"', 'a trailing backslash is doubled so it does not eat the closing quote');
  assert.equal(windowsArg('say "hi"'), '"say \\"hi\\""');
  assert.equal(windowsArg(''), '""');
});

test('the task: at boot, as SYSTEM, no time limit, restarted on failure, below normal priority, the exact command', () => {
  const xml = taskXml({ command: 'C:\\Program Files\\lastresort\\lastresort.exe', leading: [], configPath: 'C:\\ProgramData\\R&D Dental\\config.json' });
  assert.match(xml, /<BootTrigger><Enabled>true<\/Enabled><\/BootTrigger>/);
  assert.match(xml, /<UserId>S-1-5-18<\/UserId>/);
  assert.match(xml, /<ExecutionTimeLimit>PT0S<\/ExecutionTimeLimit>/);
  assert.match(xml, /<RestartOnFailure><Interval>PT1M<\/Interval><Count>999<\/Count><\/RestartOnFailure>/);
  assert.match(xml, /<Priority>7<\/Priority>/);
  assert.match(xml, /<MultipleInstancesPolicy>IgnoreNew<\/MultipleInstancesPolicy>/);
  assert.match(xml, /<Command>C:\\Program Files\\lastresort\\lastresort\.exe<\/Command>/);
  assert.match(xml, /<Arguments>daemon --config &quot;C:\\ProgramData\\R&amp;D Dental\\config\.json&quot;<\/Arguments>/);
  // Run by a node.exe (not the single executable), the script comes first.
  assert.match(taskXml({ command: 'C:\\node\\node.exe', leading: ['C:\\lr\\dist\\cli.js'], configPath: 'C:\\c.json' }), /<Arguments>C:\\lr\\dist\\cli\.js daemon --config C:\\c\.json<\/Arguments>/);
  const bytes = taskXmlBytes(xml);
  assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xfe], 'UTF-16 LE with its byte-order mark, as schtasks wants');
  assert.equal(bytes.subarray(2).toString('utf16le'), xml.replace(/\n/g, '\r\n'));
});

test('the schtasks commands, by full path', () => {
  assert.equal(schtasksPath({ SystemRoot: 'C:\\Windows' }), 'C:\\Windows\\System32\\schtasks.exe');
  assert.deepEqual(SCHTASKS.create('C:\\ProgramData\\lastresort\\task.xml'), ['/Create', '/TN', TASK_NAME, '/XML', 'C:\\ProgramData\\lastresort\\task.xml', '/F']);
  assert.deepEqual(SCHTASKS.run(), ['/Run', '/TN', TASK_NAME]);
  assert.deepEqual(SCHTASKS.end(), ['/End', '/TN', TASK_NAME]);
  assert.deepEqual(SCHTASKS.remove(), ['/Delete', '/TN', TASK_NAME, '/F']);
  assert.deepEqual(parseQuery(`"\\${TASK_NAME}","N/A","Running"\r\n`), { found: true, state: 'Running' });
  assert.deepEqual(parseQuery(''), { found: false, state: null });
});

test('on Linux, service install says to use the systemd unit (exit 2, one line)', async () => {
  const r = await runCli(['service', 'install']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /systemd unit: copy packaging\/lastresort\.service/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('a stop request mid-backup stops the daemon cleanly, as SIGTERM does: no partial .lrb or temporary, the request removed', async () => {
  const sd = await serviceDir(source, { maxRate: 100_000 });
  await mkdir(sd.outDir, { recursive: true });
  const child = spawn(process.execPath, [CLI, 'daemon', '--once', '--config', sd.configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && (await filesIn(sd.outDir)).temporaries.length === 0) await new Promise((r) => setTimeout(r, 20));
  assert.ok((await filesIn(sd.outDir)).temporaries.length > 0, 'the backup never started writing');
  const request = stopRequestPath(sd.stateFile);
  await writeFile(request, 'stop\n');
  const code = await closed;
  assert.equal(code, 1, stderr);
  assert.match(stderr, /Stopping cleanly \(service stop\)/);
  assert.match(stderr, /stopped before it finished; no file was written/);
  assert.deepEqual((await filesIn(sd.outDir)).all, []);
  assert.equal(existsSync(request), false, 'the daemon removes the request as it exits: the stopper knows it is done');
});
