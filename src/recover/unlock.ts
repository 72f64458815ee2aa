/**
 * Step 2: whose password opens the backup, and up to three tries at it. The
 * key derivation takes a second or two on purpose (it is what makes guessing
 * slow), so a "working…" indicator shows that nothing is stuck.
 */
import { isLrError, LrError } from '../errors.js';
import type { LocatedHeader } from '../format/reader.js';
import { openBackup, whoOpens, type OpenedBackup } from '../decrypt/open.js';
import { humanDate, safeText } from '../text.js';
import { adminRecipients, recoveryRecipient } from '../format/header.js';
import { shortDate } from '../keys/choose.js';
import { cancelled, type Ask } from './ask.js';

export const PASSWORD_ATTEMPTS = 3;

/**
 * Said before the first try, so no try is spent on the Windows or the server
 * password: whose password, which one, as of when, and why only theirs.
 */
export function whosePassword(located: LocatedHeader): string {
  if (!located.header.admin) return 'This backup opens only with the practice recovery code: no admin had set up a backup key when it was made. The code is on the printed recovery page kept in the practice\'s safe.';
  const a = whoOpens(located.header);
  const user = safeText(a.userName, 60);
  const last = located.header.lastToLogOn;
  const why = last && last.userNum === a.userNum
    ? `${user} was the last admin to log on${a.lastLoginAt ? ` (on ${humanDate(a.lastLoginAt)})` : ''}`
    : `${user} is the admin who logged on most recently among those who set up a backup key`;
  const which = `the one ${user} types to log on to Open Dental, not a Windows password and not the database server's.`;
  const opens = passwordChanged(located)
    ? `This backup opens with ${user}'s Open Dental password ${asOfWhen(located)} (${user} has changed it since): ${which}`
    : `This backup opens only with ${user}'s Open Dental password: ${which} It must be the password ${asOfWhen(located)}.`;
  return `${opens} The backup was locked with it because ${why}: nobody else can open it, not even Open Dental support.`;
}

function passwordChanged(located: LocatedHeader): boolean {
  return adminRecipients(located.header)[0]?.passwordChangedSince === true;
}

/**
 * Which password, as of when: the day the admin set up the backup key when
 * they have changed their password since (the backup's own time would name
 * the one password that does not work), else the time the backup was made.
 * Every line that names the password uses this, so they never disagree.
 */
export function asOfWhen(located: LocatedHeader): string {
  const first = adminRecipients(located.header)[0];
  if (first && passwordChanged(located)) {
    return `as it was on ${shortDate(first.enrolledAt)}, when ${safeText(whoOpens(located.header).userName, 60)} set up the backup key`;
  }
  return `as it was on ${humanDate(located.header.createdAt)}, when the backup was made`;
}

/** A hint about the typed password's shape, never the password itself nor its length. */
export function spaceHint(password: string): string | null {
  return /^\s|\s$/u.test(password) ? 'It starts or ends with a space: Open Dental passwords rarely do; try it without.' : null;
}

export function nextStepsAfterWrongPasswords(located: LocatedHeader): string[] {
  const user = safeText(whoOpens(located.header).userName, 60);
  const since = passwordChanged(located)
    ? `${user} has changed it since: the older password is the one needed, not the one ${user} uses today.`
    : 'If they changed it since, the older password is the one needed.';
  return [
    'What to do next:',
    `  - Ask ${user} for their Open Dental password ${asOfWhen(located)}. ${since}`,
    '  - Check that Caps Lock is off and the keyboard is set to the usual language.',
    '  - Nobody else can open this file, not even Open Dental support: without that password it stays locked.',
    '    Support may have an older backup made while another admin was the last to log on.',
    '  - When you have the password, run lastresort recover again. Nothing was changed on any server.',
  ];
}

export interface UnlockOptions {
  /** From --password-file or LASTRESORT_PASSWORD: tried once, never asked again. */
  given?: string;
  /** From --recovery-code-file: the practice recovery code instead of a password. */
  givenRecoveryCode?: string;
  signal?: AbortSignal;
  attempts?: number;
}

export async function unlockBackup(ask: Ask, located: LocatedHeader, opts: UnlockOptions = {}): Promise<OpenedBackup> {
  const attempts = opts.attempts ?? PASSWORD_ATTEMPTS;
  const user = safeText(whoOpens(located.header).userName, 60);
  ask.say(whosePassword(located));

  const tryOne = async (password: string): Promise<OpenedBackup> => {
    const stop = ask.working('Checking the password (this takes a moment)…');
    try {
      return await openBackup(located.source, password, located);
    } finally {
      stop();
      if (opts.signal?.aborted) throw cancelled();
    }
  };

  if (opts.givenRecoveryCode !== undefined) return unlockWithRecoveryCode(ask, located, opts, opts.givenRecoveryCode);
  if (recoveryRecipient(located.header) && !opts.given) {
    const how = await ask.choose({
      message: 'How will you open it?',
      choices: [
        { value: 'password', title: `With ${user}'s password` },
        { value: 'code', title: "I don't have the password: use the practice recovery code" },
      ],
      flag: '--password-file FILE or --recovery-code-file FILE',
    });
    if (how === 'code') return unlockWithRecoveryCode(ask, located, opts);
  }

  if (opts.given !== undefined) {
    const opened = await tryOne(opts.given);
    ask.say('The password is right: the backup is open.');
    return opened;
  }

  let tries = 0;
  while (tries < attempts) {
    const password = await ask.secret({ message: `Password of ${user}`, flag: '--password-file FILE (or set LASTRESORT_PASSWORD)' });
    if (password === '') {
      ask.say('No password was typed. Type it, then press Enter (Ctrl-C to stop).');
      continue;
    }
    tries++;
    try {
      const opened = await tryOne(password);
      ask.say('The password is right: the backup is open.');
      return opened;
    } catch (err) {
      if (!isLrError(err, 'LR_WRONG_PASSWORD')) throw err;
      const left = attempts - tries;
      const hint = spaceHint(password);
      ask.say(left > 0
        ? `That password does not open this backup (try ${tries} of ${attempts}).${hint ? ` ${hint}` : ''} It must be ${user}'s Open Dental password ${asOfWhen(located)}. Check Caps Lock and try again.`
        : `That password does not open this backup either (try ${tries} of ${attempts}).${hint ? ` ${hint}` : ''}`);
    }
  }
  for (const line of nextStepsAfterWrongPasswords(located)) ask.say(line);
  throw new LrError('LR_WRONG_PASSWORD', `${attempts} passwords did not open the backup, so nothing was restored. Find ${user}'s password, then run lastresort recover again.`);
}

/** The recovery code from the practice safe, asked for until it is typed without a typo (a wrong code stops). */
async function unlockWithRecoveryCode(ask: Ask, located: LocatedHeader, opts: UnlockOptions, given?: string): Promise<OpenedBackup> {
  for (let tries = 0; ; tries++) {
    const code = given ?? (await ask.secret({ message: 'Recovery code (from the page in the practice safe)', flag: '--recovery-code-file FILE' }));
    try {
      const opened = await openBackup(located.source, { recoveryCode: code }, located);
      ask.say('The recovery code is right: the backup is open.');
      return opened;
    } catch (err) {
      if (given !== undefined || !isLrError(err, 'LR_RECOVERY_CODE_TYPO') || tries + 1 >= (opts.attempts ?? PASSWORD_ATTEMPTS)) throw err;
      ask.say(err.message);
    } finally {
      if (opts.signal?.aborted) throw cancelled();
    }
  }
}
