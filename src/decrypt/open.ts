/**
 * Opening a backup with a password: the shared first step of decrypt,
 * restore and validate. Wrong password = LR_WRONG_PASSWORD (exit 4), and
 * nothing has been written anywhere by then.
 */
import { LrError } from '../errors.js';
import { locateHeader, readPayload, unlockBackup, type DamageReport, type LocatedHeader, type Segment, type UnlockedBackup } from '../format/reader.js';
import { log } from '../log.js';
import { safeText } from '../cli/output.js';

export interface OpenedBackup {
  located: LocatedHeader;
  unlocked: UnlockedBackup;
}

export async function openBackup(path: string, password: string, located?: LocatedHeader): Promise<OpenedBackup> {
  const loc = located ?? (await locateHeader(path));
  const started = Date.now();
  const unlocked = await unlockBackup(loc, password);
  log('decrypt').debug({ ms: Date.now() - started, headerCopyUsed: loc.headerCopyUsed }, 'key derivation finished');
  if (!unlocked) {
    throw new LrError('LR_WRONG_PASSWORD', `That is not the password that opens this backup. It needs the password admin ${safeText(loc.header.admin.userName, 60)} had when the backup was made.`);
  }
  return { located: loc, unlocked };
}

export function payloadOf(opened: OpenedBackup): { segments: AsyncGenerator<Segment>; damage: DamageReport } {
  return readPayload(opened.unlocked);
}
