/**
 * Opening a backup with a password or the practice recovery code: the
 * shared first step of decrypt, restore and validate. Wrong password =
 * LR_WRONG_PASSWORD (exit 4); a file the practice's producer did not sign =
 * LR_NOT_AUTHENTIC (exit 5). Nothing has been written anywhere by then.
 */
import { LrError } from '../errors.js';
import { whoOpens } from '../format/header.js';
import { locateHeader, readPayload, unlockBackup, type ByteSource, type DamageReport, type LocatedHeader, type Secret, type Segment, type UnlockedBackup } from '../format/reader.js';
import { log } from '../log.js';
import { safeText } from '../text.js';

export type { Secret };

export interface OpenedBackup {
  located: LocatedHeader;
  unlocked: UnlockedBackup;
}

export async function openBackup(path: string | ByteSource, secret: Secret, located?: LocatedHeader): Promise<OpenedBackup> {
  const loc = located ?? (await locateHeader(path));
  const started = Date.now();
  const unlocked = await unlockBackup(loc, secret);
  log('decrypt').debug({ ms: Date.now() - started, headerCopyUsed: loc.headerCopyUsed, with: typeof secret === 'string' ? 'password' : 'recovery code' }, 'key derivation finished');
  if (!unlocked) {
    const admin = loc.header.admin;
    throw new LrError('LR_WRONG_PASSWORD', admin ? `That is not the password that opens this backup. It needs the password admin ${safeText(admin.userName, 60)} had when the backup was made.` : `This backup opens only with the practice recovery code (no admin was enrolled when it was made). Use --recovery-code-file.`);
  }
  return { located: loc, unlocked };
}

export { whoOpens };

export function payloadOf(opened: OpenedBackup): { segments: AsyncGenerator<Segment>; damage: DamageReport } {
  return readPayload(opened.unlocked);
}
