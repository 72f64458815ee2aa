import { LrError } from '../errors.js';
import { connect } from '../db/connect.js';
import type { Dsn } from '../db/dsn.js';
import { log } from '../log.js';
import { findUser } from '../backup/last-admin.js';
import { createSealedKey, DEFAULT_KDF } from './crypto.js';
import { passwordFingerprint, saveKey } from './keyring.js';
import { verifyOpenDentalPassword } from './opendental-password.js';

export interface EnrollOptions {
  source: Dsn;
  userName: string;
  password: string;
  /** Cheaper parameters are for tests only; the CLI says so where it offers them. */
  kdf?: { memoryKiB: number; iterations: number; parallelism: number };
}

export interface EnrollResult {
  userNum: number;
  userName: string;
  publicKey: string;
  kdf: { memoryKiB: number; iterations: number; parallelism: number };
}

/**
 * Checks the admin's password against Open Dental's own hash, then stores a
 * new key pair whose private half only that password opens.
 */
export async function enrollAdmin(opts: EnrollOptions): Promise<EnrollResult> {
  const conn = await connect(opts.source);
  try {
    const user = await findUser(conn, opts.userName);
    if (!user) throw new LrError('LR_NOT_ADMIN', `There is no active Open Dental user named ${JSON.stringify(opts.userName)}. Check the spelling.`);
    if (!user.isAdmin) throw new LrError('LR_NOT_ADMIN', `${user.userName} is not a security admin, so backups cannot be opened with their password. Enroll an admin instead.`);
    if (user.storedPassword === '') throw new LrError('LR_ADMIN_NO_PASSWORD', `${user.userName} has no password in Open Dental. Set a password for them first, then enroll again.`);
    if (!verifyOpenDentalPassword(user.storedPassword, opts.password)) {
      throw new LrError('LR_WRONG_PASSWORD', `That is not ${user.userName}'s Open Dental password. Nothing was changed; try again.`);
    }
    const params = opts.kdf ?? DEFAULT_KDF;
    const key = await createSealedKey(opts.password, params);
    await saveKey(conn, { userNum: user.userNum, userName: user.userName, key, passwordFingerprint: passwordFingerprint(user.storedPassword), enrolledAt: new Date().toISOString() });
    log('keys').info({ userNum: user.userNum, memoryKiB: params.memoryKiB, iterations: params.iterations }, 'admin key enrolled');
    return { userNum: user.userNum, userName: user.userName, publicKey: key.publicKey, kdf: { memoryKiB: params.memoryKiB, iterations: params.iterations, parallelism: params.parallelism } };
  } finally {
    await conn.end().catch(() => {});
  }
}
