/**
 * The practice recovery code: 16 random bytes and a 4-byte checksum
 * (SHA-256 of the bytes, first 4), written as 32 Crockford base32
 * characters in 8 groups of 4. Typing tolerates spaces, dashes and case
 * (and O/I/L for 0/1/1); the checksum tells a typo apart from a wrong code.
 */
import { createHash, randomBytes } from 'node:crypto';
import { LrError } from '../errors.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const RECOVERY_ENTROPY_BYTES = 16;
const CHECK_BYTES = 4;
const CODE_CHARS = 32;

function checksum(entropy: Buffer): Buffer {
  return createHash('sha256').update(entropy).digest().subarray(0, CHECK_BYTES);
}

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

/** A new code, as people will copy it: "ABCD-EFGH-…" (8 groups of 4). */
export function newRecoveryCode(): { code: string; entropy: Buffer } {
  const entropy = randomBytes(RECOVERY_ENTROPY_BYTES);
  return { code: formatRecoveryCode(entropy), entropy };
}

export function formatRecoveryCode(entropy: Buffer): string {
  return base32(Buffer.concat([entropy, checksum(entropy)])).match(/.{4}/g)!.join('-');
}

/**
 * The code as typed -> its 16 random bytes. Throws LR_RECOVERY_CODE_TYPO
 * (a character missing, extra, or mistyped), never a wrong-code error: only
 * the backup can say whether a well-formed code is the right one.
 */
export function parseRecoveryCode(typed: string): Buffer {
  const cleaned = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  const typo = (why: string) => new LrError('LR_RECOVERY_CODE_TYPO', `That recovery code has a typo (${why}). Compare it character by character with the printed page; spaces, dashes and case do not matter.`);
  if (cleaned.length !== CODE_CHARS) throw typo(`it has ${cleaned.length} characters, not ${CODE_CHARS}`);
  let bits = 0;
  let value = 0;
  const bytes: number[] = [];
  for (const ch of cleaned) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw typo('it holds a character recovery codes do not use'); // which one is not said: the log keeps no part of a code
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
      value &= (1 << bits) - 1;
    }
  }
  const all = Buffer.from(bytes);
  const entropy = all.subarray(0, RECOVERY_ENTROPY_BYTES);
  if (!checksum(entropy).equals(all.subarray(RECOVERY_ENTROPY_BYTES))) throw typo('its checksum does not match');
  return Buffer.from(entropy);
}
