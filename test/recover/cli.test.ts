/**
 * `lastresort recover` from a script: no terminal, every answer a flag, --yes.
 * Run as a child process (the CLI built from source), against the real server
 * and, once, a real sandbox server: exit codes, stdout/stderr, files, secrets.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/db/connect.js';
import { stopSandbox } from '../../src/sandbox/index.js';
import type { RecoverReport } from '../../src/report/recover-report.js';
import { compareDatabases, connectServer, createTempDatabase, describeDifferences } from '../helpers/db.js';
import { PASSWORD, reportsIn, rowCount, sourceWithBackup, tableNames, willCreate, scratchDir, type SourceBackup } from './helpers/setup.js';
import { cliBundle } from './helpers/terminal.js';

interface Result { code: number | null; stdout: string; stderr: string }

async function lastresort(args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<Result> {
  const cli = await cliBundle();
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, LASTRESORT_PASSWORD: '', LASTRESORT_DB_PASSWORD: '', ...opts.env };
    const child = spawn(process.execPath, [cli, ...args], { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end();
  });
}

const SERVER = 'mysql://root@127.0.0.1:3306';

describe('recover from a script (no terminal)', { timeout: 120_000 }, () => {
  let src: SourceBackup;
  let sandboxDir: string | null = null;
  before(async () => {
    src = await sourceWithBackup({ patients: 60, prefix: 'lr_rcli' });
  });
  after(async () => {
    if (sandboxDir) await stopSandbox(sandboxDir);
  });

  it('--help starts with the one command for a bad day, then the commands by who uses them', async () => {
    const r = await lastresort(['--help'], { cwd: src.dir });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith('Lost your data? Run: lastresort recover\n'), r.stdout);
    const headings = r.stdout.split('\n').filter((l) => /^For .*:$/.test(l));
    assert.deepEqual(headings, ['For the office (start here):', 'For support:', 'For IT:', 'For the nightly service:']);
    assert.match(r.stdout, /For the office \(start here\):\n  recover \[options\] \[file\] /);
    const sub = await lastresort(['recover', '--help'], { cwd: src.dir });
    assert.ok(sub.stdout.startsWith('Usage: lastresort recover'), 'the line is for the program help only');
  });

  it('without --yes it refuses to start, saying how to run it from a script (exit 2)', async () => {
    const r = await lastresort(['recover', src.file], { cwd: src.dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no terminal here\. From a script, add --yes/);
  });

  it('--yes --json: restores, verifies, prints the report as JSON and saves the reports (0600)', async () => {
    const name = willCreate(await createTempDatabase('lr_rcli_ok', { create: false }));
    const reportDir = join(await scratchDir('lr-cli-'), 'reports', 'here');
    const r = await lastresort(['recover', src.file, '--target', `${SERVER}/${name}`, '--password-file', src.passwordFile, '--report-dir', reportDir, '--yes', '--json'], { cwd: src.dir });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as RecoverReport & { reports: { json: string; html: string; md: string } };
    assert.equal(report.outcome, 'complete');
    assert.equal(report.validation?.match, true);
    assert.equal(report.place.database, name);
    for (const path of Object.values(report.reports)) {
      assert.ok(path.startsWith(reportDir), path);
      assert.equal((await stat(path)).mode & 0o777, 0o600);
    }
    assert.match(report.summary, /^All 22 tables restored and verified/);
    assert.equal(r.stderr, '', 'with --json and no terminal, stderr stays quiet');
    const diffs = await compareDatabases(src.database, name);
    assert.deepEqual(diffs, [], describeDifferences(diffs));
    assert.ok(!r.stdout.includes(PASSWORD) && !r.stderr.includes(PASSWORD));
  });

  it('--host/--port/--user/--database, the server password from a file, the backup password from the environment', async () => {
    // A user that may create only databases named lr_rcliu_*, with a password of its own, and may
    // make the temporary account the restore runs the file's statements under (src/restore/isolation.ts).
    const user = `lr_rcliu_${process.pid}`;
    const serverPassword = `pw-${process.pid}-server`;
    const admin = await connectServer();
    await admin.query(`CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY '${serverPassword}'`);
    await admin.query(`GRANT ALL ON \`lr\\_rcliu\\_%\`.* TO '${user}'@'%' WITH GRANT OPTION`);
    await admin.query(`GRANT CREATE USER ON *.* TO '${user}'@'%'`);
    await admin.end();
    try {
      const name = willCreate(`lr_rcliu_${process.pid}`);
      const cwd = await scratchDir('lr-cli-env-');
      await writeFile(join(cwd, 'server-password'), serverPassword + '\n', { mode: 0o600 });
      const r = await lastresort(['recover', src.file, '--host', '127.0.0.1', '--port', '3306', '--user', user, '--db-password-file', 'server-password', '--database', name, '--yes'], { cwd, env: { LASTRESORT_PASSWORD: PASSWORD } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /All 22 tables restored and verified/);
      const { json, html } = await reportsIn(cwd);
      assert.equal(html.length, 1, 'reports go to the current folder by default');
      const saved = await readFile(json[0], 'utf8');
      assert.match(saved, /--db-password-file server-password/);
      for (const text of [r.stdout, r.stderr, saved]) assert.ok(!text.includes(serverPassword) && !text.includes(PASSWORD), 'a password was printed or saved');
      assert.equal(await rowCount(name, 'patient'), await rowCount(src.database, 'patient'));
    } finally {
      const c = await connectServer();
      await c.query(`DROP USER IF EXISTS '${user}'@'%'`);
      await c.end();
    }
  });

  it('a wrong password ends with exit 4 and creates nothing', async () => {
    const name = willCreate(await createTempDatabase('lr_rcli_pw', { create: false }));
    const r = await lastresort(['recover', src.file, '--target', `${SERVER}/${name}`, '--yes'], { cwd: src.dir, env: { LASTRESORT_PASSWORD: 'not the password' } });
    assert.equal(r.code, 4);
    assert.match(r.stderr, /not the password that opens this backup/);
    assert.deepEqual(await tableNames(name), []);
  });

  it('a password inside --target is refused (exit 2) and never repeated', async () => {
    const r = await lastresort(['recover', src.file, '--target', 'mysql://root:hunter2@127.0.0.1:3306/x', '--yes'], { cwd: src.dir, env: { LASTRESORT_PASSWORD: PASSWORD } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Leave the password out of --target/);
    assert.ok(!r.stderr.includes('hunter2'));
  });

  it('a database that has tables is never overwritten from a script (exit 1, untouched)', async () => {
    const taken = await createTempDatabase('lr_rcli_taken');
    const conn = await connectServer(taken);
    await conn.query('CREATE TABLE patient (id INT PRIMARY KEY)');
    await conn.query('INSERT INTO patient VALUES (42)');
    await conn.end();
    const r = await lastresort(['recover', src.file, '--target', `${SERVER}/${taken}`, '--password-file', src.passwordFile, '--yes'], { cwd: src.dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${taken} on root@127\\.0\\.0\\.1:3306 already has 1 table and is never overwritten\\. Give another --database NAME\\.`));
    assert.deepEqual(await tableNames(taken), ['patient']);
    assert.equal(await rowCount(taken, 'patient'), 1);
  });

  it('--target sandbox:DIR restores into a private server', async () => {
    const cwd = await scratchDir('lr-cli-sbx-');
    sandboxDir = join(cwd, 'sandbox');
    await writeFile(join(cwd, 'pw.txt'), PASSWORD + '\n', { mode: 0o600 });
    const r = await lastresort(['recover', src.file, '--target', `sandbox:${sandboxDir}`, '--password-file', 'pw.txt', '--yes', '--json'], { cwd });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as RecoverReport;
    assert.equal(report.place.kind, 'sandbox');
    assert.equal(report.validation?.match, true);
    assert.match(report.sandbox?.stopCommand ?? '', /^lastresort sandbox stop /);
    // Counted in the sandbox itself, compared with the source on the test server.
    const info = JSON.parse(await readFile(join(sandboxDir, 'sandbox.json'), 'utf8')) as { socket: string };
    const sbx = await connect({ host: 'localhost', port: 0, user: 'root', password: '', database: report.place.database, socketPath: info.socket });
    try {
      for (const t of report.tables) {
        const [[row]] = (await sbx.query(`SELECT COUNT(*) AS n FROM \`${t.name}\``)) as unknown as [{ n: number | string }[]];
        assert.equal(Number(row.n), await rowCount(src.database, t.name), `${t.name}: sandbox and source differ`);
      }
    } finally {
      await sbx.end();
    }
  });
});
