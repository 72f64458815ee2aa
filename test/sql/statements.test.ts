/**
 * The SQL lexer and the statement checks: lexing rules on their own, then
 * every statement of the fixture databases and of sakila-like objects, as
 * the producer stores them, must pass, and what they become (a split table,
 * an object with its definer replaced and events disabled) must rebuild the
 * same schema on the real server. Hostile statements are refused with a
 * reason.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize, lexModeOf } from '../../src/sql/tokenize.js';
import { checkCreateTable } from '../../src/sql/create-table.js';
import { checkCreateObject, type ObjectContext } from '../../src/sql/create-object.js';
import { alterAdding } from '../../src/restore/schema.js';
import { createObjects } from '../../src/restore/objects.js';
import { readCatalog, readObjects, showCreateTable } from '../../src/backup/catalog.js';
import { quoteId } from '../../src/db/connect.js';
import { generateOpenDental } from '../../fixtures/opendental.js';
import { generateExotic } from '../../fixtures/exotic.js';
import { connectServer, createTempDatabase, dropTempDatabases } from '../helpers/db.js';
import type { Connection } from 'mysql2/promise';
import type { ObjectDefinition } from '../../src/archive/layout.js';

after(dropTempDatabases);

const values = (sql: string, mode = {}) => tokenize(sql, mode).map((t) => `${t.kind}:${t.value}`);
const NONE = new Set<string>();

test('lexer: strings, names, comments and executable comments as the server reads them', () => {
  assert.deepEqual(values("SELECT 'a\\';b', `x``y`, \"q\"; -- gone\n#gone\n/* gone */ 1"), ['word:SELECT', "string:'a\\';b'", 'op:,', 'quoted:x`y', 'op:,', 'string:"q"', 'op:;', 'number:1']);
  // Without backslash escapes the same text closes the string early: the ; is real.
  assert.deepEqual(values("'a\\';b'", { noBackslashEscapes: true }), ["string:'a\\'", 'op:;', 'word:b', 'error:unclosed string']);
  assert.deepEqual(values('"a"', { ansiQuotes: true }), ['quoted:a']);
  assert.deepEqual(values('/*!50001 DROP */ /*M!100100 x */'), ['word:DROP', 'word:x']);
  assert.deepEqual(values('1abc 1.5e3 .5 t.c 0x1F'), ['word:1abc', 'number:1.5e3', 'number:.5', 'word:t', 'op:.', 'word:c', 'number:0x1F']);
  assert.deepEqual(values("`root`@`localhost` root@localhost @v @@global.x 'u'@'%'"), ['quoted:root', 'op:@', 'quoted:localhost', 'word:root', 'variable:@localhost', 'variable:@v', 'variable:@@global.x', "string:'u'", 'op:@', "string:'%'"]);
  assert.deepEqual(values('1--1'), ['number:1', 'op:-', 'op:-', 'number:1'], '-- without a space is not a comment');
  assert.equal(values('/* never closed').at(-1), 'error:unclosed comment');
  assert.deepEqual(lexModeOf('ANSI_QUOTES,NO_BACKSLASH_ESCAPES'), { ansiQuotes: true, noBackslashEscapes: true });
});

test('table checks refuse what reaches outside, and accept quoted look-alikes', () => {
  const foreign = new Set(['other', 'mysql']);
  const ok = (sql: string) => assert.equal(checkCreateTable(sql, 't', foreign).ok, true, sql);
  const no = (sql: string, reason: RegExp) => {
    const c = checkCreateTable(sql, 't', foreign);
    assert.equal(c.ok, false, sql);
    if (!c.ok) assert.match(c.reason, reason, sql);
  };
  ok("CREATE TABLE `t` (\n  `a` varchar(5) DEFAULT ';',\n  `b` int COMMENT 'x\\'; DROP TABLE other.t'\n) ENGINE=InnoDB");
  ok('CREATE TABLE `T` (`a` int) ENGINE=MyISAM');
  no('DROP TABLE other.t', /not a CREATE TABLE/);
  no('CREATE TABLE other.t (a int)', /another database/);
  no('CREATE TABLE u (a int)', /another table/);
  no('CREATE TABLE t LIKE other.t', /no column list/);
  no('CREATE TABLE t (a int); DROP TABLE x', /more than one statement/);
  no('CREATE TABLE t (a int) /*! ; DROP TABLE x */', /more than one statement/);
  no('CREATE TABLE t (a int) SELECT 1', /copies rows/);
  no('CREATE TABLE t (a int) ENGINE=MRG_MyISAM UNION=(`x`)', /merges|engine/);
  no("CREATE TABLE t (a int) ENGINE=FEDERATED CONNECTION='mysql://x/y/z'", /engine|connects/);
  no("CREATE TABLE t (a int) ENGINE=CONNECT TABLE_TYPE=CSV FILE_NAME='/etc/passwd'", /engine/);
  no("CREATE TABLE t (a int) DATA DIRECTORY='/tmp'", /outside the server/);
  no('CREATE TABLE t (a int, FOREIGN KEY (a) REFERENCES other.p (id))', /database other/);
  no("CREATE TABLE t (a int COMMENT 'never closed)", /malformed/);
});

test('object checks: kind, name, body, trigger table; definer replaced and events disabled', () => {
  const ctx: ObjectContext = { tables: new Set(['patient']), foreign: new Set(['other', 'mysql']), definer: '`admin`@`localhost`' };
  const view = (create: string, name = 'v'): ObjectDefinition => ({ kind: 'view', name, create });
  const reason = (o: ObjectDefinition) => {
    const c = checkCreateObject(o, ctx);
    return c.ok ? 'ok' : c.reason;
  };
  assert.equal(reason(view('CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `v` AS select 1 AS `a`')), 'ok');
  assert.match(reason(view('CREATE VIEW `w` AS select 1')), /another object/);
  assert.match(reason(view('CREATE VIEW other.v AS select 1')), /another database/);
  assert.match(reason(view('CREATE USER x')), /creates a user, not a view/);
  assert.match(reason(view('CREATE VIEW v AS select * from mysql.user')), /database mysql/);
  assert.match(reason(view("CREATE VIEW v AS select 1 INTO OUTFILE '/tmp/x'")), /writes a file/);
  assert.match(reason(view('CREATE VIEW v AS select 1; DROP TABLE patient')), /more than one statement/);
  assert.match(reason(view("CREATE VIEW v AS select LOAD_FILE('/etc/passwd')")), /reads a file/);
  const proc = (create: string, sqlMode?: string): ObjectDefinition => ({ kind: 'routine', type: 'PROCEDURE', name: 'p', create, sqlMode });
  assert.equal(reason(proc('CREATE DEFINER=`x`@`%` PROCEDURE `p`()\nBEGIN\n  DECLARE a INT;\n  lbl: LOOP\n    SET a = CASE WHEN a > 1 THEN 1 ELSE 2 END;\n    IF a THEN LEAVE lbl; END IF;\n  END LOOP lbl;\n  CASE a WHEN 1 THEN SELECT 1; ELSE SELECT 2; END CASE;\nEND')), 'ok');
  assert.match(reason(proc('CREATE PROCEDURE p() SELECT 1; DROP DATABASE other')), /more than one statement/);
  assert.match(reason(proc("CREATE PROCEDURE p() BEGIN PREPARE s FROM 'x'; EXECUTE s; END")), /dynamic SQL/);
  assert.match(reason(proc("CREATE PROCEDURE p() BEGIN SET GLOBAL general_log = 1; END")), /server settings/);
  assert.match(reason(proc("CREATE PROCEDURE p() BEGIN GRANT ALL ON *.* TO 'x'@'%'; END")), /grants/);
  assert.match(reason(proc("CREATE PROCEDURE p() BEGIN CREATE TABLE x (a INT) DATA DIRECTORY='/tmp'; END")), /outside the server's data folder/);
  assert.match(reason(proc("CREATE PROCEDURE p() BEGIN CREATE TABLE x (a INT) ENGINE=MyISAM INDEX DIRECTORY='/tmp'; END")), /outside the server's data folder/);
  assert.equal(reason(proc('CREATE PROCEDURE p() BEGIN SELECT `data`, `index` FROM patient; END')), 'ok', 'the words alone are not refused');
  assert.match(reason(proc("CREATE PROCEDURE p() SELECT 'a\\'; DROP DATABASE x; -- '", 'NO_BACKSLASH_ESCAPES')), /more than one statement/);
  assert.equal(reason(proc("CREATE PROCEDURE p() SELECT 'a\\'; DROP DATABASE x; -- '")), 'ok', 'the same text is one string with backslash escapes');
  assert.match(reason({ kind: 'routine', type: 'FUNCTION', name: 'p', create: 'CREATE PROCEDURE p() SELECT 1' }), /procedure, not a routine/);
  const trig = (on: string): ObjectDefinition => ({ kind: 'trigger', name: 'tr', create: `CREATE DEFINER=\`root\`@\`localhost\` TRIGGER tr BEFORE INSERT ON ${on} FOR EACH ROW SET NEW.a = 1` });
  assert.equal(reason(trig('`patient`')), 'ok');
  assert.match(reason(trig('other.t')), /another database|database other/);
  assert.match(reason(trig('nothere')), /not in this backup/);

  const event = checkCreateObject({ kind: 'event', name: 'e', create: "CREATE DEFINER=`root`@`localhost` EVENT `e` ON SCHEDULE EVERY 1 DAY ON COMPLETION PRESERVE ENABLE COMMENT 'DO not' DO DELETE FROM patient" }, ctx);
  assert.ok(event.ok);
  if (event.ok) {
    assert.equal(event.value.sql, "CREATE DEFINER=`admin`@`localhost` EVENT `e` ON SCHEDULE EVERY 1 DAY ON COMPLETION PRESERVE DISABLE COMMENT 'DO not' DO DELETE FROM patient");
    assert.equal(event.value.definerReplaced, '`root`@`localhost`');
    assert.equal(event.value.eventDisabled, true);
  }
  const kept = checkCreateObject({ kind: 'event', name: 'e', create: 'CREATE DEFINER=root@localhost EVENT e ON SCHEDULE AT NOW() DISABLE ON SLAVE DO SELECT 1' }, { ...ctx, definer: null });
  assert.ok(kept.ok && kept.value.sql === 'CREATE DEFINER=root@localhost EVENT e ON SCHEDULE AT NOW() DISABLE DO SELECT 1' && !kept.value.definerReplaced);
  const same = checkCreateObject(view("CREATE DEFINER='admin'@'LOCALHOST' VIEW v AS select 1"), ctx);
  assert.ok(same.ok && same.value.definerReplaced === undefined, 'the restoring account itself is not reported as replaced');
});

/** Sakila-like objects: joins, GROUP_CONCAT, subqueries, OUT parameters, DECLARE, IF/ELSE, CASE, cursors and handlers. */
const SAKILA_TABLES = [
  'CREATE TABLE actor (actor_id INT PRIMARY KEY, first_name VARCHAR(45), last_name VARCHAR(45))',
  'CREATE TABLE film (film_id INT PRIMARY KEY, title VARCHAR(128), description TEXT)',
  'CREATE TABLE film_actor (actor_id INT, film_id INT, PRIMARY KEY (actor_id, film_id))',
  'CREATE TABLE film_text (film_id INT PRIMARY KEY, title VARCHAR(255), description TEXT)',
  'CREATE TABLE inventory (inventory_id INT PRIMARY KEY, film_id INT, store_id INT)',
  'CREATE TABLE rental (rental_id INT PRIMARY KEY, inventory_id INT, customer_id INT, return_date DATETIME)',
  'CREATE TABLE customer (customer_id INT PRIMARY KEY, create_date DATETIME)',
  'CREATE TABLE payment (payment_id INT PRIMARY KEY, customer_id INT, amount DECIMAL(5,2), payment_date DATETIME)',
];
const SAKILA_OBJECTS = [
  `CREATE VIEW actor_info AS SELECT a.actor_id, a.first_name, GROUP_CONCAT(DISTINCT f.title ORDER BY f.title SEPARATOR ', ') AS films
   FROM actor a LEFT JOIN film_actor fa ON fa.actor_id = a.actor_id LEFT JOIN film f ON f.film_id = fa.film_id GROUP BY a.actor_id, a.first_name`,
  `CREATE VIEW big_spenders AS SELECT customer_id, (SELECT SUM(amount) FROM payment p WHERE p.customer_id = c.customer_id) AS total FROM customer c`,
  `CREATE PROCEDURE film_in_stock(IN p_film_id INT, IN p_store_id INT, OUT p_film_count INT)
   READS SQL DATA
   BEGIN
     SELECT inventory_id FROM inventory WHERE film_id = p_film_id AND store_id = p_store_id AND inventory_in_stock(inventory_id);
     SELECT COUNT(*) FROM inventory WHERE film_id = p_film_id AND store_id = p_store_id AND inventory_in_stock(inventory_id) INTO p_film_count;
   END`,
  `CREATE FUNCTION inventory_in_stock(p_inventory_id INT) RETURNS tinyint(1)
   READS SQL DATA
   BEGIN
     DECLARE v_rentals INT;
     DECLARE v_out INT;
     SELECT COUNT(*) INTO v_rentals FROM rental WHERE inventory_id = p_inventory_id;
     IF v_rentals = 0 THEN
       RETURN TRUE;
     END IF;
     SELECT COUNT(rental_id) INTO v_out FROM inventory LEFT JOIN rental USING(inventory_id)
       WHERE inventory.inventory_id = p_inventory_id AND rental.return_date IS NULL;
     IF v_out > 0 THEN RETURN FALSE; ELSE RETURN TRUE; END IF;
   END`,
  `CREATE FUNCTION get_customer_balance(p_customer_id INT, p_effective_date DATETIME) RETURNS decimal(5,2)
   DETERMINISTIC READS SQL DATA
   BEGIN
     DECLARE v_payments DECIMAL(5,2);
     SELECT IFNULL(SUM(amount), 0) INTO v_payments FROM payment WHERE payment_date <= p_effective_date AND customer_id = p_customer_id;
     RETURN CASE WHEN v_payments > 100 THEN 100 ELSE v_payments END;
   END`,
  `CREATE PROCEDURE rewards_report(IN min_monthly_purchases TINYINT UNSIGNED, OUT count_rewardees INT)
   READS SQL DATA
   proc: BEGIN
     DECLARE done INT DEFAULT 0;
     DECLARE cid INT;
     DECLARE cur CURSOR FOR SELECT customer_id FROM payment;
     DECLARE CONTINUE HANDLER FOR NOT FOUND SET done = 1;
     IF min_monthly_purchases = 0 THEN
       SELECT 'Minimum monthly purchases parameter must be > 0';
       LEAVE proc;
     END IF;
     CREATE TEMPORARY TABLE tmpCustomer (customer_id INT NOT NULL PRIMARY KEY);
     OPEN cur;
     read_loop: LOOP
       FETCH cur INTO cid;
       IF done THEN LEAVE read_loop; END IF;
       INSERT IGNORE INTO tmpCustomer VALUES (cid);
     END LOOP;
     CLOSE cur;
     SELECT COUNT(*) FROM tmpCustomer INTO count_rewardees;
     DROP TABLE tmpCustomer;
   END`,
  `CREATE TRIGGER customer_create_date BEFORE INSERT ON customer FOR EACH ROW SET NEW.create_date = NOW()`,
  `CREATE TRIGGER ins_film AFTER INSERT ON film FOR EACH ROW BEGIN
     INSERT INTO film_text (film_id, title, description) VALUES (new.film_id, new.title, new.description);
   END`,
  `CREATE TRIGGER upd_film AFTER UPDATE ON film FOR EACH ROW BEGIN
     IF (old.title != new.title) OR (old.description != new.description) THEN
       UPDATE film_text SET title = new.title, description = new.description, film_id = new.film_id WHERE film_id = old.film_id;
     END IF;
   END`,
  `CREATE EVENT purge_old_rentals ON SCHEDULE EVERY 1 WEEK STARTS '2030-01-01 00:00:00' ON COMPLETION PRESERVE ENABLE
   COMMENT 'DO keep a year' DO BEGIN DELETE FROM rental WHERE return_date < NOW() - INTERVAL 1 YEAR; END`,
];

async function fixtureDatabases(conn: Connection): Promise<string[]> {
  const od = await createTempDatabase('lr_sql_od');
  await generateOpenDental(conn, { database: od, patients: 3, seed: 3 });
  const ex = await createTempDatabase('lr_sql_ex');
  await generateExotic(conn, { database: ex });
  const sk = await createTempDatabase('lr_sql_sakila');
  await conn.query(`USE ${quoteId(sk)}`);
  await conn.query("SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'");
  for (const sql of [...SAKILA_TABLES, ...SAKILA_OBJECTS]) await conn.query(sql);
  return [od, ex, sk];
}

test('every statement of the fixture databases and sakila-like objects passes, and rebuilds the same schema', async () => {
  const conn = await connectServer();
  try {
    let splitOff = 0;
    for (const source of await fixtureDatabases(conn)) {
      const copy = await createTempDatabase('lr_sql_copy');
      const foreign = new Set(['mysql', 'information_schema', source.toLowerCase()]);
      await conn.query(`USE ${quoteId(source)}`);
      const catalog = await readCatalog(conn, source, { createdAt: new Date().toISOString() });
      const objects = await readObjects(conn, source);
      await conn.query(`USE ${quoteId(copy)}`);
      await conn.query('SET SESSION foreign_key_checks = 0');
      for (const t of catalog.tables) {
        const checked = checkCreateTable(t.create, t.name, foreign);
        assert.ok(checked.ok, `${source}.${t.name}: ${checked.ok ? '' : checked.reason}`);
        if (!checked.ok) continue;
        await conn.query(checked.value.create);
        for (const defs of [checked.value.indexes, checked.value.foreignKeys]) {
          const alter = alterAdding(t.name, defs, new Set());
          if (alter) await conn.query(alter);
        }
        assert.equal(await showCreateTable(conn, t.name), t.create, `${t.name} split and rebuilt is the same table`);
        splitOff += checked.value.indexes.length;
      }
      const ctx: ObjectContext = { tables: new Set(catalog.tables.map((t) => t.name)), foreign, definer: '`root`@`localhost`' };
      assert.ok(objects.length > 0 || source.startsWith('lr_sql_od'), `${source} has objects to check`);
      for (const o of objects) {
        const checked = checkCreateObject(o, ctx);
        assert.ok(checked.ok, `${o.kind} ${o.name}: ${checked.ok ? '' : checked.reason}`);
      }
      // Created the way the restore creates them (views retried in dependency order).
      for (const outcome of await createObjects(conn, objects, ctx)) assert.ok(outcome.restored, `${outcome.kind} ${outcome.name}: ${outcome.error}`);
      const [events] = (await conn.query('SELECT STATUS AS s FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?', [copy])) as unknown as [{ s: string }[]];
      for (const e of events) assert.equal(e.s, 'DISABLED');
      const [count] = (await conn.query('SELECT (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ?) + (SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?) + (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?) + (SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?) AS n', [copy, copy, copy, copy])) as unknown as [{ n: number }[]];
      assert.equal(Number(count[0].n), objects.length, `${source}: every object was created in the copy`);
    }
    assert.ok(splitOff > 20, `secondary indexes are built after the rows (${splitOff} split off)`);
  } finally {
    await conn.end();
  }
});

test('secondary indexes and foreign keys are split off an InnoDB table, not off other engines or the AUTO_INCREMENT key', () => {
  const create = (engine: string) => `CREATE TABLE \`patient\` (\n  \`PatNum\` bigint(20) NOT NULL AUTO_INCREMENT,\n  \`LName\` varchar(100) NOT NULL DEFAULT '',\n  \`Guarantor\` bigint(20) NOT NULL,\n  PRIMARY KEY (\`PatNum\`),\n  KEY \`byNum\` (\`PatNum\`,\`LName\`),\n  KEY \`idx_lname\` (\`LName\`),\n  UNIQUE KEY \`g\` (\`Guarantor\`),\n  CONSTRAINT \`fk\` FOREIGN KEY (\`Guarantor\`) REFERENCES \`patient\` (\`PatNum\`)\n) ENGINE=${engine} DEFAULT CHARSET=utf8mb4`;
  const innodb = checkCreateTable(create('InnoDB'), 'patient', NONE);
  assert.ok(innodb.ok);
  if (innodb.ok) {
    assert.deepEqual(innodb.value.indexes.map((d) => d.name), ['idx_lname', 'g'], 'the key starting with the AUTO_INCREMENT column stays');
    assert.deepEqual(innodb.value.foreignKeys.map((d) => d.name), ['fk']);
    assert.doesNotMatch(innodb.value.create, /idx_lname|FOREIGN KEY/);
    assert.match(innodb.value.create, /KEY `byNum`/);
  }
  const myisam = checkCreateTable(create('MyISAM'), 'patient', NONE);
  assert.ok(myisam.ok && myisam.value.indexes.length === 0 && myisam.value.create === create('MyISAM'));
});

test('a foreign key written without quotes is split out under its own name', () => {
  const c = checkCreateTable('CREATE TABLE t (a int, CONSTRAINT fk FOREIGN KEY (a) REFERENCES p (id))', 't', NONE);
  assert.ok(c.ok && c.value.foreignKeys.length === 1 && c.value.foreignKeys[0].name === 'fk');
});
