import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Open Dental's `userod.Password` formats (see docs/open-dental.md):
 *   SHA3_512$<salt>$<base64 SHA3-512(UTF-16LE(salt + password))>   current default
 *   MD5$<salt>$<base64 MD5(UTF-16LE(salt + password))>
 *   <24-char base64 MD5(UTF-16LE(password))>                          legacy, no '$'
 *   MD5_ECW$$<lowercase hex MD5(ASCII(password))>                    eClinicalWorks bridge
 * Open Dental hashes an empty password to an empty hash, and treats anything it
 * cannot parse as "no password": both mean there is nothing to verify against.
 */
export type OpenDentalHashFormat = 'SHA3_512' | 'MD5' | 'legacy' | 'MD5_ECW';
export type OpenDentalPasswordFormat = OpenDentalHashFormat | 'none' | 'unknown';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX32 = /^[0-9a-fA-F]{32}$/;

interface Parsed {
  format: OpenDentalHashFormat;
  salt: string;
  hash: string;
}

/** Split a stored value into its parts; null when empty, unparseable or without a hash. */
function parse(stored: string): Parsed | null {
  if (stored === '') return null;
  const parts = stored.split('$');
  if (parts.length === 3) {
    const [type, salt, hash] = parts as [string, string, string];
    if (hash === '') return null; // Open Dental's hash of the empty password
    if (type === 'SHA3_512' && BASE64.test(hash) && hash.length === 88) return { format: 'SHA3_512', salt, hash };
    if (type === 'MD5' && BASE64.test(hash) && hash.length === 24) return { format: 'MD5', salt, hash };
    if (type === 'MD5_ECW' && HEX32.test(hash)) return { format: 'MD5_ECW', salt, hash };
    return null;
  }
  // Open Dental's own test for the legacy form: 24 chars, '==' padding, no '$'.
  if (parts.length === 1 && stored.length === 24 && stored.endsWith('==') && BASE64.test(stored)) {
    return { format: 'legacy', salt: '', hash: stored };
  }
  return null;
}

/** The format of a stored password: 'none' if empty (or an empty hash), 'unknown' if not understood. */
export function passwordFormat(stored: string): OpenDentalPasswordFormat {
  if (stored === '') return 'none';
  const parts = stored.split('$');
  if (parts.length === 3 && parts[2] === '' && ['SHA3_512', 'MD5', 'MD5_ECW', 'None'].includes(parts[0]!)) return 'none';
  if (parts.length === 3 && parts[0] === 'None') return 'none'; // Open Dental accepts only the empty password then
  return parse(stored)?.format ?? 'unknown';
}

/** .NET Encoding.ASCII: each code point outside ASCII becomes '?'. */
function asciiBytes(text: string): Buffer {
  const out: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    out.push(cp < 0x80 ? cp : 0x3f);
  }
  return Buffer.from(out);
}

/** The raw digest bytes the stored hash should decode to. */
function digest(format: OpenDentalHashFormat, salt: string, password: string): Buffer {
  switch (format) {
    case 'SHA3_512':
      return createHash('sha3-512').update(Buffer.from(salt + password, 'utf16le')).digest();
    case 'MD5':
      return createHash('md5').update(Buffer.from(salt + password, 'utf16le')).digest();
    case 'legacy':
      return createHash('md5').update(Buffer.from(password, 'utf16le')).digest();
    case 'MD5_ECW':
      return createHash('md5').update(asciiBytes(password)).digest();
  }
}

function storedDigest(p: Parsed): Buffer {
  return p.format === 'MD5_ECW' ? Buffer.from(p.hash, 'hex') : Buffer.from(p.hash, 'base64');
}

/**
 * True when `password` matches the stored value. False for an empty or
 * unparseable stored value, and for an empty password: a user without a
 * password cannot prove anything.
 */
export function verifyOpenDentalPassword(stored: string, password: string): boolean {
  const p = parse(stored);
  if (!p || password === '') return false;
  const expected = storedDigest(p);
  const actual = digest(p.format, p.salt, password);
  // Lengths are fixed per format (public), so this early return leaks nothing.
  if (expected.length !== actual.length) return false;
  return timingSafeEqual(expected, actual);
}

/** A fresh salt as Open Dental makes it: base64 of 64 random bytes (16 for MD5). */
function makeSalt(format: OpenDentalHashFormat): string {
  if (format === 'SHA3_512') return randomBytes(64).toString('base64');
  if (format === 'MD5') return randomBytes(16).toString('base64');
  return '';
}

/**
 * Hash `password` as Open Dental stores it. `salt` is for tests and fixtures
 * (deterministic output); SHA3_512 and MD5 make a random one otherwise. Like
 * Open Dental, an empty password gives an empty hash part (or '' for legacy).
 */
export function hashOpenDentalPassword(password: string, format: OpenDentalHashFormat = 'SHA3_512', salt?: string): string {
  if (salt !== undefined && salt.includes('$')) throw new Error('A salt cannot contain "$".');
  if (format === 'legacy') return password === '' ? '' : digest('legacy', '', password).toString('base64');
  if (format === 'MD5_ECW') return `MD5_ECW$$${password === '' ? '' : digest('MD5_ECW', '', password).toString('hex')}`;
  const s = salt ?? makeSalt(format);
  const hash = password === '' ? '' : digest(format, s, password).toString('base64');
  return `${format}$${s}$${hash}`;
}
