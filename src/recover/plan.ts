/**
 * Step 4: what is about to happen, said once, confirmed once. Also the exact
 * commands that repeat, resume or validate this recovery: they name the file
 * and the place but never hold a password.
 */
import { basename } from 'node:path';
import { describeDsn, formatDsn, type Dsn } from '../db/dsn.js';
import { connect } from '../db/connect.js';
import { selectRows } from '../db/query.js';
import type { LocatedHeader } from '../format/reader.js';
import type { CheckResult } from '../identify/check.js';
import { humanBytes, humanDate, safeText } from '../text.js';
import { cancelled, type Ask } from './ask.js';
import type { DatabaseChoice } from './database.js';
import type { Where } from './server.js';
import { shellQuote } from '../shell-quote.js';

export interface RecoveryPlan {
  located: LocatedHeader;
  check: CheckResult;
  where: Where;
  database: DatabaseChoice;
  reportDir: string;
  /** How the server password reaches a repeated command (never the password itself). */
  dbPasswordFile?: string;
}

export interface RecoverCommands {
  resume: string;
  validate: string;
  repeat: string;
  /** Said beside the commands when the server needs a password. */
  note?: string;
  /** The backup is a link: the commands say <LINK> (never the link, a key), to be run with a new link from support. */
  newLink?: boolean;
  /** Restored into the sandbox: how IT puts the database on the real server (Open Dental cannot use the sandbox). */
  toServer?: { again: string; create: string; copy: string };
}

/**
 * From the sandbox to the real server, with SERVER and USER for IT to fill
 * in: the backup restored again straight into it, or the sandbox's copy
 * dumped through its socket into a new database there (CREATE DATABASE
 * without IF NOT EXISTS, so an existing database of that name is never
 * written over).
 */
function toRealServer(plan: RecoveryPlan, file: string): RecoverCommands['toServer'] {
  if (plan.where.kind !== 'sandbox') return undefined;
  const name = plan.database.name;
  const mysql = plan.where.sandbox.connectCommand.startsWith('mysql ');
  const client = mysql ? 'mysql' : 'mariadb';
  const dump = mysql ? 'mysqldump' : 'mariadb-dump';
  const real = `${client} -h SERVER -u USER -p`;
  return {
    again: `lastresort recover ${file} --target mysql://USER@SERVER:3306 --report-dir ${shellQuote(plan.reportDir)}`,
    create: `${real} -e ${shellQuote(`CREATE DATABASE \`${name}\``)}`,
    copy: `${dump} --socket=${shellQuote(plan.where.sandbox.socket)} -uroot --single-transaction --routines --triggers --events ${shellQuote(name)} | ${real} ${shellQuote(name)}`,
  };
}

/** How a person is told to run a command: a link's needs a new link from support in place of <LINK>. */
export function runWords(c: { newLink?: boolean }): string {
  return c.newLink ? 'run, with a new link from support in place of <LINK>:' : 'run:';
}


/** "root@127.0.0.1:3306" or "the sandbox server in DIR": where, for a person. */
export function describeWhere(where: Where): string {
  return where.kind === 'sandbox' ? `the sandbox server in ${safeText(where.sandbox.dir, 120)}` : describeDsn({ ...where.dsn, database: '' });
}

export function recoverCommands(plan: RecoveryPlan): RecoverCommands {
  // A link read in place: its signature is a key and it may have expired by then, so it is never printed.
  const newLink = !plan.located.source.local && /^https?:\/\//i.test(plan.located.path);
  const file = newLink ? '<LINK>' : shellQuote(plan.located.path);
  const name = plan.database.name;
  const pw = plan.dbPasswordFile ? ` --db-password-file ${shellQuote(plan.dbPasswordFile)}` : '';
  const reports = ` --report-dir ${shellQuote(plan.reportDir)}`;
  if (plan.where.kind === 'sandbox') {
    const dir = plan.where.sandbox.dir;
    const socketDsn = `mysql://root@localhost/${encodeURIComponent(name)}?socket=${encodeURIComponent(plan.where.sandbox.socket)}`;
    return {
      resume: `lastresort recover ${file} --target ${shellQuote(`sandbox:${dir}`)} --database ${name} --resume${reports}`,
      repeat: `lastresort recover ${file} --target ${shellQuote(`sandbox:${dir}`)}${reports}`,
      validate: `lastresort validate ${file} --target ${shellQuote(socketDsn)}`,
      note: `The sandbox server must be running for the validate command: lastresort sandbox start ${shellQuote(dir)}`,
      toServer: toRealServer(plan, file),
      ...(newLink ? { newLink } : {}),
    };
  }
  const target = shellQuote(formatDsn({ ...plan.where.dsn, database: name }));
  const needsPassword = plan.where.dsn.password !== '' && !plan.dbPasswordFile;
  return {
    resume: `lastresort recover ${file} --target ${target}${pw} --resume${reports}`,
    repeat: `lastresort recover ${file} --target ${shellQuote(formatDsn({ ...plan.where.dsn, database: '' }))}${pw}${reports}`,
    validate: `lastresort validate ${file} --target ${target}${pw}`,
    note: needsPassword ? 'The server needs its password: set LASTRESORT_DB_PASSWORD (or add --db-password-file FILE) before these commands.' : undefined,
    ...(newLink ? { newLink } : {}),
  };
}

export function summaryLines(plan: RecoveryPlan): string[] {
  const h = plan.located.header;
  const whole = plan.check.partsChecked === false && plan.check.intact ? 'checked as it is restored' : plan.check.intact ? 'whole' : 'damaged: what can be read will be restored';
  const name = safeText(plan.database.name, 64);
  const into = plan.database.mode === 'resume'
    ? `${name} (continue the restore that was interrupted)`
    : plan.database.mode === 'replace'
      ? `${name} (DELETE its ${plan.database.tablesBefore} tables first, as you confirmed)`
      : `${name} (a new database)`;
  return [
    'Ready to restore:',
    `  Backup:   ${safeText(basename(plan.located.path), 80)}: database ${safeText(h.database, 64)}, made ${humanDate(h.createdAt)} (${humanBytes(plan.located.fileBytes)}, ${whole})`,
    `  Into:     ${into}`,
    `  On:       ${describeWhere(plan.where)}`,
    '  Then:     every table is compared with the backup, to prove the restore is right',
    `  Reports:  saved in ${safeText(plan.reportDir, 120)}`,
    plan.database.mode === 'replace'
      ? `Nothing changes until you say yes. The original database ${safeText(h.database, 64)} is not touched unless that is the one you chose to replace.`
      : plan.database.mode === 'resume'
        ? `Nothing changes until you say yes. Then the restore goes on in ${name}; no other database is touched.`
        : `Nothing changes until you say yes, and no existing database is touched.`,
  ];
}

/** The tables a database holds now, by name: counted at the moment they are named, not when it was chosen. */
export async function tablesIn(dsn: Dsn, name: string): Promise<string[]> {
  const conn = await connect({ ...dsn, database: '' }, { noDatabase: true });
  try {
    return (await selectRows<{ t: string }>(conn, 'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [name])).map((r) => r.t);
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

export async function confirmPlan(ask: Ask, plan: RecoveryPlan, yes: boolean): Promise<void> {
  // What a replace deletes is counted again now, just before the question, and named.
  const doomed = plan.database.mode === 'replace' ? await tablesIn(plan.where.dsn, plan.database.name) : [];
  if (plan.database.mode === 'replace') plan.database.tablesBefore = doomed.length;
  for (const line of summaryLines(plan)) ask.say(line);
  if (yes) return;
  if (plan.database.mode === 'replace') {
    const shown = doomed.slice(0, 10).map((t) => safeText(t, 40)).join(', ') + (doomed.length > 10 ? ` and ${doomed.length - 10} more` : '');
    ask.say(`Deleted first from ${safeText(plan.database.name, 64)}, with all their rows: ${shown || 'no tables (the database is empty)'}.`);
  }
  // A question that deletes data defaults to No: Enter alone never deletes.
  const n = plan.database.tablesBefore;
  const message = plan.database.mode === 'replace' ? `Delete ${n === 1 ? 'that table' : `those ${n} tables`} and restore?` : 'Start the restore?';
  const go = await ask.confirm({ message, initial: plan.database.mode !== 'replace', flag: '--yes' });
  if (!go) throw cancelled();
}
