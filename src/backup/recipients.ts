/**
 * From the producer's choice (keys/choose.ts) to what the writer needs:
 * the admin recipient and its pinned key, the recovery key, and the
 * problems to report. Refuses only when nobody at all could open the file.
 */
import { LrError } from '../errors.js';
import { log } from '../log.js';
import type { AdminIdentity } from '../format/header.js';
import type { WriterOptions } from '../format/writer.js';
import type { KeyProblem, RecipientChoice } from '../keys/choose.js';
import type { ProducerStore, RecoveryPin } from '../keys/producer.js';

export interface PickedRecipients {
  identity: AdminIdentity | null;
  keyStale: boolean;
  problems: KeyProblem[];
  writer: Pick<WriterOptions, 'admin' | 'key' | 'enrolledAt' | 'passwordChangedSince' | 'lastToLogOn'> & { recovery: RecoveryPin | null };
  /** Call once the backup is written: remembers tonight's admin for tomorrow's log line. */
  remember: () => Promise<void>;
}

export function pickRecipients(store: ProducerStore, choice: RecipientChoice, database: string): PickedRecipients {
  const logger = log('backup');
  const { chosen, lastAdmin, recovery, problems } = choice;
  if (!chosen && !recovery) {
    if (!lastAdmin) throw new LrError('LR_NO_ADMIN', 'No Open Dental user has the Security Admin permission, so no one could open a backup. Give an admin the permission, then enroll them.');
    const problem = problems.find((p) => p.userName === lastAdmin.admin.userName && (p.code === 'ADMIN_NO_PASSWORD' || p.code === 'ADMIN_NOT_ENROLLED'));
    const message = problems.find((p) => p.code === 'PRODUCER_KEY_REPLACED')?.message ?? problem?.message ?? `No admin has set up a backup key on this server. ${lastAdmin.admin.userName} must run: lastresort keys enroll --user ${lastAdmin.admin.userName}`;
    throw new LrError(lastAdmin.state === 'no-password' ? 'LR_ADMIN_NO_PASSWORD' : 'LR_ADMIN_NOT_ENROLLED', message);
  }
  for (const p of problems) logger.warn({ alert: p.code, user: p.userName }, p.message);
  for (const s of choice.admins) if (s.admin.futureLoginIgnored) logger.warn({ user: s.admin.userName }, 'DateTLastLogin lies in the future; ignored when choosing the admin');

  const toIdentity = (a: { userNum: number; userName: string; lastLoginAt: string | null }): AdminIdentity => ({ userNum: a.userNum, userName: a.userName, lastLoginAt: a.lastLoginAt });
  const identity = chosen ? toIdentity(chosen.admin) : null;
  const previous = store.pins(database).lastAdmin;
  const tonight = chosen?.admin.userNum ?? null;
  if (previous !== null && previous !== tonight) {
    const before = choice.admins.find((s) => s.admin.userNum === previous)?.admin.userName ?? `user #${previous}`;
    logger.info({ previous: before, tonight: identity?.userName ?? '(recovery code only)' }, `tonight's backup opens with a different admin's password than last night's (${before} then, ${identity?.userName ?? 'the recovery code only'} now)`);
  }
  const pin = chosen?.pin ?? undefined;
  return {
    identity,
    keyStale: chosen?.state === 'stale',
    problems,
    writer: {
      admin: identity,
      key: pin ? { algorithm: 'x25519', publicKey: pin.publicKey, sealedPrivateKey: pin.sealedPrivateKey, kdf: pin.kdf } : undefined,
      enrolledAt: pin?.enrolledAt,
      passwordChangedSince: chosen?.state === 'stale',
      lastToLogOn: lastAdmin ? toIdentity(lastAdmin.admin) : null,
      recovery,
    },
    remember: async () => {
      if (previous !== tonight) await store.update(database, (p) => void (p.lastAdmin = tonight));
    },
  };
}
