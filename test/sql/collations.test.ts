/**
 * The mapping table (src/sql/collations.ts) against the lists of servers
 * that are not on this machine (MariaDB 10.5, MySQL 8.0.30 and later, each
 * with the names its information_schema.COLLATIONS and CHARACTER_SETS give,
 * cut to the families that matter), and against this server's own list.
 * The restore on the real server is test/restore/collations.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adaptStatement, namesIn, nearestCharset, nearestCollation, type TargetNames } from '../../src/sql/collations.js';
import { readTargetNames } from '../../src/restore/server-names.js';
import { connectServer } from '../helpers/db.js';

const names = (family: TargetNames['family'], charsets: Record<string, string>, collations: string[]): TargetNames => ({
  family,
  charsets: new Set(Object.keys(charsets)),
  defaults: new Map(Object.entries(charsets)),
  collations: new Set([...collations, ...Object.values(charsets)]),
});
const each = (cs: string, rests: string[]) => rests.map((r) => `${cs}_${r}`);
const OLD_UCA = ['general_ci', 'bin', 'unicode_ci', 'unicode_520_ci', 'swedish_ci', 'german2_ci', 'general_nopad_ci', 'nopad_bin', 'unicode_nopad_ci', 'unicode_520_nopad_ci'];

const MARIADB_105 = names('mariadb', { utf8: 'utf8_general_ci', utf8mb4: 'utf8mb4_general_ci', latin1: 'latin1_swedish_ci' }, [...each('utf8', OLD_UCA), ...each('utf8mb4', OLD_UCA), 'latin1_bin']);
const MYSQL_8 = names('mysql', { utf8mb3: 'utf8mb3_general_ci', utf8mb4: 'utf8mb4_0900_ai_ci', latin1: 'latin1_swedish_ci' }, [
  ...each('utf8mb3', ['general_ci', 'bin', 'unicode_ci', 'unicode_520_ci', 'swedish_ci']),
  ...each('utf8mb4', ['general_ci', 'bin', 'unicode_ci', 'unicode_520_ci', 'swedish_ci', '0900_ai_ci', '0900_as_ci', '0900_as_cs', '0900_bin', 'sv_0900_ai_ci']),
]);

test('onto MariaDB 10.5: MariaDB 11\'s UCA 14 and utf8mb3 names, and MySQL 8\'s 0900 ones, get the nearest it has', () => {
  const cases: [string, string | null][] = [
    ['utf8mb3_uca1400_ai_ci', 'utf8_unicode_520_ci'],
    ['utf8mb3_general_ci', 'utf8_general_ci'],
    ['utf8mb4_uca1400_ai_ci', 'utf8mb4_unicode_520_ci'],
    ['utf8mb4_uca1400_nopad_ai_ci', 'utf8mb4_unicode_520_nopad_ci'],
    ['utf8mb4_uca1400_swedish_ai_ci', 'utf8mb4_swedish_ci'],
    ['utf8mb4_uca1400_as_cs', 'utf8mb4_bin'],
    ['utf8mb4_uca1400_nopad_as_ci', 'utf8mb4_nopad_bin'],
    ['utf8mb4_0900_ai_ci', 'utf8mb4_unicode_520_nopad_ci'],
    ['utf8mb4_0900_as_cs', 'utf8mb4_nopad_bin'],
    ['utf8mb4_0900_bin', 'utf8mb4_nopad_bin'],
    ['utf8mb4_sv_0900_ai_ci', 'utf8mb4_swedish_ci'],
    ['utf8mb4_de_pb_0900_ai_ci', 'utf8mb4_german2_ci'],
    ['UTF8MB4_GENERAL_CI', null],
    ['latin1_swedish_ci', null],
    ['utf8mb4_klingon_ci', 'utf8mb4_general_ci'],
    ['utf8mb4_klingon_cs', 'utf8mb4_bin'],
    ['gb18030_chinese_ci', 'utf8mb4_general_ci'],
  ];
  assert.deepEqual(cases.map(([from]) => [from, nearestCollation(from, MARIADB_105)]), cases);
  assert.equal(nearestCharset('utf8mb3', MARIADB_105), 'utf8');
  assert.equal(nearestCharset('gb18030', MARIADB_105), 'utf8mb4', 'the rows travel as utf8mb4: every character fits');
  assert.equal(nearestCharset('latin1', MARIADB_105), null);
});

test('onto MySQL 8: MariaDB\'s names get MySQL\'s', () => {
  const cases: [string, string | null][] = [
    ['utf8mb3_uca1400_ai_ci', 'utf8mb3_unicode_520_ci'],
    ['utf8mb4_uca1400_ai_ci', 'utf8mb4_unicode_520_ci'],
    ['utf8mb4_uca1400_nopad_ai_ci', 'utf8mb4_0900_ai_ci'],
    ['utf8mb4_uca1400_as_cs', 'utf8mb4_0900_as_cs'],
    ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin'],
    ['utf8mb4_general_nopad_ci', 'utf8mb4_0900_ai_ci'],
    ['utf8_general_ci', 'utf8mb3_general_ci'],
    ['utf8mb4_0900_ai_ci', null],
  ];
  assert.deepEqual(cases.map(([from]) => [from, nearestCollation(from, MYSQL_8)]), cases);
  assert.equal(nearestCharset('utf8', MYSQL_8), 'utf8mb3');
});

test('a CREATE TABLE is rewritten in its names and foreign options only, each named', () => {
  const sql = "CREATE TABLE `t` (\n  `a` varchar(9) CHARACTER SET utf8mb3 COLLATE utf8mb3_uca1400_ai_ci DEFAULT _utf8mb3'x',\n  `b` text COLLATE 'utf8mb4_0900_ai_ci',\n  `c` int GENERATED ALWAYS AS (CHARSET(`a`) = 'utf8mb3_uca1400_ai_ci') VIRTUAL,\n  `COLLATE` int\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_uca1400_ai_ci PAGE_COMPRESSED=1, ENCRYPTED=YES";
  const onto105 = adaptStatement(sql, MARIADB_105);
  assert.equal(onto105.sql, "CREATE TABLE `t` (\n  `a` varchar(9) CHARACTER SET `utf8` COLLATE `utf8_unicode_520_ci` DEFAULT _utf8'x',\n  `b` text COLLATE `utf8mb4_unicode_520_nopad_ci`,\n  `c` int GENERATED ALWAYS AS (CHARSET(`a`) = 'utf8mb3_uca1400_ai_ci') VIRTUAL,\n  `COLLATE` int\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=`utf8mb4_unicode_520_ci` PAGE_COMPRESSED=1, ENCRYPTED=YES");
  assert.deepEqual(onto105.dropped, [], 'MariaDB keeps its own options');
  assert.deepEqual(onto105.mapped.map((m) => `${m.kind} ${m.from} ${m.to}`).sort(), ['charset utf8mb3 utf8', 'charset utf8mb3 utf8', 'collation utf8mb3_uca1400_ai_ci utf8_unicode_520_ci', 'collation utf8mb4_0900_ai_ci utf8mb4_unicode_520_nopad_ci', 'collation utf8mb4_uca1400_ai_ci utf8mb4_unicode_520_ci']);
  assert.deepEqual(namesIn(sql), { collations: ['utf8mb3_uca1400_ai_ci', 'utf8mb4_0900_ai_ci', 'utf8mb4_uca1400_ai_ci'], charsets: ['utf8mb3', 'utf8mb4'] }, 'the names a statement uses (identify)');
  const ontoMysql = adaptStatement(sql, MYSQL_8);
  assert.match(ontoMysql.sql, /ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=`utf8mb4_unicode_520_ci` *$/);
  assert.deepEqual(ontoMysql.dropped.map((d) => d.option), ['PAGE_COMPRESSED=1', 'ENCRYPTED=YES']);
  const mysql8 = "CREATE TABLE `m` (\n  `a` int\n) ENGINE=InnoDB AUTOEXTEND_SIZE=4194304 ENCRYPTION='N' /*!80016 COMPRESSION='zlib' */ START TRANSACTION";
  const ontoMariadb = adaptStatement(mysql8, { ...MARIADB_105 });
  assert.equal(ontoMariadb.sql, 'CREATE TABLE `m` (\n  `a` int\n) ENGINE=InnoDB   /*!80016  */ ');
  assert.deepEqual(ontoMariadb.dropped.map((d) => d.option), ['AUTOEXTEND_SIZE=4194304', "ENCRYPTION='N'", "COMPRESSION='zlib'", 'START TRANSACTION']);
  assert.equal(adaptStatement("CREATE TABLE `x` (`a` int COMMENT 'unclosed", MARIADB_105).sql, "CREATE TABLE `x` (`a` int COMMENT 'unclosed", 'a statement that does not lex is left to the checks');
});

test('this server\'s own list: MariaDB 10.11 knows UCA 14 (full names) and not MySQL 8\'s 0900', async () => {
  const conn = await connectServer();
  try {
    const here = await readTargetNames(conn);
    assert.equal(here.family, 'mariadb');
    assert.equal(nearestCollation('utf8mb3_uca1400_ai_ci', here), null);
    assert.equal(nearestCollation('utf8mb4_0900_ai_ci', here), 'utf8mb4_uca1400_nopad_ai_ci');
    assert.equal(nearestCollation('utf8mb4_sv_0900_as_cs', here), 'utf8mb4_uca1400_swedish_nopad_as_cs');
  } finally {
    await conn.end();
  }
});
