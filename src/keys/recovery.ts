/**
 * The practice recovery key (opt-in): a code on paper in the practice's safe
 * that opens every backup made while it exists, for the day no admin
 * password is known. The producer keeps only its public half and the
 * producer key sealed under it (so a file opened with the code is checked
 * for the producer's signature like any other).
 */
import { writeFile } from 'node:fs/promises';
import { LrError } from '../errors.js';
import { log } from '../log.js';
import type { Dsn } from '../db/dsn.js';
import { keyFingerprint, recoveryKeysFrom, sealProducerKeyForRecovery } from './crypto.js';
import { openProducerStore, type RecoveryPin } from './producer.js';
import { newRecoveryCode } from './recovery-code.js';
import { recoveryPage } from './recovery-page.js';
import { makePrivate } from '../system/private-file.js';

export interface RecoveryCreated {
  code: string;
  createdAt: string;
  fingerprint: string;
  page: string;
}

export async function createRecoveryKey(opts: { source: Dsn; producerKeyFile?: string; pagePath: string }): Promise<RecoveryCreated> {
  const store = await openProducerStore({ path: opts.producerKeyFile });
  const { code, entropy } = newRecoveryCode();
  const keys = recoveryKeysFrom(entropy);
  entropy.fill(0);
  const createdAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const pin: RecoveryPin = { publicKey: keys.publicKey.toString('base64'), sealedProducerKey: sealProducerKeyForRecovery(keys.sealKey, keys.publicKey, store.signingKey.publicKey), createdAt, fingerprint: keyFingerprint(keys.publicKey) };
  keys.privateKey.fill(0);
  keys.sealKey.fill(0);
  // The page first: a code nobody could print must not become the practice's recovery key.
  try {
    await writeFile(opts.pagePath, recoveryPage({ code, database: opts.source.database, createdAt, fingerprint: pin.fingerprint }), { mode: 0o600, flag: 'wx' });
    makePrivate(opts.pagePath);
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'EEXIST' ? 'exists already (an older page is never overwritten)' : 'cannot be written';
    throw new LrError('LR_USAGE', `The page ${opts.pagePath} ${why}. Nothing was changed; give another place with --page FILE.`, { cause: err });
  }
  await store.update(opts.source.database, (pins) => void (pins.recovery = pin));
  log('keys').info({ database: opts.source.database, fingerprint: pin.fingerprint }, 'practice recovery key created; only its public half is kept');
  return { code, createdAt, fingerprint: pin.fingerprint, page: opts.pagePath };
}

/** Ends the recovery key: backups made from now on no longer open with it (older ones still do). */
export async function removeRecoveryKey(opts: { source: Dsn; producerKeyFile?: string }): Promise<RecoveryPin | null> {
  const store = await openProducerStore({ path: opts.producerKeyFile, create: false });
  const was = store.pins(opts.source.database).recovery;
  if (was) await store.update(opts.source.database, (pins) => void (pins.recovery = null));
  log('keys').info({ database: opts.source.database, fingerprint: was?.fingerprint ?? null }, 'practice recovery key removed');
  return was;
}
