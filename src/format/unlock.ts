/**
 * Opening a backup's key. The password (or the recovery code) opens the
 * producer's public key, sealed beside the recipient's private key; the
 * header's signature is checked with it before anything else in the file
 * is used: the file key, the payload, even the header's other fields.
 *   null                  the password opens no admin recipient (wrong password)
 *   LR_NOT_AUTHENTIC      it does, but the practice's producer did not sign this header
 */
import { LrError } from '../errors.js';
import { deriveSealKey, derivePayloadKey, openRecoverySeal, openSealedKeyWith, recoveryKeysFrom, unwrapFileKey, verifyHeader, type OpenedKey } from '../keys/crypto.js';
import { parseRecoveryCode } from '../keys/recovery-code.js';
import { adminRecipients, recoveryRecipient, sealedKeyOf, type BackupHeader, type Recipient } from './header.js';
import { magicLineOf } from './limits.js';
import type { LocatedHeader, UnlockedBackup } from './reader.js';

/** An admin's Open Dental password, or the practice recovery code as typed. */
export type Secret = string | { recoveryCode: string };

export const NOT_AUTHENTIC_MESSAGE = "This file was not made by this practice's backup service, so it was not opened. Use a backup from the practice's own server, or ask support for a genuine copy.";

async function openWithPassword(header: BackupHeader, password: string): Promise<{ recipient: Recipient; key: OpenedKey } | null> {
  for (const recipient of adminRecipients(header)) {
    const sealKey = await deriveSealKey(password, recipient.kdf);
    const key = openSealedKeyWith(sealedKeyOf(recipient), sealKey);
    sealKey.fill(0);
    if (key) return { recipient, key };
  }
  return null;
}

function openWithRecoveryCode(header: BackupHeader, typed: string): { recipient: Recipient; key: OpenedKey } {
  const entropy = parseRecoveryCode(typed); // a typo throws here, before the file is asked anything
  const keys = recoveryKeysFrom(entropy);
  entropy.fill(0);
  try {
    const recipient = recoveryRecipient(header);
    if (!recipient) {
      const who = header.admin ? `; it opens only with ${header.admin.userName}'s password` : '';
      throw new LrError('LR_WRONG_RECOVERY_CODE', `This backup was made without the practice recovery key${who}.`);
    }
    if (!Buffer.from(recipient.publicKey, 'base64').equals(keys.publicKey)) {
      throw new LrError('LR_WRONG_RECOVERY_CODE', 'That recovery code is well formed but is not the one that opens this backup. Check that it is the code from the practice safe that was current when the backup was made.');
    }
    const producerPublicKey = openRecoverySeal(keys.sealKey, keys.publicKey, recipient.sealedProducerKey);
    // The right code and a seal it cannot open: someone put the practice's public key in a file they made.
    if (!producerPublicKey) throw new LrError('LR_NOT_AUTHENTIC', NOT_AUTHENTIC_MESSAGE);
    return { recipient, key: { privateKey: Buffer.from(keys.privateKey), producerPublicKey } };
  } finally {
    keys.privateKey.fill(0);
    keys.sealKey.fill(0);
  }
}

export async function unlockBackup(located: LocatedHeader, secret: Secret): Promise<UnlockedBackup | null> {
  const { header, frame } = located;
  const opened = typeof secret === 'string' ? await openWithPassword(header, secret) : openWithRecoveryCode(header, secret.recoveryCode);
  if (!opened) return null;
  const { recipient, key } = opened;
  try {
    if (!verifyHeader(key.producerPublicKey, Buffer.concat([Buffer.from(magicLineOf(header.formatVersion)), frame.signedPart]), frame.signature)) {
      throw new LrError('LR_NOT_AUTHENTIC', NOT_AUTHENTIC_MESSAGE);
    }
    const fileKey = unwrapFileKey(recipient.wrappedFileKey, key.privateKey, recipient.publicKey);
    if (!fileKey) throw new LrError('LR_HOSTILE_HEADER', 'The key inside this backup does not open although the file is signed: the producer that wrote it is faulty. Ask support for another copy.');
    const payloadKey = derivePayloadKey(fileKey, Buffer.from(header.fileId, 'base64'));
    fileKey.fill(0);
    return { located, payloadKey };
  } finally {
    key.privateKey.fill(0);
  }
}
