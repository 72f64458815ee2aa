/**
 * Text from a backup (header fields and payload names) never reaches the
 * terminal raw: every crafted vector below is run through the CLI as a child
 * process on its error paths, and no C0 control (but the newline ending each
 * line), DEL or C1 control may appear on stdout, stderr or in a report file.
 * The vectors are made here, with the project's own writer; each has a note.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pino } from 'pino';
import { quoteId } from '../../src/db/connect.js';
import { inert } from '../../src/log.js';
import { PASSWORD, backupOf, makeSource, passwordFile, tempDir } from '../helpers/backup.js';
import { connectServer, createTempDatabase, dropTempDatabases, dsnFor, serverDsn } from '../helpers/db.js';
import { craftBackup, rewriteHeader, saveVector, type CraftedVector } from '../helpers/craft.js';
import { runCli, type CliResult } from '../helpers/cli.js';

/** Clear the screen, retitle the window, ring the bell, a C1 CSI, a right-to-left override. */
const HOSTILE = '\x1b[2J\x1b]0;pwned\x07\u009b31m\u202e';
/** In a table name: the same, short enough for MariaDB's 64-character identifiers. */
const TABLE = `pat${HOSTILE}ients`;

let dir: string;
let pwFile: string;
let wrongPwFile: string;
const vectors: Record<'text' | 'version' | 'algorithm', CraftedVector> = {} as never;

before(async () => {
  dir = await tempDir();
  pwFile = await passwordFile(dir);
  wrongPwFile = join(dir, 'wrong.txt');
  await writeFile(wrongPwFile, 'not the password\n');
  const good = await craftBackup({ password: PASSWORD, database: `od${HOSTILE}`, serverVersion: `10.11${HOSTILE}`, admin: { userNum: 1, userName: `adm${HOSTILE}`, lastLoginAt: `2026-01-01${HOSTILE}` }, moment: { oneMoment: false, notOneMoment: `in the way: connection 7 of od${HOSTILE}@host`, writesHeldMs: 5000, tablesHeld: 3 } });
  vectors.text = await saveVector(join(dir, 'hostile-text.lrb'), good, 'written by the real writer with ESC/OSC/BEL/C1 CSI/RLO in database, serverVersion, admin name, last login and the not-one-moment reason (MAC valid)');
  const plain = await craftBackup({ password: PASSWORD });
  vectors.version = await saveVector(join(dir, 'hostile-version.lrb'), rewriteHeader(plain, (h) => (h.formatVersion = `${HOSTILE}2`)), 'a good file whose header copies say formatVersion "<escapes>2" (checksums recomputed)');
  vectors.algorithm = await saveVector(join(dir, 'hostile-algorithm.lrb'), rewriteHeader(plain, (h) => (((h.recipients as Record<string, unknown>[])[0].kdf as Record<string, unknown>).algorithm = `argon2${HOSTILE}`)), 'a good file whose header copies name the KDF "argon2<escapes>" (checksums recomputed)');
});
after(dropTempDatabases);

/** Every code point printed is either visible, or the newline that ends a line. */
function assertInert(where: string, text: string): void {
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const control = (c < 0x20 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
    assert.ok(!control, `${where}: raw U+${c.toString(16).padStart(4, '0')} in ${JSON.stringify(text.slice(0, 400))}`);
  }
}

function assertClean(label: string, r: CliResult, vector?: CraftedVector): void {
  const what = `${label}${vector ? ` on ${vector.note}` : ''}`;
  assertInert(`${what} (stdout)`, r.stdout);
  assertInert(`${what} (stderr)`, r.stderr);
}

test('header fields with escapes: identify, check, decrypt, restore, validate and recover print them inert', async () => {
  const v = vectors.text;
  const env = { LASTRESORT_PASSWORD: PASSWORD };
  const runs: [string, string[], Record<string, string>?][] = [
    ['identify', ['identify', v.file]],
    ['identify --json', ['identify', v.file, '--json']],
    ['check', ['check', v.file]],
    ['decrypt, wrong password', ['decrypt', v.file, '--out', join(dir, 'out.tar'), '--password-file', wrongPwFile]],
    ['restore, wrong password', ['restore', v.file, '--target', dsnFor('never_made'), '--password-file', wrongPwFile]],
    ['restore, no database named', ['restore', v.file, '--target', serverDsn()], env],
    ['validate, wrong password', ['validate', v.file, '--target', dsnFor('never_made'), '--password-file', wrongPwFile]],
    ['recover --yes, wrong password', ['recover', v.file, '--target', serverDsn(), '--yes', '--password-file', wrongPwFile]],
  ];
  for (const [label, args, extra] of runs) {
    const r = await runCli(args, { env: extra, cwd: dir });
    assertClean(label, r, v);
    if (label !== 'check') assert.match(r.stdout + r.stderr, /\\u001b/, `${label}: the hostile text was printed, made visible`);
  }
  const wrong = await runCli(['decrypt', v.file, '--out', join(dir, 'out2.tar'), '--password-file', wrongPwFile]);
  assert.equal(wrong.code, 4);
  assert.match(wrong.stderr, /password admin adm\\u001b\[2J\\u001b\]0;pwned\\u0007\\u009b31m\\u202e had/, 'the wrong-password line names the admin, neutralised');
  const noDb = await runCli(['restore', v.file, '--target', serverDsn()], { env });
  assert.equal(noDb.code, 2, noDb.stderr);
});

test('a hostile formatVersion or KDF algorithm in the header is named inert in the refusal', async () => {
  for (const [v, code, pattern] of [[vectors.version, 5, /format version \\u001b\[2J/], [vectors.algorithm, 5, /algorithm argon2\\u001b\[2J/]] as const) {
    for (const args of [['identify', v.file], ['check', v.file], ['decrypt', v.file, '--out', join(dir, 'x.tar'), '--password-file', pwFile], ['restore', v.file, '--target', dsnFor('never_made'), '--password-file', pwFile]]) {
      const r = await runCli(args, { cwd: dir });
      assertClean(args[0]!, r, v);
      assert.equal(r.code, code, `${args[0]} on ${v.note}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
    }
  }
});

test('a table name with escapes, from the payload: restore failures, the Markdown report and validate differences stay inert', async () => {
  const source = await makeSource({ patients: 5, prefix: 'lr_esc_src' });
  const conn = await connectServer(source);
  try {
    await conn.query(`CREATE TABLE ${quoteId(TABLE)} (id INT PRIMARY KEY, note VARCHAR(40))`);
    await conn.query(`INSERT INTO ${quoteId(TABLE)} VALUES (1, 'one'), (2, 'two')`);
  } finally {
    await conn.end();
  }
  const file = (await backupOf(source, dir)).file;
  const vector = { file, note: `a real backup (the producer's) of a database holding a table named ${JSON.stringify(TABLE)}` };

  // A view with the table's name already in the target: that table cannot be restored, the rest can.
  const target = await createTempDatabase('lr_esc_tgt');
  const admin = await connectServer(target);
  try {
    await admin.query(`CREATE VIEW ${quoteId(TABLE)} AS SELECT 1 AS x`);
  } finally {
    await admin.end();
  }
  const report = join(dir, 'report.json');
  const logFile = join(dir, 'restore.log');
  const restored = await runCli(['--verbose', '--log-file', logFile, 'restore', file, '--target', dsnFor(target), '--force', '--password-file', pwFile, '--report', report], { cwd: dir });
  assertClean('restore into a target where the table cannot be made', restored, vector);
  assert.equal(restored.code, 3, restored.stderr);
  assert.match(restored.stdout, /pat\\u001b\[2J/, 'the failed table is named, made visible');
  assertInert('report .md', await readFile(join(dir, 'report.md'), 'utf8'));
  assertInert('--log-file', await readFile(logFile, 'utf8'));
  assertInert('report .json', await readFile(report, 'utf8'));
  const json = await runCli(['restore', file, '--target', dsnFor(target), '--force', '--password-file', pwFile, '--json'], { cwd: dir });
  assertClean('restore --json', json, vector);
  assert.ok(JSON.parse(json.stdout).tables.some((t: { name: string }) => t.name === TABLE), 'JSON keeps the exact name');

  // Validate a good restore whose hostile table was then changed.
  const second = await createTempDatabase('lr_esc_ok', { create: false });
  const ok = await runCli(['restore', file, '--target', dsnFor(second), '--password-file', pwFile], { cwd: dir });
  assert.equal(ok.code, 0, ok.stderr);
  const c2 = await connectServer(second);
  try {
    await c2.query(`UPDATE ${quoteId(TABLE)} SET note = 'changed' WHERE id = 2`);
  } finally {
    await c2.end();
  }
  const validate = await runCli(['validate', file, '--target', dsnFor(second), '--password-file', pwFile], { cwd: dir });
  assertClean('validate with a difference in the hostile table', validate, vector);
  assert.equal(validate.code, 3, validate.stderr);
  assert.match(validate.stdout, /pat\\u001b\[2J/);
  const verbose = await runCli(['--verbose', 'validate', file, '--target', dsnFor(second), '--password-file', pwFile], { cwd: dir });
  assertClean('validate --verbose (log lines on stderr)', verbose, vector);
});

test('log lines (pino JSON) carry a hostile name escaped, and parse back to the exact name', () => {
  const lines: string[] = [];
  const logger = pino({ base: null, timestamp: false }, inert({ write: (line: string) => lines.push(line) }));
  logger.info({ table: TABLE }, `table ${TABLE} failed`);
  assert.equal(lines.length, 1);
  assertInert('log line', lines[0]!.replace(/\n$/, ''));
  const parsed = JSON.parse(lines[0]!) as { table: string; msg: string };
  assert.equal(parsed.table, TABLE, 'the same JSON value');
  assert.equal(parsed.msg, `table ${TABLE} failed`);
});
