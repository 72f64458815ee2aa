/**
 * The `recover` command's action: reads passwords from files or the
 * environment (never argv), picks the terminal or the script conversation,
 * turns Ctrl-C into a clean stop, and prints the result.
 */
import { liveWidth } from '../cli/progress.js';
import { isLrError, LrError } from '../errors.js';
import { PASSWORD_ENV, obtainDbPassword, readPasswordFile } from '../cli/password.js';
import { printJson, say, setResultCode } from '../cli/output.js';
import { onInterrupt } from '../cli/interrupt.js';
import { scriptAsk, terminalAsk, type Ask } from './ask.js';
import { recover } from './wizard.js';
import { resultLines } from './result.js';
import type { LastWords } from './run.js';

export interface RecoverCliOptions {
  target?: string;
  host?: string;
  port?: number;
  user?: string;
  dbPasswordFile?: string;
  ssl?: boolean;
  sslCa?: string;
  database?: string;
  passwordFile?: string;
  recoveryCodeFile?: string;
  reportDir?: string;
  yes?: boolean;
  resume?: boolean;
  json?: boolean;
}

const fromEnv = (name: string) => (process.env[name] === undefined || process.env[name] === '' ? undefined : process.env[name]);

/** When the wizard ends on an error before any report: the last line (the error) says what went wrong. */
function failedSteps(): string[] {
  return [
    '',
    'What to do next:',
    '  - Nothing was restored. The last line below says what went wrong: fix that, or show it to IT.',
    '  - Then run lastresort recover again. For support, add --log-file FILE to keep the detail.',
  ];
}

export async function recoverCommand(file: string | undefined, o: RecoverCliOptions): Promise<void> {
  const interactive = !!process.stdin.isTTY && !!process.stderr.isTTY;
  if (!interactive && !o.yes) {
    throw new LrError('LR_USAGE', 'recover asks questions, and there is no terminal here. From a script, add --yes and give the answers as flags (see lastresort recover --help).');
  }
  const password = o.passwordFile ? await readPasswordFile(o.passwordFile) : fromEnv(PASSWORD_ENV);
  const recoveryCode = o.recoveryCodeFile ? (await readPasswordFile(o.recoveryCodeFile)).trim() : undefined;
  const dbPassword = await obtainDbPassword(o.dbPasswordFile);
  const controller = new AbortController();
  const ask: Ask = { ...(interactive ? terminalAsk() : scriptAsk(process.stderr, { quiet: o.json })), signal: controller.signal };

  let lastWords: LastWords | null = null;
  let quitting = false;
  // Kept until the process ends: a second Ctrl-C at any point still gets its last words.
  onInterrupt(() => controller.abort(), async () => {
    quitting = true;
    if (lastWords) await lastWords();
    else ask.say('Stopped: nothing was restored and nothing on the server was changed.');
  });
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
      ssl: o.ssl || o.sslCa ? (o.sslCa ? { ca: o.sslCa } : {}) : undefined,
      database: o.database,
      password,
      recoveryCode,
      reportDir: o.reportDir ?? process.cwd(),
      yes: o.yes,
      resume: o.resume,
      signal: controller.signal,
      setLastWords: (words) => {
        lastWords = words;
      },
    });
  } catch (err) {
    if (!isLrError(err, 'LR_INTERRUPTED') && !isLrError(err, 'LR_WRONG_PASSWORD')) for (const line of failedSteps()) ask.say(line);
    throw err;
  } finally {
    // prompts leaves stdin open; it must not keep the process alive.
    if (process.stdin.isTTY) process.stdin.pause();
  }
  // A second Ctrl-C already saying the result (and about to exit): say nothing twice.
  if (quitting) return new Promise<void>(() => {});
  const { report, saved, others, stopped } = outcome;
  const ending = (async () => {
    if (o.json) printJson({ ...report, reports: saved });
    // On a terminal the wizard's own output wraps lines at words; a script reads the plain lines on stdout.
    for (const line of resultLines(report, saved, others, liveWidth(process.stderr))) (o.json || interactive ? ask.say : say)(line);
  })();
  lastWords = () => ending;
  await ending;
  if (stopped) throw stopped;
  setResultCode(report.exitCode);
}
