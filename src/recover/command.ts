/**
 * The `recover` command's action: reads passwords from files or the
 * environment (never argv), picks the terminal or the script conversation,
 * turns Ctrl-C into a clean stop, and prints the result.
 */
import { LrError } from '../errors.js';
import { PASSWORD_ENV, readPasswordFile } from '../cli/password.js';
import { printJson, say, setResultCode } from '../cli/output.js';
import { onInterrupt } from '../cli/interrupt.js';
import { scriptAsk, terminalAsk } from './ask.js';
import { recover } from './wizard.js';
import { resultLines } from './result.js';

export const DB_PASSWORD_ENV = 'LASTRESORT_DB_PASSWORD';

export interface RecoverCliOptions {
  target?: string;
  host?: string;
  port?: number;
  user?: string;
  dbPasswordFile?: string;
  database?: string;
  passwordFile?: string;
  recoveryCodeFile?: string;
  reportDir?: string;
  yes?: boolean;
  resume?: boolean;
  json?: boolean;
}

const fromEnv = (name: string) => (process.env[name] === undefined || process.env[name] === '' ? undefined : process.env[name]);

export async function recoverCommand(file: string | undefined, o: RecoverCliOptions): Promise<void> {
  const interactive = !!process.stdin.isTTY && !!process.stderr.isTTY;
  if (!interactive && !o.yes) {
    throw new LrError('LR_USAGE', 'recover asks questions, and there is no terminal here. From a script, add --yes and give the answers as flags (see lastresort recover --help).');
  }
  const password = o.passwordFile ? await readPasswordFile(o.passwordFile) : fromEnv(PASSWORD_ENV);
  const recoveryCode = o.recoveryCodeFile ? (await readPasswordFile(o.recoveryCodeFile)).trim() : undefined;
  const dbPassword = o.dbPasswordFile ? await readPasswordFile(o.dbPasswordFile) : fromEnv(DB_PASSWORD_ENV);
  const ask = interactive ? terminalAsk() : scriptAsk(process.stderr, { quiet: o.json });

  const controller = new AbortController();
  const release = onInterrupt(() => controller.abort());
  let outcome;
  try {
    outcome = await recover(ask, {
      file,
      cwd: process.cwd(),
      target: o.target,
      host: o.host,
      port: o.port,
      user: o.user,
      dbPassword,
      dbPasswordFile: o.dbPasswordFile,
      database: o.database,
      password,
      recoveryCode,
      reportDir: o.reportDir ?? process.cwd(),
      yes: o.yes,
      resume: o.resume,
      signal: controller.signal,
    });
  } finally {
    release();
    // prompts leaves stdin open; it must not keep the process alive.
    if (process.stdin.isTTY) process.stdin.pause();
  }
  const { report, saved, stopped } = outcome;
  if (o.json) printJson({ ...report, reports: saved });
  const lines = resultLines(report, saved);
  for (const line of lines) (o.json ? ask.say : say)(line);
  if (stopped) throw stopped;
  setResultCode(report.exitCode);
}
