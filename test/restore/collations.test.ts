/**
 * A backup of a MySQL 8 server restored onto this MariaDB 10.11, which knows
 * none of MySQL 8's 0900 collations nor its AUTOEXTEND_SIZE option. No MySQL
 * 8 is available here, so the file is made by the project's own tar and
 * encrypting writers (test/vectors/hostile/payload.ts) with the table
 * definitions SHOW CREATE TABLE gives on MySQL 8, on an InnoDB and a MyISAM
 * table, plus one naming a collation no server has. Each must be restored
 * with its rows (compared through SQL), every mapping and dropped option
 * reported, and the rows that only a NO PAD, case-sensitive collation tells
 * apart ('x' and 'x ', 'Ab' and 'ab' under unique keys) all kept.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dropTempDatabases, createTempDatabase, dsnFor, queryIn } from '../helpers/db.js';
import { passwordFile, tempDir } from '../helpers/backup.js';
import { runCli } from '../helpers/cli.js';
import { VECTOR_PASSWORD } from '../vectors/plaintext.js';
import { encrypt, payloadBytes, type Payload } from '../vectors/hostile/payload.js';
import type { RestoreReport } from '../../src/restore/report.js';
import type { ValidationReport } from '../../src/validate/validate.js';
import type { CollationsUsed } from '../../src/identify/collations.js';

let work: string;
let password: string;
let file: string;

const text = (name: string) => ({ name, dataType: 'varchar', encoding: 'text' as const });
const id = { name: 'id', dataType: 'int', encoding: 'text' as const };
const ROWS = '1\tAb\tx\tfirst\n2\tab\tx \tsecond\n3\tÅsa\ty\t\\N\n';
const mysql8Create = (name: string, engine: string) =>
  `CREATE TABLE \`${name}\` (\n  \`id\` int NOT NULL,\n  \`code\` varchar(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_as_cs NOT NULL,\n  \`tag\` varchar(20) COLLATE utf8mb4_0900_ai_ci NOT NULL,\n  \`note\` varchar(50) COLLATE utf8mb4_0900_ai_ci DEFAULT NULL,\n  PRIMARY KEY (\`id\`),\n  UNIQUE KEY \`u_code\` (\`code\`),\n  UNIQUE KEY \`u_tag_code\` (\`tag\`, \`code\`),\n  KEY \`k_note\` (\`note\`)\n) ENGINE=${engine} DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci AUTOEXTEND_SIZE=4194304`;

function mysql8Payload(): Payload {
  const columns = [id, text('code'), text('tag'), text('note')];
  return {
    charset: 'utf8mb4',
    collation: 'utf8mb4_0900_ai_ci',
    serverVersion: '8.0.39',
    tables: [
      { index: 1, name: 'patient_innodb', engine: 'InnoDB', columns, primaryKey: ['id'], rowsEstimate: 3, create: mysql8Create('patient_innodb', 'InnoDB'), rows: ROWS },
      { index: 2, name: 'patient_myisam', engine: 'MyISAM', columns, primaryKey: ['id'], rowsEstimate: 3, create: mysql8Create('patient_myisam', 'MyISAM'), rows: ROWS },
      {
        index: 3, name: 'nowhere', engine: 'MyISAM', columns: [id, text('word')], primaryKey: ['id'], rowsEstimate: 2,
        create: 'CREATE TABLE `nowhere` (\n  `id` int NOT NULL,\n  `word` varchar(20) COLLATE utf8mb4_klingon_ci NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=MyISAM DEFAULT CHARSET=utf8mb4',
        rows: '1\tQapla\n2\tqapla\n',
      },
      {
        index: 4, name: 'known', engine: 'InnoDB', columns: [id, text('word')], primaryKey: ['id'], rowsEstimate: 1,
        create: 'CREATE TABLE `known` (\n  `id` int NOT NULL,\n  `word` varchar(20) CHARACTER SET utf8mb3 COLLATE utf8mb3_uca1400_ai_ci NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci',
        rows: '1\tword\n',
      },
      {
        // A text key under a case-sensitive collation no server has (lower case first, as UCA sorts): utf8mb4_bin here puts B before b.
        index: 5, name: 'keyed', engine: 'MyISAM', columns: [text('code'), id], primaryKey: ['code'], rowsEstimate: 3,
        create: 'CREATE TABLE `keyed` (\n  `code` varchar(10) COLLATE utf8mb4_klingon_cs NOT NULL,\n  `id` int NOT NULL,\n  PRIMARY KEY (`code`)\n) ENGINE=MyISAM DEFAULT CHARSET=utf8mb4',
        rows: 'a\t1\nb\t2\nB\t3\n',
      },
    ],
    objects: [
      { kind: 'view', name: 'upper_codes', create: "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `upper_codes` AS select `patient_innodb`.`id` AS `id` from `patient_innodb` where (`patient_innodb`.`code` = _utf8mb4'Ab' COLLATE utf8mb4_0900_as_cs)", sqlMode: 'STRICT_TRANS_TABLES', characterSetClient: 'utf8mb4', collationConnection: 'utf8mb4_0900_ai_ci' },
    ],
  };
}

before(async () => {
  work = await tempDir('lr-collations-');
  password = await passwordFile(work, VECTOR_PASSWORD);
  file = join(work, 'mysql8.lrb');
  await writeFile(file, await encrypt(await payloadBytes(mysql8Payload()), 'clinic', '8.0.39'));
});

after(async () => {
  await dropTempDatabases();
});

const columnCollations = async (db: string, table: string) =>
  Object.fromEntries((await queryIn(db, 'SELECT COLUMN_NAME AS c, COLLATION_NAME AS k FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION', [db, table])).map((r) => [String(r.c), r.k === null ? null : String(r.k)]));

test('a MySQL 8 backup restores onto MariaDB 10.11: each unknown collation mapped to the nearest, AUTOEXTEND_SIZE dropped, every one reported, the rows identical', async () => {
  const target = await createTempDatabase('lr_collations', { create: false });
  const reportFile = join(work, 'report.json');
  const r = await runCli(['restore', file, '--target', dsnFor(target), '--password-file', password, '--report', reportFile]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(await readFile(reportFile, 'utf8')) as RestoreReport;
  assert.equal(report.outcome, 'complete', JSON.stringify(report.tables));

  const mapped = Object.fromEntries(report.collationsMapped.map((m) => [m.from, m]));
  assert.equal(mapped.utf8mb4_0900_ai_ci?.to, 'utf8mb4_uca1400_nopad_ai_ci', 'MySQL 8 0900_ai_ci is NO PAD: MariaDB\'s own alias for it');
  assert.equal(mapped.utf8mb4_0900_as_cs?.to, 'utf8mb4_uca1400_nopad_as_cs');
  assert.equal(mapped.utf8mb4_klingon_ci?.to, 'utf8mb4_general_ci', 'a collation no server has: the charset\'s default');
  assert.deepEqual([...mapped.utf8mb4_0900_ai_ci.in].sort(), ['database', 'table patient_innodb', 'table patient_myisam', 'view upper_codes']);
  assert.deepEqual([...mapped.utf8mb4_0900_as_cs.in].sort(), ['table patient_innodb', 'table patient_myisam', 'view upper_codes']);
  assert.equal(report.collationsMapped.some((m) => /uca1400/.test(m.from)), false, 'a collation this server knows is left as it is');
  assert.deepEqual(report.optionsDropped?.map((d) => `${d.in}: ${d.option}`).sort(), ['table patient_innodb: AUTOEXTEND_SIZE=4194304', 'table patient_myisam: AUTOEXTEND_SIZE=4194304']);
  for (const from of ['utf8mb4_0900_ai_ci', 'utf8mb4_0900_as_cs', 'utf8mb4_klingon_ci']) assert.ok(report.serverNotes?.some((l) => l.includes(from)), `a line names ${from}`);
  assert.ok(report.serverNotes?.some((l) => l.includes('AUTOEXTEND_SIZE')));

  for (const [table, engine] of [['patient_innodb', 'InnoDB'], ['patient_myisam', 'MyISAM']]) {
    const rows = await queryIn(target, `SELECT id, code, tag, note FROM \`${table}\` ORDER BY id`);
    assert.deepEqual(rows.map((x) => [x.id, x.code, x.tag, x.note]), [[1, 'Ab', 'x', 'first'], [2, 'ab', 'x ', 'second'], [3, 'Åsa', 'y', null]], `${table}'s rows`);
    assert.deepEqual(await columnCollations(target, table), { id: null, code: 'utf8mb4_uca1400_nopad_as_cs', tag: 'utf8mb4_uca1400_nopad_ai_ci', note: 'utf8mb4_uca1400_nopad_ai_ci' });
    const [t] = await queryIn(target, 'SELECT ENGINE AS e, TABLE_COLLATION AS c FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [target, table]);
    assert.deepEqual([t.e, t.c], [engine, 'utf8mb4_uca1400_nopad_ai_ci'], `${table} keeps its engine`);
    const keys = await queryIn(target, 'SELECT DISTINCT INDEX_NAME AS k, NON_UNIQUE AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME', [target, table]);
    assert.deepEqual(keys.map((k) => `${k.k}:${k.n}`), ['k_note:1', 'PRIMARY:0', 'u_code:0', 'u_tag_code:0'], `${table}'s indexes`);
  }
  assert.deepEqual((await queryIn(target, 'SELECT id, word FROM nowhere ORDER BY id')).map((x) => [x.id, x.word]), [[1, 'Qapla'], [2, 'qapla']]);
  assert.deepEqual(await columnCollations(target, 'known'), { id: null, word: 'utf8mb3_uca1400_ai_ci' });
  const [db] = await queryIn(target, 'SELECT DEFAULT_COLLATION_NAME AS c FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [target]);
  assert.equal(db.c, 'utf8mb4_uca1400_nopad_ai_ci');
  assert.deepEqual((await queryIn(target, 'SELECT id FROM upper_codes')).map((x) => x.id), [1], 'the view compares as case-sensitively as it did');

  assert.deepEqual((await queryIn(target, 'SELECT code FROM keyed ORDER BY code')).map((x) => x.code), ['B', 'a', 'b'], 'the key sorts the target\'s way');

  const v = await runCli(['validate', file, '--target', dsnFor(target), '--password-file', password, '--json']);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  const validation = JSON.parse(v.stdout) as ValidationReport;
  assert.equal(validation.match, true, validation.differences.join('\n'));
  assert.deepEqual(validation.collationsMapped.map((m) => `${m.from} ${m.to}`).sort(), report.collationsMapped.map((m) => `${m.from} ${m.to}`).sort(), 'validate names the same mappings');
  const keyed = validation.tables.find((t) => t.name === 'keyed');
  assert.equal(keyed?.status, 'match');
  assert.match(keyed?.detail ?? '', /regardless of order/);
  const human = await runCli(['validate', file, '--target', dsnFor(target), '--password-file', password]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /does not know the collation utf8mb4_0900_ai_ci: utf8mb4_uca1400_nopad_ai_ci is used instead/);
  assert.match(human.stdout, /every row is identical/);
});

test('identify gives the source server\'s version without a password, and with it the collations the tables use and which servers know them', async () => {
  const bare = await runCli(['identify', file]);
  assert.equal(bare.code, 0, bare.stderr);
  assert.match(bare.stdout, /from server 8\.0\.39\./);
  assert.match(bare.stdout, /in the encrypted part: add --password-file/);
  const bareJson = JSON.parse((await runCli(['identify', file, '--json'])).stdout) as { serverVersion: string; collations?: unknown };
  assert.equal(bareJson.serverVersion, '8.0.39');
  assert.equal(bareJson.collations, undefined, 'nothing from the encrypted part without the password');

  const r = await runCli(['identify', file, '--password-file', password, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const used = (JSON.parse(r.stdout) as { collations: CollationsUsed }).collations;
  assert.equal(used.serverVersion, '8.0.39');
  assert.equal(used.databaseCollation, 'utf8mb4_0900_ai_ci');
  assert.deepEqual(used.collations.map((c) => `${c.name} ${c.tables} ${c.knownBy}`), [
    'utf8mb4_0900_ai_ci 2 MySQL 8, or MariaDB 11.4.5 or later',
    'utf8mb4_0900_as_cs 2 MySQL 8, or MariaDB 11.4.5 or later',
    'utf8mb3_uca1400_ai_ci 1 MariaDB 10.10 or later',
    'utf8mb4_general_ci 1 null',
    'utf8mb4_klingon_ci 1 null',
    'utf8mb4_klingon_cs 1 null',
  ]);
  assert.deepEqual(used.charsets, ['utf8mb3', 'utf8mb4']);
  const human = await runCli(['identify', file, '--password-file', password]);
  assert.match(human.stdout, /Collations its tables use: utf8mb4_0900_ai_ci \(2 tables; known by MySQL 8, or MariaDB 11\.4\.5 or later\)/);
  assert.match(human.stdout, /mapped to the nearest it has/);
});
