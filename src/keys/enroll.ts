import { LrError } from '../errors.js';
import { connect } from '../db/connect.js';
import type { Dsn } from '../db/dsn.js';
import { log } from '../log.js';
import { findUser } from '../opendental/last-admin.js';
import { createSealedKey, DEFAULT_KDF, keyedPasswordFingerprint, type KdfCost } from './crypto.js';
import { saveKey } from './keyring.js';
import { openProducerStore, weakerThan, type PinnedKey, type WeakPasswordRecord } from './producer.js';
import { passwordFormat, verifyOpenDentalPassword } from '../opendental/password.js';
import { estimateStrength, hashName, humanDuration } from './strength.js';

export interface EnrollOptions {
  source: Dsn;
  userName: string;
  password: string;
  /** Cheaper parameters are for tests only; the CLI says so where it offers them. */
  kdf?: KdfCost;
  /** The producer's key file (default: beside the service settings, or LASTRESORT_PRODUCER_KEY). */
  producerKeyFile?: string;
  /** Enroll even though the password is weak against Open Dental's own hash; recorded, and alerted every night. */
  acceptWeakPassword?: boolean;
}

export interface EnrollResult {
  userNum: number;
  userName: string;
  publicKey: string;
  kdf: KdfCost;
  enrolledAt: string;
  /** Fingerprint of the producer key sealed with the admin's key. */
  producerKey: string;
  /** Present when a weak password was accepted with acceptWeakPassword. */
  weakPassword?: WeakPasswordRecord;
  /** True when this enrollment raised the producer's minimum key derivation back to the default. */
  raisedMinimumKdf?: boolean;
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
    const weakPassword = await checkStrength(user.userName, user.storedPassword, opts);
    const key = await createSealedKey(opts.password, store.signingKey.publicKey, params);
    const enrolledAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const pin: PinnedKey = {
      userNum: user.userNum, userName: user.userName, publicKey: key.publicKey, sealedPrivateKey: key.sealedPrivateKey, kdf: key.kdf, enrolledAt,
      passwordFingerprint: keyedPasswordFingerprint(store.fingerprintKey, user.storedPassword), ...(weakPassword ? { weakPassword } : {}),
    };
    await store.update(opts.source.database, (pins) => {
      pins.admins[String(user.userNum)] = pin;
    });
    await saveKey(conn, { userNum: user.userNum, userName: user.userName, key, passwordFingerprint: pin.passwordFingerprint, enrolledAt, producerKey: store.fingerprint });
    // A real enrollment undoes a first --test-kdf one: the store's floor goes back up for good.
    const raisedMinimumKdf = !weakerThan(params, DEFAULT_KDF) && weakerThan(store.minimumKdf, DEFAULT_KDF);
    if (raisedMinimumKdf) await store.raiseMinimumKdf(DEFAULT_KDF);
    log('keys').info({ userNum: user.userNum, memoryKiB: params.memoryKiB, iterations: params.iterations, producerKey: store.fingerprint, weakPasswordAccepted: weakPassword !== undefined, raisedMinimumKdf }, 'admin key enrolled and pinned');
    return {
      userNum: user.userNum, userName: user.userName, publicKey: key.publicKey, kdf: { memoryKiB: params.memoryKiB, iterations: params.iterations, parallelism: params.parallelism }, enrolledAt, producerKey: store.fingerprint,
      ...(weakPassword ? { weakPassword } : {}), ...(raisedMinimumKdf ? { raisedMinimumKdf } : {}),
    };
  } finally {
    await conn.end().catch(() => {});
  }
}

/**
 * Refuses a password that one graphics card would find within a day from the
 * hash in userod (see keys/strength.ts), unless the caller accepts it; then
 * returns what is recorded in the pin. Only the estimate is logged, never the password.
 */
async function checkStrength(userName: string, storedPassword: string, opts: EnrollOptions): Promise<WeakPasswordRecord | undefined> {
  const format = passwordFormat(storedPassword);
  if (format === 'none' || format === 'unknown') return undefined; // verifyOpenDentalPassword already refused these
  const s = await estimateStrength(opts.password, format, [userName, opts.source.database]);
  log('keys').info({ userName, hashFormat: format, weak: s.weak }, 'estimated admin password strength');
  if (!s.weak) return undefined;
  if (!opts.acceptWeakPassword) {
    throw new LrError('LR_WEAK_PASSWORD', `${userName}'s Open Dental password is too weak to protect the backups: from the ${hashName(format)} hash Open Dental keeps, one graphics card would find it in ${humanDuration(s.oneGpuSeconds)}. Choose a longer one in Open Dental (four or five unrelated words work well) and enroll again, or enroll with --accept-weak-password (it is then reported every night).`);
  }
  return { acceptedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), hashFormat: format, guessesLog10: Number(s.guessesLog10.toFixed(2)), oneGpuSeconds: Math.round(s.oneGpuSeconds) };
}
