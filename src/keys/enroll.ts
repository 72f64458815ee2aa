import { LrError } from '../errors.js';
import { connect } from '../db/connect.js';
import type { Dsn } from '../db/dsn.js';
import { log } from '../log.js';
import { findUser } from '../opendental/last-admin.js';
import { createSealedKey, DEFAULT_KDF, keyedPasswordFingerprint, type KdfCost } from './crypto.js';
import { saveKey } from './keyring.js';
import { openProducerStore, weakerThan, type PinnedKey } from './producer.js';
import { verifyOpenDentalPassword } from '../opendental/password.js';

export interface EnrollOptions {
  source: Dsn;
  userName: string;
  password: string;
  /** Cheaper parameters are for tests only; the CLI says so where it offers them. */
  kdf?: KdfCost;
  /** The producer's key file (default: beside the service settings, or LASTRESORT_PRODUCER_KEY). */
  producerKeyFile?: string;
}

export interface EnrollResult {
  userNum: number;
  userName: string;
  publicKey: string;
  kdf: KdfCost;
  enrolledAt: string;
  /** Fingerprint of the producer key sealed with the admin's key. */
  producerKey: string;
}

/**
 * Checks the admin's password against Open Dental's own hash, then makes a
 * key pair whose private half only that password opens, sealed together with
 * the producer's public signing key. The producer pins the public half in its
 * own store (the key it will encrypt to) and writes the keyring row for people to see.
 */
export async function enrollAdmin(opts: EnrollOptions): Promise<EnrollResult> {
  const params = opts.kdf ?? DEFAULT_KDF;
  const store = await openProducerStore({ path: opts.producerKeyFile, minimumKdf: params });
  if (weakerThan(params, store.minimumKdf)) {
    throw new LrError('LR_WEAK_KDF', `This server's producer asks for key derivation of at least ${store.minimumKdf.memoryKiB / 1024} MiB and ${store.minimumKdf.iterations} passes; the enrollment asked for less. Enroll without --test-kdf.`);
  }
  const conn = await connect(opts.source);
  try {
    const user = await findUser(conn, opts.userName);
    if (!user) throw new LrError('LR_NOT_ADMIN', `There is no active Open Dental user named ${JSON.stringify(opts.userName)}. Check the spelling.`);
    if (!user.isAdmin) throw new LrError('LR_NOT_ADMIN', `${user.userName} is not a security admin, so backups cannot be opened with their password. Enroll an admin instead.`);
    if (user.storedPassword === '') throw new LrError('LR_ADMIN_NO_PASSWORD', `${user.userName} has no password in Open Dental. Set a password for them first, then enroll again.`);
    if (!verifyOpenDentalPassword(user.storedPassword, opts.password)) {
      throw new LrError('LR_WRONG_PASSWORD', `That is not ${user.userName}'s Open Dental password. Nothing was changed; try again.`);
    }
    const key = await createSealedKey(opts.password, store.signingKey.publicKey, params);
    const enrolledAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const pin: PinnedKey = { userNum: user.userNum, userName: user.userName, publicKey: key.publicKey, sealedPrivateKey: key.sealedPrivateKey, kdf: key.kdf, enrolledAt, passwordFingerprint: keyedPasswordFingerprint(store.fingerprintKey, user.storedPassword) };
    await store.update(opts.source.database, (pins) => {
      pins.admins[String(user.userNum)] = pin;
    });
    await saveKey(conn, { userNum: user.userNum, userName: user.userName, key, passwordFingerprint: pin.passwordFingerprint, enrolledAt, producerKey: store.fingerprint });
    log('keys').info({ userNum: user.userNum, memoryKiB: params.memoryKiB, iterations: params.iterations, producerKey: store.fingerprint }, 'admin key enrolled and pinned');
    return { userNum: user.userNum, userName: user.userName, publicKey: key.publicKey, kdf: { memoryKiB: params.memoryKiB, iterations: params.iterations, parallelism: params.parallelism }, enrolledAt, producerKey: store.fingerprint };
  } finally {
    await conn.end().catch(() => {});
  }
}
