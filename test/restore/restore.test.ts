/**
 * Restore faithfulness against the real server: every restored table is
 * compared with its source through SQL (test/helpers/compare.ts), never with
 * the code's own expectations.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { parseDsn } from '../../src/db/dsn.js';
import { openBackup } from '../../src/decrypt/open.js';
import { restoreBackup, type ParsedBackup } from '../../src/restore/restore.js';
import { describeBackup, validateAgainst, validateRestore, type ValidationReport } from '../../src/validate/validate.js';
import { isLrError } from '../../src/errors.js';
import { quoteId } from '../../src/db/connect.js';
import { ODD_TABLE } from '../../fixtures/exotic.js';
import { PASSWORD, backupOf, makeSource, passwordFile, tempDir } from '../helpers/backup.js';
import { compareDatabases, connectServer, createTempDatabase, describeDifferences, dropTempDatabases, dsnFor } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';

let od: string;
let odFile: string;
let exotic: string;
let exoticFile: string;
let dir: string;
let pwFile: string;

before(async () => {
  dir = await tempDir();
  pwFile = await passwordFile(dir);
  od = await makeSource({ patients: 300 });
  odFile = (await backupOf(od, dir, { pieceBytes: 256 * 1024 })).file;
  exotic = await makeSource({ kind: 'exotic' });
  exoticFile = (await backupOf(exotic, dir)).file;
});
after(dropTempDatabases);

async function restoreInto(file: string, opts: Partial<Parameters<typeof restoreBackup>[0]> = {}, target?: string) {
  const name = target ?? (await createTempDatabase('lr_dst', { create: false }));
  const report = await restoreBackup({ opened: await openBackup(file, PASSWORD), dsn: parseDsn(dsnFor(name)), ...opts });
  return { name, report };
}

async function count(db: string, table: string): Promise<number> {
  const c = await connectServer(db);
  const [[r]] = (await c.query(`SELECT COUNT(*) AS n FROM ${quoteId(table)}`)) as unknown as [{ n: number }[]];
  await c.end();
  return Number(r.n);
}

test('an Open Dental-shaped database comes back identical, and the report counts come from the server', async () => {
  const { name, report } = await restoreInto(odFile);
  assert.deepEqual(await compareDatabases(od, name), [], 'restored == source');
  assert.equal(report.outcome, 'complete');
  assert.equal(report.damage.damagedChunks, 0);
  for (const t of report.tables) {
    assert.equal(t.status, 'restored', t.name);
    const n = await count(od, t.name);
    assert.equal(t.rowsExpected, n, `${t.name} expected`);
    assert.equal(t.rowsRestored, n, `${t.name} restored`);
    assert.equal(t.rowsLost, 0);
  }
  const c = await connectServer(name);
  const [progress] = (await c.query("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '_lastresort_restore'")) as unknown as [unknown[]];
  await c.end();
  assert.equal(progress.length, 0, 'the progress record is gone once complete');
});

test('the exotic database (views, triggers, routines, event, FKs, spatial, FULLTEXT, BIT, JSON, no PK, id 0, odd names) comes back identical', async () => {
  const { name, report } = await restoreInto(exoticFile);
  const diffs = await compareDatabases(exotic, name);
  assert.deepEqual(diffs, [], describeDifferences(diffs));
  assert.equal(report.outcome, 'complete');
  for (const [kind, o] of Object.entries(report.objects)) assert.equal(o.restored, o.expected, kind);
  assert.ok(report.objects.views.expected >= 2 && report.objects.triggers.expected >= 2 && report.objects.routines.expected >= 2 && report.objects.events.expected >= 1);
  assert.ok(report.tables.some((t) => t.name === ODD_TABLE && t.status === 'restored'));
});

test('validate proves a match, and finds a single changed byte', async () => {
  const { name } = await restoreInto(odFile);
  const opened = await openBackup(odFile, PASSWORD);
  const ok = await validateRestore(opened, parseDsn(dsnFor(name)));
  assert.equal(ok.match, true, ok.differences.join('\n'));
  const c = await connectServer(name);
  await c.query("UPDATE patient SET LName = CONCAT(LName, 'x') ORDER BY PatNum LIMIT 1");
  await c.query('DELETE FROM appointment ORDER BY AptNum DESC LIMIT 1');
  await c.end();
  const bad = await runCli(['validate', odFile, '--target', dsnFor(name), '--password-file', pwFile, '--json']);
  assert.equal(bad.code, 3);
  const r = JSON.parse(bad.stdout);
  assert.equal(r.match, false);
  assert.equal(r.tables.find((t: { name: string }) => t.name === 'patient').status, 'differs');
  assert.equal(r.tables.find((t: { name: string }) => t.name === 'appointment').rowsFound, r.tables.find((t: { name: string }) => t.name === 'appointment').rowsExpected - 1);
});

test('what the restore parsed (in order and in lanes) is what a read of the file gives, and validates alike, a change included', async () => {
  const timeless = ({ durationMs: _d, ...rest }: ValidationReport) => rest;
  for (const [file, lanes] of [[exoticFile, 1], [exoticFile, 2], [odFile, 2]] as const) {
    const handed: ParsedBackup[] = [];
    const { name } = await restoreInto(file, { lanes, onParsed: (p) => handed.push(p) });
    assert.equal(handed.length, 1, 'the restore hands on what it parsed, once');
    const parsed = handed[0];
    const fromFile = await describeBackup(await openBackup(file, PASSWORD));
    const { damage, ...read } = fromFile;
    assert.deepEqual({ ...parsed, damage: undefined }, { ...read, damage: undefined }, `${file} lanes ${lanes}: catalog, summaries, objects, manifest`);
    assert.deepEqual(parsed.damage, { damagedChunks: damage.damagedChunks, truncated: damage.truncated });
    assert.ok(parsed.summaries.length > 0 && parsed.catalog !== null);

    const dsn = parseDsn(dsnFor(name));
    const c = await connectServer(name);
    const [first] = parsed.catalog!.tables.filter((t) => (parsed.summaries.find((x) => x.name === t.name)?.rows ?? 0) > 0);
    await c.query(`DELETE FROM ${quoteId(first.name)} LIMIT 1`);
    await c.end();
    const given = await validateAgainst(parsed, dsn);
    assert.equal(given.match, false);
    assert.deepEqual(timeless(given), timeless(await validateRestore(await openBackup(file, PASSWORD), dsn)));
  }
});

test('restoring twice into two databases gives two identical copies', async () => {
  const a = await restoreInto(odFile);
  const b = await restoreInto(odFile);
  assert.deepEqual(await compareDatabases(a.name, b.name), []);
  assert.deepEqual(await compareDatabases(od, b.name), []);
});

test('a non-empty target is refused without --force; the source database itself is refused with advice; --force writes', async () => {
  const target = await createTempDatabase('lr_nonempty');
  const c = await connectServer(target);
  await c.query('CREATE TABLE keepme (id int primary key)');
  await c.query('INSERT INTO keepme VALUES (1)');
  await c.end();
  await assert.rejects(restoreInto(odFile, {}, target), (e) => isLrError(e, 'LR_TARGET_NOT_EMPTY'));
  assert.equal(await count(target, 'keepme'), 1, 'untouched');
  const live = await runCli(['restore', odFile, '--target', dsnFor(od), '--password-file', pwFile]);
  assert.equal(live.code, 1);
  assert.match(live.stderr, /live database.*Restore beside it/);
  const { report } = await restoreInto(odFile, { force: true }, target);
  assert.equal(report.outcome, 'complete');
  assert.deepEqual(await compareDatabases(od, target, { tables: report.tables.map((t) => t.name) }), []);
  assert.equal(await count(target, 'keepme'), 1, '--force leaves unrelated tables alone');
});

test('--tables restores only those; the rest are reported skipped', async () => {
  const { name, report } = await restoreInto(odFile, { tables: ['patient', 'appointment'] });
  assert.deepEqual(await compareDatabases(od, name, { tables: ['patient', 'appointment'] }), []);
  for (const t of report.tables) assert.equal(t.status, ['patient', 'appointment'].includes(t.name) ? 'restored' : 'skipped', t.name);
  const c = await connectServer(name);
  const [tables] = (await c.query('SHOW TABLES')) as unknown as [unknown[]];
  await c.end();
  assert.equal(tables.length, 2);
});

test('a wrong password leaves no database behind', async () => {
  const target = await createTempDatabase('lr_wrongpw', { create: false });
  const wrong = join(dir, 'wrong.txt');
  await writeFile(wrong, 'wrong\n');
  const r = await runCli(['restore', odFile, '--target', dsnFor(target), '--password-file', wrong]);
  assert.equal(r.code, 4);
  const c = await connectServer();
  const [dbs] = (await c.query('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [target])) as unknown as [unknown[]];
  await c.end();
  assert.equal(dbs.length, 0);
});

test('a restore killed half-way is refused without --resume, and --resume ends with the same data', async () => {
  const target = await createTempDatabase('lr_resume', { create: false });
  const args = ['restore', odFile, '--target', dsnFor(target), '--password-file', pwFile, '--json'];
  const { spawn } = await import('node:child_process');
  const { CLI } = await import('../helpers/cli.js');
  const child = spawn(process.execPath, [CLI, ...args], { stdio: 'ignore' });
  // Kill it hard once a few pieces are committed.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const c = await connectServer();
    const [rows] = (await c.query(`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = '_lastresort_restore'`, [target])) as unknown as [{ n: number }[]];
    let pieces = 0;
    if (Number(rows[0].n) > 0) {
      const [p] = (await c.query(`SELECT COUNT(*) AS n FROM ${quoteId(target)}._lastresort_restore WHERE item LIKE 't:%:p:%'`)) as unknown as [{ n: number }[]];
      pieces = Number(p[0].n);
    }
    await c.end();
    if (pieces >= 3 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.once('close', r));
  const again = await runCli(args.slice(0, -1));
  assert.equal(again.code, 1);
  assert.match(again.stderr, /--resume/);
  const resumed = await runCli([...args, '--resume']);
  assert.equal(resumed.code, 0, resumed.stdout.slice(0, 3000));
  assert.equal(JSON.parse(resumed.stdout).outcome, 'complete');
  assert.deepEqual(await compareDatabases(od, target), []);
});

test('a connection dropped during a table is retried and the result is the same', async () => {
  const target = await createTempDatabase('lr_drop', { create: false });
  const opened = await openBackup(odFile, PASSWORD);
  let killed = false;
  const report = await restoreBackup({
    opened,
    dsn: parseDsn(dsnFor(target)),
    onProgress: (p) => {
      if (killed || p.rows < 2000) return;
      killed = true;
      void (async () => {
        const c = await connectServer();
        const [procs] = (await c.query("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()", [target])) as unknown as [{ ID: number }[]];
        for (const p of procs) await c.query(`KILL CONNECTION ${Number(p.ID)}`).catch(() => {});
        await c.end();
      })();
    },
  });
  assert.ok(killed, 'the connections were killed mid-restore');
  assert.equal(report.outcome, 'complete');
  assert.deepEqual(await compareDatabases(od, target), []);
});
