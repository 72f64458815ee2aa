import { FORMAT_VERSION } from '../format/limits.js';
import { locateHeader } from '../format/reader.js';
import type { BackupHeader } from '../format/header.js';
import type { KdfParams } from '../keys/crypto.js';

/** What anyone may know about a backup: the cleartext header, minus the key material. */
export type Identity = Pick<BackupHeader, 'format' | 'formatVersion' | 'createdAt' | 'database' | 'serverVersion' | 'producerVersion' | 'admin' | 'cipher' | 'chunkSize'> & {
  kdf: Omit<KdfParams, 'salt'>;
  fileBytes: number;
  headerCopyUsed: boolean;
};

/** Who can open the file and what it is: reads only the header, needs no password. */
export async function identify(path: string): Promise<Identity> {
  const located = await locateHeader(path);
  return identityOf(located.header, located.fileBytes, located.headerCopyUsed);
}

/** The same facts from a header read elsewhere (a ranged read from the store). */
export function identityOf(h: BackupHeader, fileBytes: number, headerCopyUsed: boolean): Identity {
  return {
    format: 'lastresort-backup',
    formatVersion: FORMAT_VERSION,
    createdAt: h.createdAt,
    database: h.database,
    serverVersion: h.serverVersion,
    producerVersion: h.producerVersion,
    admin: { userNum: h.admin.userNum, userName: h.admin.userName, lastLoginAt: h.admin.lastLoginAt },
    cipher: h.cipher,
    kdf: { algorithm: h.kdf.algorithm, memoryKiB: h.kdf.memoryKiB, iterations: h.kdf.iterations, parallelism: h.kdf.parallelism },
    chunkSize: h.chunkSize,
    fileBytes,
    headerCopyUsed,
  };
}
