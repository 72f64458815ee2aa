/**
 * Bodies of routines, triggers and events read statement by statement and
 * allow-listed (src/sql/body.ts), every assignment of a SET read, the
 * replication and log statements and CREATE OR REPLACE of what lies outside
 * the database refused, and the object's sql_mode and character set taken
 * as the server applies them. Then, on the real server, an object whose
 * file mode the server expands into ANSI_QUOTES is refused under the mode
 * read back from the server.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { checkCreateObject, type ObjectContext } from '../../src/sql/create-object.js';
import { checkCreateTable } from '../../src/sql/create-table.js';
import { lexModeOf } from '../../src/sql/tokenize.js';
import { createObjects } from '../../src/restore/objects.js';
import { connectServer, createTempDatabase, dropTempDatabases } from '../helpers/db.js';
import type { ObjectDefinition } from '../../src/archive/layout.js';

after(dropTempDatabases);

const ctx: ObjectContext = { tables: new Set(['patient']), foreign: new Set(['other', 'mysql']), definer: '`lr_objects_x`@`localhost`' };
const reasonOf = (o: ObjectDefinition) => {
  const c = checkCreateObject(o, ctx);
  return c.ok ? 'ok' : c.reason;
};
const proc = (body: string, extra: Partial<ObjectDefinition> = {}): ObjectDefinition => ({ kind: 'routine', type: 'PROCEDURE', name: 'p', create: `CREATE DEFINER=\`x\`@\`%\` PROCEDURE \`p\`(IN a INT, OUT b INT)\n${body}`, ...extra });
const trig = (body: string): ObjectDefinition => ({ kind: 'trigger', name: 'tr', create: `CREATE TRIGGER tr BEFORE INSERT ON patient FOR EACH ROW ${body}` });
const event = (body: string): ObjectDefinition => ({ kind: 'event', name: 'e', create: `CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO ${body}` });
const view = (query: string): ObjectDefinition => ({ kind: 'view', name: 'v', create: `CREATE VIEW v AS ${query}` });

test('every assignment of a SET is read: only own variables, user variables and NEW.column', () => {
  const refused: [string, RegExp][] = [
    ['SET @a = 1, GLOBAL max_connections = 5', /server setting \(SET GLOBAL/],
    ['SET @a = 1, @@global.general_log_file = "/tmp/x"', /server(-wide)? setting/],
    ['SET @@global /**/ .general_log = 1', /server(-wide)? setting/],
    ['SET @@GLOBAL/**/.general_log = 1', /server(-wide)? setting/],
    ['SET @@session.sql_log_bin = 0', /server setting/],
    ['SET SESSION sql_mode = ""', /server setting \(SET SESSION/],
    ['SET LOCAL foreign_key_checks = 0', /server setting/],
    ['SET max_connections = 5', /never declares/],
    ['SET b = 1, general_log = 1', /never declares/],
    ['SET NEW.LName = 1', /not one of its own variables/],
    ['SET NAMES gbk', /character set/],
    ['SET CHARACTER SET gbk', /character set/],
    ['SET PASSWORD = PASSWORD("x")', /PASSWORD/],
    ['SET ROLE admin', /ROLE/],
    ['SET DEFAULT ROLE admin FOR root', /DEFAULT/],
    ['SET STATEMENT max_statement_time = 1 FOR SELECT 1', /SET STATEMENT/],
    ['SET TRANSACTION ISOLATION LEVEL READ UNCOMMITTED', /transaction/],
    ['SET', /malformed/],
  ];
  for (const [statement, reason] of refused) {
    assert.match(reasonOf(proc(statement)), reason, `top level: ${statement}`);
    assert.match(reasonOf(proc(`BEGIN\n  DECLARE x INT;\n  IF a > 0 THEN\n    ${statement};\n  END IF;\nEND`)), reason, `in a block: ${statement}`);
  }
  assert.equal(reasonOf(proc('SET b = a + 1, @total = (SELECT COUNT(*) FROM patient), @`q` = 1, @\'r\' := 2')), 'ok');
  assert.equal(reasonOf(proc('BEGIN\n  DECLARE n, m INT DEFAULT 0;\n  SET n = 1, m := n;\nEND')), 'ok');
  assert.match(reasonOf(proc('BEGIN\n  BEGIN DECLARE n INT; END;\n  SET n = 1;\nEND')), /never declares/, 'a name declared in an inner block is not declared outside it');
  assert.equal(reasonOf(trig('SET NEW.LName = TRIM(NEW.LName), @seen = 1')), 'ok');
  assert.match(reasonOf(trig('SET NEW.LName = 1, GLOBAL event_scheduler = ON')), /server setting/);
  assert.match(reasonOf(event('SET GLOBAL max_connections = 1')), /server setting/);
});

test('replication, log and account statements, and CREATE OR REPLACE outside the database, are refused', () => {
  const refused: [string, RegExp][] = [
    ['RESET MASTER', /RESET/],
    ['RESET SLAVE ALL', /RESET/],
    ['START ALL SLAVES', /replication/],
    ['STOP ALL SLAVES', /replication/],
    ['START SLAVE', /replication/],
    ['STOP REPLICA', /replication/],
    ["CHANGE MASTER TO MASTER_HOST='x'", /replication/],
    ["PURGE BINARY LOGS BEFORE '2030-01-01'", /PURGE/],
    ['FLUSH PRIVILEGES', /FLUSH/],
    ['FLUSH LOGS', /FLUSH/],
    ['CREATE OR REPLACE DATABASE other', /outside the database \(CREATE DATABASE\)/],
    ["CREATE OR REPLACE USER 'backdoor'@'%' IDENTIFIED BY 'x'", /outside the database \(CREATE USER\)/],
    ['CREATE OR REPLACE ROLE r', /CREATE ROLE/],
    ["CREATE OR REPLACE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (HOST 'x')", /CREATE SERVER/],
    ["EXECUTE IMMEDIATE 'GRANT ALL ON *.* TO x'", /dynamic SQL/],
    ['DROP DATABASE lr_any', /outside the database/],
    ['ALTER TABLE patient ADD COLUMN x INT', /do not need \(ALTER\)/],
    ['TRUNCATE patient', /do not need \(TRUNCATE\)/],
    ['CREATE TABLE x (a INT)', /do not need \(CREATE TABLE\)/],
    ['CREATE PROCEDURE q() SELECT 1', /do not need \(CREATE PROCEDURE\)/],
    ['DROP PROCEDURE p', /do not need \(DROP PROCEDURE\)/],
    ['LOCK TABLES patient WRITE', /do not need \(LOCK\)/],
    ['HANDLER patient OPEN', /do not need \(HANDLER\)/],
    ['SHOW GRANTS', /do not need \(SHOW\)/],
    ['DO SLEEP(1)', /do not need \(DO\)/],
    ['INSTALL SONAME "x"', /plugins/],
    ['SHUTDOWN', /stops the server/],
    ['BACKUP STAGE START', /do not need \(BACKUP\)/],
    ['XA START "x"', /do not need \(XA\)/],
  ];
  for (const [statement, reason] of refused) {
    assert.match(reasonOf(proc(statement)), reason, `top level: ${statement}`);
    assert.match(reasonOf(proc(`BEGIN\n  SELECT 1;\n  ${statement};\nEND`)), reason, `in a block: ${statement}`);
    assert.match(reasonOf(event(`BEGIN ${statement}; END`)), reason, `in an event: ${statement}`);
  }
  assert.match(reasonOf({ kind: 'routine', type: 'PROCEDURE', name: 'p', create: "CREATE OR REPLACE USER 'p'@'%'" }), /no name|creates a user/);
  assert.match(reasonOf({ kind: 'routine', type: 'PROCEDURE', name: 'p', create: 'CREATE OR REPLACE USER p' }), /creates a user, not a routine/);
  assert.match(reasonOf(view('select 1 from patient; RESET MASTER')), /more than one statement/);
  assert.match(reasonOf(view('UPDATE patient SET LName = 1')), /not a query/);
  // The table checks read the same list.
  assert.equal(checkCreateTable('CREATE TABLE `t` (`a` int) ENGINE=InnoDB', 't', new Set()).ok, true);
  const t = checkCreateTable("CREATE TABLE `t` (`a` varchar(9) DEFAULT (LOAD_FILE('/etc/passwd')))", 't', new Set());
  assert.ok(!t.ok && /reads a file/.test(t.reason));
});

test('bodies that sakila/employees-style and Open Dental objects use pass', () => {
  const allowed = [
    "BEGIN\n  DECLARE done INT DEFAULT FALSE;\n  DECLARE v VARCHAR(10);\n  DECLARE c CURSOR FOR SELECT LName FROM patient;\n  DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = TRUE;\n  DECLARE EXIT HANDLER FOR SQLEXCEPTION, SQLSTATE VALUE '23000' BEGIN ROLLBACK; RESIGNAL; END;\n  START TRANSACTION;\n  OPEN c;\n  read_loop: LOOP\n    FETCH c INTO v;\n    IF done THEN LEAVE read_loop; ELSEIF v = '' THEN ITERATE read_loop; ELSE SET b = b + 1; END IF;\n  END LOOP read_loop;\n  CLOSE c;\n  COMMIT;\nEND",
    "lbl: BEGIN\n  DECLARE i INT DEFAULT 0;\n  WHILE i < 3 DO SET i = i + 1; END WHILE;\n  REPEAT SET i = i - 1; UNTIL CASE WHEN i > 0 THEN FALSE ELSE TRUE END END REPEAT;\n  CASE i WHEN 0 THEN SELECT 'zero'; WHEN 1 THEN SELECT 'one'; ELSE SELECT 'many'; END CASE;\n  CASE WHEN i > 0 THEN SET b = 1; ELSE SET b = 2; END CASE;\n  FOR r IN 1..3 DO SET i = i + r; END FOR;\n  IF (SELECT COUNT(*) FROM patient) > 0 AND IF(i > 0, 1, 0) THEN SET b = CASE i WHEN 1 THEN 1 ELSE 0 END; END IF;\nEND lbl",
    "BEGIN\n  DROP TEMPORARY TABLE IF EXISTS tmp;\n  CREATE TEMPORARY TABLE tmp (id INT PRIMARY KEY);\n  CREATE OR REPLACE TEMPORARY TABLE tmp2 SELECT PatNum FROM patient;\n  INSERT INTO tmp SELECT PatNum FROM patient ON DUPLICATE KEY UPDATE id = id;\n  REPLACE INTO tmp VALUES (1);\n  UPDATE patient SET LName = UPPER(LName) WHERE PatNum IN (SELECT id FROM tmp);\n  DELETE FROM tmp WHERE id < 0;\n  WITH x AS (SELECT 1 AS n) SELECT n INTO b FROM x;\n  (SELECT 1) UNION (SELECT 2);\n  CALL other_proc(a, @out);\n  GET DIAGNOSTICS @rows = ROW_COUNT;\n  SAVEPOINT s1;\n  ROLLBACK TO SAVEPOINT s1;\n  RELEASE SAVEPOINT s1;\n  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'stop';\n  DROP TABLE tmp;\nEND",
    'SELECT COUNT(*) INTO b FROM patient WHERE PatNum > a',
  ];
  for (const body of allowed) assert.equal(reasonOf(proc(body)), 'ok', body);
  const fn = (create: string): ObjectDefinition => ({ kind: 'routine', type: 'FUNCTION', name: 'f', create });
  assert.equal(reasonOf(fn("CREATE DEFINER=`x`@`%` FUNCTION `f`(n INT) RETURNS varchar(255) CHARSET utf8mb4 COLLATE utf8mb4_general_ci\n    READS SQL DATA\n    DETERMINISTIC\n    SQL SECURITY INVOKER\n    COMMENT 'x'\nRETURN (SELECT LName FROM patient WHERE PatNum = n)")), 'ok');
  assert.equal(reasonOf(fn('CREATE FUNCTION f(n INT) RETURNS decimal(5,2) UNSIGNED NOT DETERMINISTIC BEGIN DECLARE x DECIMAL(5,2); SET x = n; RETURN x; END')), 'ok');
  assert.match(reasonOf(fn('CREATE FUNCTION f(n INT) RETURNS int BEGIN SET GLOBAL x = 1; RETURN 1; END')), /server/);
  assert.equal(reasonOf(event('BEGIN DELETE FROM patient WHERE PatNum < 0; END')), 'ok');
  assert.equal(reasonOf(trig('FOLLOWS other_trigger BEGIN IF NEW.LName IS NULL THEN SET NEW.LName = \'\'; END IF; END')), 'ok');
  assert.equal(reasonOf(view('WITH a AS (SELECT 1) SELECT * FROM a')), 'ok');
  assert.match(reasonOf(proc('BEGIN SELECT 1; END; SELECT 2')), /more than one statement/);
  assert.match(reasonOf(proc('BEGIN SELECT 1 END')), /blocks do not match|not ended/);
  assert.match(reasonOf(proc('BEGIN IF a THEN SELECT 1; END; END')), /blocks do not match|more than one statement/);
});

test('sql_mode: modes the server expands into ANSI_QUOTES are lexed with it; unknown modes, ORACLE and other character sets are refused', () => {
  // "\" ; GRANT ... # " is one string without ANSI_QUOTES, and live code with it.
  const hidden = 'CREATE PROCEDURE p(IN a INT, OUT b INT) SELECT "\\" ; GRANT ALL ON *.* TO backdoor # "';
  for (const mode of ['ANSI_QUOTES', 'ANSI', 'POSTGRESQL', 'MSSQL', 'DB2', 'MAXDB', 'ansi,db2', ' postgresql ']) {
    assert.ok(lexModeOf(mode).ansiQuotes, mode);
    assert.notEqual(reasonOf(proc('', { create: hidden, sqlMode: mode })), 'ok', mode);
  }
  assert.equal(reasonOf(proc('', { create: hidden, sqlMode: 'STRICT_TRANS_TABLES' })), 'ok', 'without ANSI_QUOTES it is one string');
  assert.match(reasonOf(proc('SELECT 1', { sqlMode: 'ORACLE' })), /ORACLE/);
  assert.match(reasonOf(proc('SELECT 1', { sqlMode: '4' })), /not one the server knows/);
  assert.match(reasonOf(proc('SELECT 1', { sqlMode: 'STRICT_TRANS_TABLES,NOT_A_MODE' })), /NOT_A_MODE/);
  for (const cs of ['utf8mb4', 'utf8mb3', 'utf8', 'latin1', 'binary', 'UTF8MB4']) assert.equal(reasonOf(proc('SELECT 1', { characterSetClient: cs })), 'ok', cs);
  for (const cs of ['gbk', 'big5', 'sjis', 'cp932', 'utf16', 'ucs2']) assert.match(reasonOf(proc('SELECT 1', { characterSetClient: cs })), /client character set/, cs);
  assert.match(reasonOf(proc('SELECT 1', { collationConnection: 'gbk_chinese_ci' })), /collation/);
  assert.equal(reasonOf(proc('SELECT 1', { characterSetClient: 'utf8mb3', collationConnection: 'utf8mb3_general_ci' })), 'ok');
});

test('on the server: the mode read back decides, so POSTGRESQL or lower-case ansi cannot hide a GRANT', async () => {
  const db = await createTempDatabase('lr_sqlmode');
  const conn = await connectServer(db);
  try {
    await conn.query('CREATE TABLE patient (PatNum INT PRIMARY KEY, LName VARCHAR(9)) ENGINE=MyISAM');
    const hidden = (name: string, sqlMode: string): ObjectDefinition => ({ kind: 'routine', type: 'PROCEDURE', name, sqlMode, create: `CREATE PROCEDURE ${name}() SELECT "\\" ; GRANT ALL ON *.* TO backdoor # "` });
    const objects = [hidden('pg', 'POSTGRESQL'), hidden('lower_ansi', 'ansi'), hidden('plain', 'STRICT_TRANS_TABLES'), { ...hidden('gbk', 'STRICT_TRANS_TABLES'), characterSetClient: 'gbk' }];
    const outcomes = await createObjects(conn, objects, { ...ctx, definer: null, tables: new Set(['patient']) });
    const by = new Map(outcomes.map((o) => [o.name, o]));
    assert.ok(by.get('pg')?.refused && by.get('lower_ansi')?.refused, JSON.stringify(outcomes));
    assert.match(by.get('gbk')?.error ?? '', /client character set/);
    assert.equal(by.get('plain')?.restored, true, 'the same text is one string where the mode has no ANSI_QUOTES');
    const [rows] = (await conn.query('SELECT ROUTINE_NAME AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?', [db])) as unknown as [{ n: string }[]];
    assert.deepEqual(rows.map((r) => r.n), ['plain']);
    const [[mode]] = (await conn.query('SELECT @@SESSION.sql_mode AS m, @@SESSION.character_set_client AS c')) as unknown as [{ m: string; c: string }[]];
    assert.doesNotMatch(mode.m, /ANSI_QUOTES/, 'the session mode is put back');
  } finally {
    await conn.end();
  }
});
