/**
 * Makes the hostile-payload vectors in this folder and hostile.json saying
 * how each was made and what a restore must do with it.
 *
 *   npx tsx test/vectors/hostile/make-hostile.ts
 *
 * Each file is a genuine backup as far as the key goes (the project's own
 * encrypting writer, the vectors' password and cheap KDF): what is hostile
 * is the payload, built here entry by entry with the project's tar writer
 * from a small two-table "clinic" database. One entry of the good payload
 * is replaced per vector: the kind of file a compromised or buggy producer
 * could make. The writer draws a fresh file key each run: commit the .lrb
 * files and hostile.json together.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ObjectDefinition } from '../../../src/archive/layout.js';
import { encrypt, payloadBytes, type Payload } from './payload.js';
import { CANARY, HOSTILE_ACCOUNT, OUTFILE, DATADIR, type HostileSpec } from './spec.js';

const DIR = fileURLToPath(new URL('.', import.meta.url));
const ESC_NAME = 'pat`ient\n\u001b[31mRED\u001b[0m\u0007';

const q = (name: string) => '`' + name.replace(/`/g, '``') + '`';
const patientCreate = (name = 'patient') =>
  `CREATE TABLE ${q(name)} (\n  \`PatNum\` bigint(20) NOT NULL AUTO_INCREMENT,\n  \`LName\` varchar(100) NOT NULL DEFAULT '',\n  PRIMARY KEY (\`PatNum\`),\n  KEY \`idx_lname\` (\`LName\`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`;
const appointmentCreate = `CREATE TABLE \`appointment\` (\n  \`AptNum\` bigint(20) NOT NULL AUTO_INCREMENT,\n  \`PatNum\` bigint(20) NOT NULL,\n  PRIMARY KEY (\`AptNum\`),\n  KEY \`idx_pat\` (\`PatNum\`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`;

function goodPayload(): Payload {
  const columns = (names: string[]) => names.map((name) => ({ name, dataType: 'bigint', encoding: 'text' as const }));
  return {
    tables: [
      { index: 1, name: 'patient', engine: 'InnoDB', columns: [...columns(['PatNum']), { name: 'LName', dataType: 'varchar', encoding: 'text' }], primaryKey: ['PatNum'], rowsEstimate: 2, create: patientCreate(), rows: '1\tSmith\n2\tJones\n' },
      { index: 2, name: 'appointment', engine: 'InnoDB', columns: columns(['AptNum', 'PatNum']), primaryKey: ['AptNum'], rowsEstimate: 2, create: appointmentCreate, rows: '1\t1\n2\t2\n' },
    ],
    objects: [
      { kind: 'view', name: 'patient_names', create: 'CREATE ALGORITHM=UNDEFINED DEFINER=`evil`@`%` SQL SECURITY DEFINER VIEW `patient_names` AS select `patient`.`LName` AS `LName` from `patient`', sqlMode: 'STRICT_TRANS_TABLES' },
      { kind: 'routine', type: 'PROCEDURE', name: 'count_patients', create: 'CREATE DEFINER=`evil`@`%` PROCEDURE `count_patients`(OUT n INT)\nBEGIN\n  DECLARE x INT DEFAULT 0;\n  SELECT COUNT(*) INTO x FROM patient;\n  SET n = x;\nEND', sqlMode: 'STRICT_TRANS_TABLES' },
      { kind: 'trigger', name: 'patient_bi', table: 'patient', create: "CREATE DEFINER=`evil`@`%` TRIGGER `patient_bi` BEFORE INSERT ON `patient` FOR EACH ROW SET NEW.LName = TRIM(NEW.LName)", sqlMode: 'STRICT_TRANS_TABLES' },
      { kind: 'event', name: 'tidy', create: "CREATE DEFINER=`evil`@`%` EVENT `tidy` ON SCHEDULE EVERY 1 DAY STARTS '2026-01-01 00:00:00' ON COMPLETION PRESERVE ENABLE DO DELETE FROM appointment WHERE AptNum < 0", sqlMode: 'STRICT_TRANS_TABLES' },
    ],
  };
}

function withTableCreate(create: string): Payload {
  const p = goodPayload();
  p.tables[0].create = create;
  return p;
}

function withObject(kind: ObjectDefinition['kind'], create: string): Payload {
  const p = goodPayload();
  const o = p.objects.find((x) => x.kind === kind)!;
  o.create = create;
  return p;
}

function withEscapedNames(): Payload {
  const p = goodPayload();
  p.tables[0].name = ESC_NAME;
  p.tables[0].create = patientCreate(ESC_NAME);
  p.objects = p.objects.filter((o) => o.kind !== 'view' && o.kind !== 'trigger');
  p.objects.push({ kind: 'view', name: `v${ESC_NAME}`, create: `CREATE ALGORITHM=UNDEFINED DEFINER=\`evil\`@\`%\` SQL SECURITY DEFINER VIEW ${q(`v${ESC_NAME}`)} AS select ${q(ESC_NAME)}.\`LName\` AS \`LName\` from ${q(ESC_NAME)}`, sqlMode: 'STRICT_TRANS_TABLES' });
  return p;
}

const drop = `DROP TABLE ${q(CANARY)}.\`t\``;
const VECTORS: [HostileSpec, Payload][] = [
  [{ file: 'good-payload.lrb', note: 'the good payload: two tables, a view, a procedure, a trigger and an enabled event, each with DEFINER `evil`@`%`', refused: [] }, goodPayload()],
  [{ file: 'table-drop-other.lrb', note: `patient's schema.sql and catalog create are "${drop}"`, refused: ['patient'] }, withTableCreate(drop)],
  [{ file: 'table-other-database.lrb', note: `patient's create names ${CANARY}.patient`, refused: ['patient'] }, withTableCreate(patientCreate().replace('CREATE TABLE `patient`', `CREATE TABLE ${q(CANARY)}.\`patient\``))],
  [{ file: 'table-second-statement.lrb', note: `patient's create is followed by "; ${drop}"`, refused: ['patient'] }, withTableCreate(`${patientCreate()}; ${drop}`)],
  [{ file: 'table-executable-comment.lrb', note: `patient's create ends with an executable comment "/*! ; ${drop} */"`, refused: ['patient'] }, withTableCreate(`${patientCreate()} /*! ; ${drop} */`)],
  [{ file: 'table-versioned-comment.lrb', note: `patient's create ends with "/*!50001 ; ${drop} */"`, refused: ['patient'] }, withTableCreate(`${patientCreate()} /*!50001 ; ${drop} */`)],
  [{ file: 'table-select-copy.lrb', note: `patient's create copies the canary: CREATE TABLE patient SELECT * FROM ${CANARY}.t`, refused: ['patient'] }, withTableCreate(`CREATE TABLE \`patient\` (\`PatNum\` int) SELECT * FROM ${q(CANARY)}.\`t\``)],
  [{ file: 'table-federated.lrb', note: 'patient is a FEDERATED table connecting to the canary', refused: ['patient'] }, withTableCreate(patientCreate().replace(/ENGINE=InnoDB.*$/, `ENGINE=FEDERATED CONNECTION='mysql://root@127.0.0.1:3306/${CANARY}/t'`))],
  [{ file: 'table-data-directory.lrb', note: `patient's create puts its files in ${DATADIR}`, refused: ['patient'] }, withTableCreate(`${patientCreate()} DATA DIRECTORY='${DATADIR}'`)],
  [{ file: 'routine-create-user.lrb', note: `the procedure entry is "CREATE USER '${HOSTILE_ACCOUNT}'@'%'"`, refused: ['count_patients'] }, withObject('routine', `CREATE USER '${HOSTILE_ACCOUNT}'@'%' IDENTIFIED BY 'x'`)],
  [{ file: 'routine-second-statement.lrb', note: `a one-line procedure followed by "; DROP DATABASE ${CANARY}"`, refused: ['count_patients'] }, withObject('routine', `CREATE DEFINER=\`root\`@\`localhost\` PROCEDURE \`count_patients\`() SELECT 1; DROP DATABASE ${q(CANARY)}`)],
  [{ file: 'routine-grant-in-body.lrb', note: 'a procedure whose body grants all privileges and runs dynamic SQL', refused: ['count_patients'] }, withObject('routine', `CREATE DEFINER=\`root\`@\`localhost\` PROCEDURE \`count_patients\`()\nBEGIN\n  GRANT ALL ON *.* TO '${HOSTILE_ACCOUNT}'@'%';\n  PREPARE s FROM 'DROP DATABASE ${CANARY}';\n  EXECUTE s;\nEND`)],
  [{ file: 'view-outfile.lrb', note: `a view whose body writes INTO OUTFILE '${OUTFILE}'`, refused: ['patient_names'] }, withObject('view', `CREATE ALGORITHM=UNDEFINED DEFINER=\`root\`@\`localhost\` SQL SECURITY DEFINER VIEW \`patient_names\` AS select * from patient INTO OUTFILE '${OUTFILE}'`)],
  [{ file: 'view-mysql-user.lrb', note: 'a DEFINER=root view over mysql.user', refused: ['patient_names'] }, withObject('view', 'CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`localhost` SQL SECURITY DEFINER VIEW `patient_names` AS select `mysql`.`user`.`User` AS `User` from `mysql`.`user`')],
  [{ file: 'trigger-other-database.lrb', note: `a trigger on ${CANARY}.t`, refused: ['patient_bi'] }, withObject('trigger', `CREATE DEFINER=\`root\`@\`localhost\` TRIGGER \`patient_bi\` BEFORE INSERT ON ${q(CANARY)}.\`t\` FOR EACH ROW SET NEW.a = 1`)],
  [{ file: 'event-drop-database.lrb', note: `an enabled event, DEFINER root, that drops ${CANARY} every day`, refused: ['tidy'] }, withObject('event', `CREATE DEFINER=\`root\`@\`localhost\` EVENT \`tidy\` ON SCHEDULE EVERY 1 DAY ON COMPLETION PRESERVE ENABLE DO DROP DATABASE ${q(CANARY)}`)],
  [{ file: 'names-with-escapes.lrb', note: 'the patient table and a view named with a backtick, a newline, ANSI colour escapes and BEL', refused: [] }, withEscapedNames()],
];

const specs: HostileSpec[] = [];
for (const [spec, payload] of VECTORS) {
  await writeFile(DIR + spec.file, await encrypt(await payloadBytes(payload)));
  specs.push(spec);
}
await writeFile(DIR + 'hostile.json', JSON.stringify(specs, null, 2) + '\n');
console.log('| file | how it was made | refused entries |\n| --- | --- | --- |');
for (const s of specs) console.log(`| \`${s.file}\` | ${s.note.replace(/\|/g, '\\|')} | ${s.refused.join(', ') || 'none'} |`);
