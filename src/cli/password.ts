/**
 * Passwords come from a masked prompt, a file (--password-file) or the
 * environment (LASTRESORT_PASSWORD): never from the command line, where other
 * users of the machine could read them in the process list.
 */
import { readFile } from 'node:fs/promises';
import prompts from 'prompts';
import { LrError } from '../errors.js';
import { parseDsn, type Dsn } from '../db/dsn.js';
import { whoOpens } from '../format/header.js';
import type { LocatedHeader } from '../format/reader.js';
import { openBackup, type OpenedBackup } from '../decrypt/open.js';
import { safeText } from '../text.js';

export const PASSWORD_ENV = 'LASTRESORT_PASSWORD';
/** The database server's password (not the admin's backup password). */
export const DB_PASSWORD_ENV = 'LASTRESORT_DB_PASSWORD';

export interface PasswordSource {
  passwordFile?: string;
  /** Shown at the prompt, e.g. "Password of Open Dental admin jsmith". */
  prompt: string;
}

export async function readPasswordFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new LrError('LR_NO_FILE', `Cannot read the password file ${path}.`, { cause: err });
  }
  // One trailing newline is the file's, not the password's.
  return text.replace(/\r?\n$/, '');
}

export async function obtainPassword(src: PasswordSource): Promise<string> {
  if (src.passwordFile) return readPasswordFile(src.passwordFile);
  const fromEnv = process.env[PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (process.stdin.isTTY && process.stderr.isTTY) return promptPassword(src.prompt);
  throw new LrError('LR_NO_PASSWORD', `A password is needed. Give --password-file FILE or set ${PASSWORD_ENV}, or run this in a terminal to be asked.`);
}

export async function promptPassword(message: string): Promise<string> {
  let cancelled = false;
  const { password } = await prompts(
    { type: 'password', name: 'password', message, stdout: process.stderr },
    { onCancel: () => { cancelled = true; } },
  );
  if (cancelled || typeof password !== 'string') throw new LrError('LR_INTERRUPTED', 'Stopped: no password was entered.');
  return password;
}

const fromEnv = (name: string) => (process.env[name] === undefined || process.env[name] === '' ? undefined : process.env[name]);

/** The database server's password from --db-password-file, else LASTRESORT_DB_PASSWORD; undefined when neither is given. */
export async function obtainDbPassword(dbPasswordFile?: string): Promise<string | undefined> {
  return dbPasswordFile ? readPasswordFile(dbPasswordFile) : fromEnv(DB_PASSWORD_ENV);
}

/** A server address typed on the command line must not hold the password: others can read command lines. */
export function refusePasswordInDsn(dsn: Dsn, flag: string): void {
  if (dsn.password === '') return;
  throw new LrError('LR_BAD_DSN', `Leave the password out of ${flag}: other users of this computer can read command lines. Put it in a file and add --db-password-file FILE, or set ${DB_PASSWORD_ENV}.`);
}

/** `--source mysql://user@host/db` plus the password from a file or the environment. */
export async function dsnFromArgument(text: string, flag: string, dbPasswordFile?: string): Promise<Dsn> {
  const dsn = parseDsn(text);
  refusePasswordInDsn(dsn, flag);
  return { ...dsn, password: (await obtainDbPassword(dbPasswordFile)) ?? '' };
}

/**
 * The secret that opens a backup: the practice recovery code from
 * --recovery-code-file when given, else the admin's password as above.
 */
export async function obtainSecret(src: PasswordSource & { recoveryCodeFile?: string }): Promise<string | { recoveryCode: string }> {
  if (src.recoveryCodeFile) {
    try {
      return { recoveryCode: (await readFile(src.recoveryCodeFile, 'utf8')).trim() };
    } catch (err) {
      throw new LrError('LR_NO_FILE', `Cannot read the recovery code file ${src.recoveryCodeFile}.`, { cause: err });
    }
  }
  return obtainPassword(src);
}

/**
 * Opens a located backup with the secret of whoever the header names: the
 * recovery code from --recovery-code-file, else the password of that admin
 * (file, environment, or a prompt naming them). Wrong: LR_WRONG_PASSWORD.
 */
export async function unlockLocated(located: LocatedHeader, o: { passwordFile?: string; recoveryCodeFile?: string; onKeyDerivation?: () => void }): Promise<OpenedBackup> {
  const secret = await obtainSecret({ passwordFile: o.passwordFile, recoveryCodeFile: o.recoveryCodeFile, prompt: `Password of Open Dental admin ${safeText(whoOpens(located.header).userName, 60)}` });
  o.onKeyDerivation?.();
  return openBackup(located.source, secret, located);
}
