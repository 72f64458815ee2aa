/**
 * The payload of progress-name.lrb, shared by make-progress-name.ts and the
 * test that restores it (test/restore/progress-name.test.ts), which builds
 * the same tables in a source database to compare the restore with.
 */
import type { Payload } from '../hostile/payload.js';

export const VECTOR_FILE = 'progress-name.lrb';
/** The tables whose names are the restore's progress table, in two cases: refused, never created. */
export const REFUSED_TABLES = ['_lastresort_restore', '_LastResort_Restore'];
/** The objects refused with them: a view of the same name in a third case, and a trigger on one of them. */
export const REFUSED_OBJECTS = ['_LASTRESORT_RESTORE', 'progress_bi'];

const ROOT = 'DEFINER=`root`@`localhost`';
const MODE = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION';
const text = (name: string) => ({ name, dataType: 'varchar', encoding: 'text' as const });
const num = (name: string) => ({ name, dataType: 'bigint', encoding: 'text' as const });

export function progressNamePayload(): Payload {
  return {
    tables: [
      { index: 1, name: 'patient', engine: 'InnoDB', columns: [num('PatNum'), text('LName')], primaryKey: ['PatNum'], rowsEstimate: 3, rows: '1\tSmith\n2\tJones\n3\tNguyen\n', create: "CREATE TABLE `patient` (\n  `PatNum` bigint(20) NOT NULL AUTO_INCREMENT,\n  `LName` varchar(100) NOT NULL DEFAULT '',\n  PRIMARY KEY (`PatNum`),\n  KEY `idx_lname` (`LName`)\n) ENGINE=InnoDB AUTO_INCREMENT=4 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci" },
      // Shaped like the progress table, with rows saying every piece of every table is already in:
      // taken for the restore's own record, they would make it skip the real rows.
      { index: 2, name: '_lastresort_restore', engine: 'InnoDB', columns: [text('item'), num('value'), text('note')], primaryKey: ['item'], rowsEstimate: 4, rows: 'backup\t0\tforged\nt:1:created\t0\t\nt:1:p:0\t3\t\nt:3:p:0\t2\t\n', create: "CREATE TABLE `_lastresort_restore` (\n  `item` varchar(64) NOT NULL,\n  `value` bigint(20) NOT NULL DEFAULT 0,\n  `note` varchar(255) NOT NULL DEFAULT '',\n  PRIMARY KEY (`item`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci" },
      { index: 3, name: 'ledger', engine: 'MyISAM', columns: [num('LedgerNum'), num('PatNum'), num('Amount')], primaryKey: ['LedgerNum'], rowsEstimate: 2, rows: '1\t1\t50\n2\t3\t75\n', create: 'CREATE TABLE `ledger` (\n  `LedgerNum` bigint(20) NOT NULL AUTO_INCREMENT,\n  `PatNum` bigint(20) NOT NULL,\n  `Amount` bigint(20) NOT NULL,\n  PRIMARY KEY (`LedgerNum`),\n  KEY `idx_pat` (`PatNum`)\n) ENGINE=MyISAM AUTO_INCREMENT=3 DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci' },
      { index: 4, name: '_LastResort_Restore', engine: 'MyISAM', columns: [num('a')], primaryKey: ['a'], rowsEstimate: 1, rows: '1\n', create: 'CREATE TABLE `_LastResort_Restore` (\n  `a` bigint(20) NOT NULL,\n  PRIMARY KEY (`a`)\n) ENGINE=MyISAM DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci' },
    ],
    objects: [
      { kind: 'view', name: 'patient_names', sqlMode: MODE, create: `CREATE ALGORITHM=UNDEFINED ${ROOT} SQL SECURITY DEFINER VIEW \`patient_names\` AS select \`patient\`.\`LName\` AS \`LName\` from \`patient\`` },
      { kind: 'view', name: '_LASTRESORT_RESTORE', sqlMode: MODE, create: `CREATE ALGORITHM=UNDEFINED ${ROOT} SQL SECURITY DEFINER VIEW \`_LASTRESORT_RESTORE\` AS select \`ledger\`.\`Amount\` AS \`Amount\` from \`ledger\`` },
      { kind: 'trigger', name: 'progress_bi', table: '_lastresort_restore', sqlMode: MODE, create: `CREATE ${ROOT} TRIGGER \`progress_bi\` BEFORE INSERT ON \`_lastresort_restore\` FOR EACH ROW SET NEW.value = 0` },
      { kind: 'trigger', name: 'ledger_bi', table: 'ledger', sqlMode: MODE, create: `CREATE ${ROOT} TRIGGER \`ledger_bi\` BEFORE INSERT ON \`ledger\` FOR EACH ROW SET NEW.Amount = ABS(NEW.Amount)` },
    ],
  };
}
