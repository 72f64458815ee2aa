/**
 * Makes the hostile-object vectors in this folder and objects.json saying
 * how each was made and which object a restore must refuse (and name).
 *
 *   npx tsx test/vectors/objects/make-objects.ts
 *
 * Each file is a genuine backup as far as the key goes: the payload is built
 * entry by entry with the project's tar writer and encrypted with the
 * project's own writer (the vectors' password, cheap KDF, a producer key
 * made for the run: ../hostile/payload.ts). The good payload is a clinic
 * with an InnoDB and a MyISAM table and a function, a view, a trigger, two
 * procedures and an event, every definer `root`@`localhost`, as an account
 * with rights on the practice database only could plant them. Each other
 * vector replaces one object's definition (or its sql_mode or character set)
 * with one way of reaching outside the database that an earlier version of
 * the checks let through. The writer draws a fresh file key each run:
 * commit the .lrb files and objects.json together.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ObjectDefinition } from '../../../src/archive/layout.js';
import { encrypt, payloadBytes, type Payload } from '../hostile/payload.js';
import { OBJECTS_CANARY, OBJECTS_ACCOUNT, OBJECTS_LOG, type ObjectVectorSpec } from './spec.js';

const DIR = fileURLToPath(new URL('.', import.meta.url));
const ROOT = 'DEFINER=`root`@`localhost`';
const MODE = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION';

function goodPayload(): Payload {
  const text = (name: string) => ({ name, dataType: 'varchar', encoding: 'text' as const });
  const num = (name: string) => ({ name, dataType: 'bigint', encoding: 'text' as const });
  return {
    tables: [
      { index: 1, name: 'patient', engine: 'InnoDB', columns: [num('PatNum'), text('LName')], primaryKey: ['PatNum'], rowsEstimate: 2, rows: '1\tSmith\n2\tJones\n', create: "CREATE TABLE `patient` (\n  `PatNum` bigint(20) NOT NULL AUTO_INCREMENT,\n  `LName` varchar(100) NOT NULL DEFAULT '',\n  PRIMARY KEY (`PatNum`),\n  KEY `idx_lname` (`LName`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci" },
      { index: 2, name: 'ledger', engine: 'MyISAM', columns: [num('LedgerNum'), num('PatNum'), num('Amount')], primaryKey: ['LedgerNum'], rowsEstimate: 2, rows: '1\t1\t50\n2\t2\t75\n', create: 'CREATE TABLE `ledger` (\n  `LedgerNum` bigint(20) NOT NULL AUTO_INCREMENT,\n  `PatNum` bigint(20) NOT NULL,\n  `Amount` bigint(20) NOT NULL,\n  PRIMARY KEY (`LedgerNum`),\n  KEY `idx_pat` (`PatNum`)\n) ENGINE=MyISAM DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci' },
    ],
    objects: [
      { kind: 'routine', type: 'FUNCTION', name: 'balance_of', sqlMode: MODE, characterSetClient: 'utf8mb4', collationConnection: 'utf8mb4_general_ci', create: `CREATE ${ROOT} FUNCTION \`balance_of\`(p bigint) RETURNS bigint(20)\n    READS SQL DATA\nBEGIN\n  DECLARE total BIGINT DEFAULT 0;\n  SELECT IFNULL(SUM(Amount), 0) INTO total FROM ledger WHERE PatNum = p;\n  RETURN total;\nEND` },
      { kind: 'view', name: 'patient_balance', sqlMode: MODE, create: `CREATE ALGORITHM=UNDEFINED ${ROOT} SQL SECURITY DEFINER VIEW \`patient_balance\` AS select \`patient\`.\`PatNum\` AS \`PatNum\`,\`balance_of\`(\`patient\`.\`PatNum\`) AS \`Balance\` from \`patient\`` },
      { kind: 'trigger', name: 'ledger_bi', table: 'ledger', sqlMode: MODE, create: `CREATE ${ROOT} TRIGGER \`ledger_bi\` BEFORE INSERT ON \`ledger\` FOR EACH ROW SET NEW.Amount = ABS(NEW.Amount), @ledger_seen = 1` },
      { kind: 'routine', type: 'PROCEDURE', name: 'rotate_logs', sqlMode: MODE, create: `CREATE ${ROOT} PROCEDURE \`rotate_logs\`()\nBEGIN\n  DECLARE n INT DEFAULT 0;\n  SELECT COUNT(*) INTO n FROM ledger;\n  SET @rotated = n;\nEND` },
      { kind: 'routine', type: 'PROCEDURE', name: 'monthly_cleanup', sqlMode: MODE, create: `CREATE ${ROOT} PROCEDURE \`monthly_cleanup\`()\nBEGIN\n  DELETE FROM ledger WHERE Amount < 0;\nEND` },
      { kind: 'event', name: 'nightly', sqlMode: MODE, create: `CREATE ${ROOT} EVENT \`nightly\` ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' ON COMPLETION PRESERVE ENABLE DO CALL monthly_cleanup()` },
    ],
  };
}

/** The good payload with one object's definition (or settings) replaced. */
function withObject(name: string, change: Partial<ObjectDefinition>): Payload {
  const p = goodPayload();
  const o = p.objects.find((x) => x.name === name)!;
  Object.assign(o, change);
  return p;
}
const procedure = (body: string) => `CREATE ${ROOT} PROCEDURE \`rotate_logs\`()\nBEGIN\n  DECLARE n INT DEFAULT 0;\n  ${body};\nEND`;
const rotate = (body: string) => withObject('rotate_logs', { create: procedure(body) });
const hidden = `CREATE ${ROOT} PROCEDURE \`rotate_logs\`() SELECT "\\" ; GRANT ALL ON *.* TO '${OBJECTS_ACCOUNT}'@'%' # "`;

const VECTORS: [ObjectVectorSpec, Payload][] = [
  [{ file: 'good-objects.lrb', note: 'the good payload: an InnoDB and a MyISAM table, a function, a view over it, a trigger, two procedures and an enabled event, every definer `root`@`localhost`', refused: [] }, goodPayload()],
  [{ file: 'set-after-user-variable.lrb', note: 'rotate_logs: SET @a = 1, GLOBAL max_connections = 999 (only the first assignment used to be read)', refused: ['rotate_logs'] }, rotate('SET @a = 1, GLOBAL max_connections = 999')],
  [{ file: 'set-global-comment.lrb', note: `rotate_logs: SET @@global /**/ .general_log_file = '${OBJECTS_LOG}'`, refused: ['rotate_logs'] }, rotate(`SET @@global /**/ .general_log_file = '${OBJECTS_LOG}'`)],
  [{ file: 'set-undeclared.lrb', note: 'rotate_logs: SET n = 1, general_log = 1 (a name it never declares is the server\'s setting)', refused: ['rotate_logs'] }, rotate('SET n = 1, general_log = 1')],
  [{ file: 'function-set-global.lrb', note: 'balance_of, called by the view: SET @x = 0, @@GLOBAL.general_log = 1 before its RETURN', refused: ['balance_of'], dependents: ['patient_balance'] }, withObject('balance_of', { create: `CREATE ${ROOT} FUNCTION \`balance_of\`(p bigint) RETURNS bigint(20)\nBEGIN\n  SET @x = 0, @@GLOBAL.general_log = 1;\n  RETURN 0;\nEND` })],
  [{ file: 'trigger-set-global.lrb', note: 'ledger_bi: SET NEW.Amount = 1, GLOBAL event_scheduler = ON', refused: ['ledger_bi'] }, withObject('ledger_bi', { create: `CREATE ${ROOT} TRIGGER \`ledger_bi\` BEFORE INSERT ON \`ledger\` FOR EACH ROW SET NEW.Amount = 1, GLOBAL event_scheduler = ON` })],
  [{ file: 'create-or-replace-database.lrb', note: `monthly_cleanup: CREATE OR REPLACE DATABASE ${OBJECTS_CANARY}`, refused: ['monthly_cleanup'] }, withObject('monthly_cleanup', { create: `CREATE ${ROOT} PROCEDURE \`monthly_cleanup\`()\nBEGIN\n  CREATE OR REPLACE DATABASE ${OBJECTS_CANARY};\nEND` })],
  [{ file: 'create-or-replace-user.lrb', note: `monthly_cleanup: CREATE OR REPLACE USER '${OBJECTS_ACCOUNT}'@'%'`, refused: ['monthly_cleanup'] }, withObject('monthly_cleanup', { create: `CREATE ${ROOT} PROCEDURE \`monthly_cleanup\`()\nBEGIN\n  CREATE OR REPLACE USER '${OBJECTS_ACCOUNT}'@'%' IDENTIFIED BY 'x';\nEND` })],
  [{ file: 'create-or-replace-role.lrb', note: 'rotate_logs: CREATE OR REPLACE ROLE', refused: ['rotate_logs'] }, rotate(`CREATE OR REPLACE ROLE ${OBJECTS_ACCOUNT}_role`)],
  [{ file: 'create-or-replace-server.lrb', note: 'rotate_logs: CREATE OR REPLACE SERVER (a FEDERATED link)', refused: ['rotate_logs'] }, rotate("CREATE OR REPLACE SERVER lr_objects_srv FOREIGN DATA WRAPPER mysql OPTIONS (HOST '127.0.0.1', USER 'root')")],
  [{ file: 'reset-master.lrb', note: 'rotate_logs: RESET MASTER', refused: ['rotate_logs'] }, rotate('RESET MASTER')],
  [{ file: 'start-all-slaves.lrb', note: 'rotate_logs: START ALL SLAVES', refused: ['rotate_logs'] }, rotate('START ALL SLAVES')],
  [{ file: 'stop-replica.lrb', note: 'rotate_logs: STOP REPLICA', refused: ['rotate_logs'] }, rotate('STOP REPLICA')],
  [{ file: 'purge-logs.lrb', note: "rotate_logs: PURGE BINARY LOGS BEFORE '2030-01-01'", refused: ['rotate_logs'] }, rotate("PURGE BINARY LOGS BEFORE '2030-01-01'")],
  [{ file: 'flush-privileges.lrb', note: 'the event: DO FLUSH PRIVILEGES', refused: ['nightly'] }, withObject('nightly', { create: `CREATE ${ROOT} EVENT \`nightly\` ON SCHEDULE EVERY 1 DAY ON COMPLETION PRESERVE ENABLE DO FLUSH PRIVILEGES` })],
  ...['POSTGRESQL', 'MSSQL', 'DB2', 'MAXDB', 'ansi'].map((mode): [ObjectVectorSpec, Payload] => [
    { file: `sqlmode-${mode.toLowerCase()}.lrb`, note: `rotate_logs under sql_mode ${mode}, which the server expands to ANSI_QUOTES: SELECT "\\" ; GRANT ALL ON *.* ... # " is a string to a lexer without it and a GRANT to the server`, refused: ['rotate_logs'] },
    withObject('rotate_logs', { create: hidden, sqlMode: mode }),
  ]),
  [{ file: 'sqlmode-oracle.lrb', note: 'rotate_logs under sql_mode ORACLE (another grammar for stored programs)', refused: ['rotate_logs'] }, withObject('rotate_logs', { sqlMode: 'ORACLE' })],
  [{ file: 'sqlmode-unknown.lrb', note: 'rotate_logs under sql_mode "STRICT_TRANS_TABLES,4" (a number is a bit mask to the server)', refused: ['rotate_logs'] }, withObject('rotate_logs', { sqlMode: 'STRICT_TRANS_TABLES,4' })],
  [{ file: 'charset-gbk.lrb', note: 'rotate_logs with characterSetClient gbk (a multi-byte character can swallow a backslash)', refused: ['rotate_logs'] }, withObject('rotate_logs', { characterSetClient: 'gbk', collationConnection: 'gbk_chinese_ci' })],
];

const specs: ObjectVectorSpec[] = [];
for (const [spec, payload] of VECTORS) {
  await writeFile(DIR + spec.file, await encrypt(await payloadBytes(payload)));
  specs.push(spec);
}
await writeFile(DIR + 'objects.json', JSON.stringify(specs, null, 2) + '\n');
console.log('| file | how it was made | refused objects |\n| --- | --- | --- |');
for (const s of specs) console.log(`| \`${s.file}\` | ${s.note.replace(/\|/g, '\\|')} | ${s.refused.join(', ') || 'none'} |`);
