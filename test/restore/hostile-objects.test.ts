/**
 * Hostile objects (test/vectors/objects/, made by make-objects.ts): each
 * file is restored with root as the given account. After each, the report
 * names every refused object with the reason (exit 3), the other objects are
 * there, and nothing outside the target changed: the server settings an
 * object could reach (max_connections, the general log and its file, the
 * event scheduler), a canary database, accounts, roles and servers. Then
 * every object that was created is used as an ordinary user would use it
 * (the view read, the procedures called, the trigger fired) and the same
 * holds.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectServer, createTempDatabase, dropDatabase, dropTempDatabases, dsnFor } from '../helpers/db.js';
import { passwordFile, tempDir } from '../helpers/backup.js';
import { runCli } from '../helpers/cli.js';
import { VECTOR_PASSWORD } from '../vectors/plaintext.js';
import { OBJECTS_ACCOUNT, OBJECTS_CANARY, OBJECTS_LOG, type ObjectVectorSpec } from '../vectors/objects/spec.js';
import { outsideState, useObjectsAsOrdinaryUser } from '../helpers/outside.js';
import type { RestoreReport } from '../../src/restore/report.js';

const DIR = fileURLToPath(new URL('../vectors/objects/', import.meta.url));
const specs = JSON.parse(readFileSync(join(DIR, 'objects.json'), 'utf8')) as ObjectVectorSpec[];
let work: string;
let password: string;

async function sql(query: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const conn = await connectServer();
  try {
    const [rows] = await conn.query(query, values);
    return rows as Record<string, unknown>[];
  } finally {
    await conn.end();
  }
}

before(async () => {
  work = await tempDir('lr-objects-');
  password = await passwordFile(work, VECTOR_PASSWORD);
  await sql(`DROP DATABASE IF EXISTS ${OBJECTS_CANARY}`);
  await sql(`CREATE DATABASE ${OBJECTS_CANARY}`);
  await sql(`CREATE TABLE ${OBJECTS_CANARY}.t (a INT PRIMARY KEY) ENGINE=MyISAM`);
  await sql(`INSERT INTO ${OBJECTS_CANARY}.t VALUES (1), (2)`);
});

after(async () => {
  await sql(`DROP DATABASE IF EXISTS ${OBJECTS_CANARY}`);
  await dropTempDatabases();
});

const EXPECTED_OBJECTS = ['balance_of', 'patient_balance', 'ledger_bi', 'rotate_logs', 'monthly_cleanup', 'nightly'];

for (const spec of specs) {
  test(`hostile objects ${spec.file}: ${spec.note}`, async () => {
    const before = await outsideState(OBJECTS_CANARY, [OBJECTS_ACCOUNT]);
    const target = await createTempDatabase('lr_hobj', { create: false });
    const report = join(work, `${spec.file}.json`);
    const r = await runCli(['restore', join(DIR, spec.file), '--target', dsnFor(target), '--password-file', password, '--report', report]);
    assert.equal(r.code, spec.refused.length ? 3 : 0, `exit code (stderr: ${r.stderr})`);
    const parsed = JSON.parse(await readFile(report, 'utf8')) as RestoreReport;
    for (const name of spec.refused) {
      const error = parsed.objectErrors.find((o) => o.name === name)?.error ?? '';
      assert.match(error, /^not created: /, `${name} is named as refused`);
      assert.match(r.stdout + r.stderr, new RegExp(`${name}: not restored`), `${name} is named on the screen`);
    }
    const missing = [...spec.refused, ...(spec.dependents ?? [])];
    assert.deepEqual(parsed.objectErrors.map((o) => o.name).sort(), missing.sort(), JSON.stringify(parsed.objectErrors));
    for (const t of parsed.tables) {
      const [{ n }] = await sql(`SELECT COUNT(*) AS n FROM \`${target}\`.\`${t.name}\``);
      assert.equal(Number(n), 2, `${t.name} holds its rows`);
    }
    const present = await sql(
      `SELECT ROUTINE_NAME AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? UNION ALL SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?
       UNION ALL SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? UNION ALL SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`,
      [target, target, target, target],
    );
    assert.deepEqual(present.map((p) => p.n).sort(), EXPECTED_OBJECTS.filter((n) => !missing.includes(n)).sort(), 'every other object is there');
    assert.deepEqual(await outsideState(OBJECTS_CANARY, [OBJECTS_ACCOUNT]), before, 'nothing outside the target changed by the restore');

    assert.deepEqual(await useObjectsAsOrdinaryUser(target, present.map((p) => String(p.n))), [], 'every object works for an ordinary user');
    assert.deepEqual(await outsideState(OBJECTS_CANARY, [OBJECTS_ACCOUNT]), before, 'nothing outside the target changed by using the objects');
    assert.ok(!existsSync(OBJECTS_LOG), 'no log file was started');
    await dropDatabase(target);
  });
}
