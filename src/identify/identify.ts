import { locateHeader } from '../format/reader.js';
import { adminRecipients, type AdminIdentity, type BackupHeader, type MomentFacts } from '../format/header.js';
import type { KdfParams } from '../keys/crypto.js';
import { sizesFromHeads, type PayloadSizes } from './sizes.js';

export type IdentityRecipient =
  | { kind: 'admin'; userNum: number; userName: string; enrolledAt: string; passwordChangedSince: boolean }
  | { kind: 'recovery'; createdAt: string; fingerprint: string };

/** What anyone may know about a backup: the cleartext header, minus the key material. Not yet authenticated. */
export type Identity = Pick<BackupHeader, 'format' | 'formatVersion' | 'createdAt' | 'database' | 'serverVersion' | 'producerVersion' | 'cipher' | 'chunkSize' | 'signedBy'> & {
  /** The admin whose password opens the file; null when only the recovery code does. */
  admin: AdminIdentity | null;
  /** The last admin to log on when the backup was made (when not `admin`, they had no usable key). */
  lastToLogOn: AdminIdentity | null;
  recipients: IdentityRecipient[];
  /** The admin recipient's key derivation (null for a recovery-code-only file). */
  kdf: Omit<KdfParams, 'salt'> | null;
  fileBytes: number;
  headerCopyUsed: boolean;
  /** File, compressed and uncompressed sizes from the chunk heads (cleartext; exact or estimated, as it says); null for a file in the store. */
  sizes: PayloadSizes | null;
  /** Whether the file is one moment of the database; null in files made before it was recorded. */
  moment: MomentFacts | null;
};

const personOf = (a: AdminIdentity | null) => (a ? { userNum: a.userNum, userName: a.userName, lastLoginAt: a.lastLoginAt } : null);

/** Who can open the file and what it is: reads only the header, needs no password. */
export async function identify(path: string): Promise<Identity> {
  const located = await locateHeader(path);
  return identityOf(located.header, located.fileBytes, located.headerCopyUsed, await sizesFromHeads(located));
}

/** The same facts from a header read elsewhere (a ranged read from the store). */
export function identityOf(h: BackupHeader, fileBytes: number, headerCopyUsed: boolean, sizes: PayloadSizes | null = null): Identity {
  const first = adminRecipients(h)[0];
  return {
    format: 'lastresort-backup',
    formatVersion: h.formatVersion,
    createdAt: h.createdAt,
    database: h.database,
    serverVersion: h.serverVersion,
    producerVersion: h.producerVersion,
    admin: personOf(h.admin),
    lastToLogOn: personOf(h.lastToLogOn),
    recipients: h.recipients.map((r) =>
      r.kind === 'admin'
        ? { kind: 'admin', userNum: r.userNum, userName: r.userName, enrolledAt: r.enrolledAt, passwordChangedSince: r.passwordChangedSince }
        : { kind: 'recovery', createdAt: r.createdAt, fingerprint: r.fingerprint },
    ),
    signedBy: h.signedBy,
    cipher: h.cipher,
    kdf: first ? { algorithm: first.kdf.algorithm, memoryKiB: first.kdf.memoryKiB, iterations: first.kdf.iterations, parallelism: first.kdf.parallelism } : null,
    chunkSize: h.chunkSize,
    fileBytes,
    headerCopyUsed,
    sizes,
    moment: h.moment ?? null,
  };
}
