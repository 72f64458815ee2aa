/**
 * `lastresort recover`: from a backup file to a restored, verified database,
 * for a person who is not a database administrator, on a bad day.
 *
 *   find the file -> say what it is (and check it) -> whose password, 3 tries
 *   -> where to restore (server or sandbox) -> database name (never over one
 *   that has tables unless its name is typed again) -> summary, one "yes"
 *   -> restore with progress -> validation -> result in plain words + reports
 *
 * Each step is its own function taking `Ask`; this file only strings them
 * together. Nothing is written anywhere before the "yes".
 */
import { LrError } from '../errors.js';
import { stopSandbox } from '../sandbox/index.js';
import { log } from '../log.js';
import type { SavedReports } from '../report/files.js';
import type { RecoverReport } from '../report/recover-report.js';
import { cancelled, type Ask } from './ask.js';
import { checkBackup, describeBackup, findBackup } from './find-backup.js';
import { unlockBackup } from './unlock.js';
import { chooseServer } from './server.js';
import type { DsnTls } from '../db/dsn.js';
import { chooseDatabase, serverInspector } from './database.js';
import { confirmPlan, describeWhere, type RecoveryPlan } from './plan.js';
import { runRecovery, type LastWords } from './run.js';

export interface RecoverOptions {
  file?: string;
  cwd: string;
  target?: string;
  host?: string;
  port?: number;
  user?: string;
  /** Server password from --db-password-file or LASTRESORT_DB_PASSWORD. */
  dbPassword?: string;
  dbPasswordFile?: string;
  /** --ssl / --ssl-ca for a server given by --host or the questions. */
  ssl?: DsnTls;
  database?: string;
  /** Backup password from --password-file or LASTRESORT_PASSWORD; asked for otherwise. */
  password?: string;
  /** The practice recovery code from --recovery-code-file, instead of the password. */
  recoveryCode?: string;
  reportDir: string;
  yes?: boolean;
  resume?: boolean;
  signal: AbortSignal;
  /** Receives what to do on a second Ctrl-C while the restore or its check runs (null outside them). */
  setLastWords?: (words: LastWords | null) => void;
}

export interface RecoverOutcome {
  report: RecoverReport;
  saved: SavedReports;
  /** Other .lrb files beside the backup, newest first. */
  others: string[];
  /** The restore did not finish: end with this error once the result is shown. */
  stopped?: LrError;
}

export async function recover(ask: Ask, o: RecoverOptions): Promise<RecoverOutcome> {
  const checkpoint = () => {
    if (o.signal.aborted) throw cancelled();
  };
  const located = await findBackup(ask, { file: o.file, cwd: o.cwd });
  checkpoint();
  const check = await checkBackup(ask, located, o.signal);
  for (const line of describeBackup(located, check)) ask.say(line);
  checkpoint();
  const opened = await unlockBackup(ask, located, { given: o.password, givenRecoveryCode: o.recoveryCode, signal: o.signal });
  checkpoint();

  const { where, database: fromTarget } = await chooseServer(ask, { target: o.target, host: o.host, port: o.port, user: o.user, dbPassword: o.dbPassword, ssl: o.ssl, yes: o.yes, cwd: o.cwd });
  let plan: RecoveryPlan;
  try {
    if (o.database !== undefined && fromTarget !== undefined && o.database !== fromTarget) {
      throw new LrError('LR_USAGE', `--target names the database ${fromTarget} but --database says ${o.database}: give only one.`);
    }
    checkpoint();
    const database = await chooseDatabase(ask, { given: o.database ?? fromTarget, resume: o.resume, yes: o.yes, header: located.header, where: describeWhere(where) }, serverInspector(where.dsn));
    plan = { located, check, where, database, reportDir: o.reportDir, dbPasswordFile: o.dbPasswordFile };
    await confirmPlan(ask, plan, !!o.yes);
    checkpoint();
  } catch (err) {
    // Leave nothing behind that this run started: a sandbox it started is stopped again (its folder stays).
    if (where.kind === 'sandbox' && !where.sandbox.reused) {
      await stopSandbox(where.sandbox.dir).catch((e) => log('recover').warn({ err: (e as Error).message }, 'could not stop the sandbox'));
    }
    throw err;
  }

  const run = await runRecovery(ask, plan, opened, o.signal, o.setLastWords);
  return { report: run.report, saved: run.saved, others: run.others, stopped: run.stopped };
}
