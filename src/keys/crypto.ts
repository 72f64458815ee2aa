/**
 * The key construction (docs/format.md, "Keys"):
 *
 *   password --argon2id(salt, params)--> sealKey
 *   sealKey  --ChaCha20-Poly1305-->     admin's X25519 private key and the producer's Ed25519
 *                                       public key, sealed together (travels in every header)
 *   fileKey  (32 random bytes per backup) wrapped to each recipient's public key:
 *            ephemeral X25519, HKDF-SHA-256, ChaCha20-Poly1305 (age's X25519 recipient, in spirit)
 *   fileKey  --HKDF--> payloadKey (chunks)
 *   header   signed by the producer (Ed25519); the reader checks the signature
 *            with the producer key it found sealed under the password.
 *
 * The producer holds only public keys and its signing key, so nothing it
 * stores or reads can open a backup; and without the signing key nobody can
 * make a file that the practice's password opens.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { freemem } from 'node:os';
import { argon2idHash } from './argon2id.js';
import { LrError } from '../errors.js';

export interface KdfParams {
  algorithm: 'argon2id';
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  /** base64, 16 bytes or more */
  salt: string;
}

/** About one second on the reference 2-core machine; RFC 9106-style memory-hard. */
export const DEFAULT_KDF = { memoryKiB: 256 * 1024, iterations: 3, parallelism: 2 } as const;
/** Only for tests and the demo fixture: explicit, never a default. */
export const FAST_TEST_KDF = { memoryKiB: 8 * 1024, iterations: 1, parallelism: 1 } as const;

/** The bounds a key derivation's parameters must keep; format/limits.ts lists them with the file's other limits. */
export const KDF_BOUNDS = {
  kdfMemoryKiBMin: 8 * 1024,
  /**
   * The KDF bounds are checked before the password is tried, so a crafted
   * header can cost each attempt at most this much. The producer writes
   * 256 MiB, 3 passes, 2 lanes (DEFAULT_KDF); the bounds leave a small margin
   * above that for a future default, no more (docs/format.md, section 2).
   */
  kdfMemoryKiBMax: 512 * 1024,
  kdfIterationsMin: 1,
  kdfIterationsMax: 8,
  kdfParallelismMax: 8,
} as const;

const SEAL_AAD = Buffer.from('lastresort sealed key v2');
const WRAP_INFO = Buffer.from('lastresort file key v2');
const PAYLOAD_INFO = Buffer.from('lastresort payload v2');
const NONCE_BYTES = 12;
/** Sealed under the password: the admin's X25519 private key, then the producer's Ed25519 public key. */
const SEALED_PLAINTEXT_BYTES = 64;
const TAG_BYTES = 16;

/**
 * The bytes of `v` when it is standard base64 exactly as docs/format.md says
 * (RFC 4648 section 4: `+/`, `=` padding, nothing else), else null. Node's own
 * decoder also takes URL-safe letters and skips junk; a second reader must
 * accept exactly what this one does, so the text must be the canonical
 * encoding of its bytes.
 */
export function strictBase64(v: unknown): Buffer | null {
  if (typeof v !== 'string' || v.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) return null;
  const bytes = Buffer.from(v, 'base64');
  return bytes.toString('base64') === v ? bytes : null;
}

export function checkKdfParams(kdf: KdfParams): void {
  const bad = (what: string) => new LrError('LR_HOSTILE_HEADER', `This file asks for an unreasonable key derivation (${what}); it is not a backup this tool will open.`);
  if (kdf.algorithm !== 'argon2id') throw bad(`algorithm ${String(kdf.algorithm).slice(0, 20)}`);
  const ok = (v: unknown, lo: number, hi: number) => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;
  if (!ok(kdf.memoryKiB, KDF_BOUNDS.kdfMemoryKiBMin, KDF_BOUNDS.kdfMemoryKiBMax)) throw bad('memory');
  if (!ok(kdf.iterations, KDF_BOUNDS.kdfIterationsMin, KDF_BOUNDS.kdfIterationsMax)) throw bad('iterations');
  if (!ok(kdf.parallelism, 1, KDF_BOUNDS.kdfParallelismMax)) throw bad('parallelism');
  const salt = strictBase64(kdf.salt) ?? Buffer.alloc(0);
  if (salt.length < 16 || salt.length > 64) throw bad('salt');
}

/** Memory this process may still use: the machine's free memory, or less under a cgroup limit. */
export function availableMemoryBytes(): number {
  return Math.min(freemem(), typeof process.availableMemory === 'function' ? process.availableMemory() : Infinity);
}

/** Refuses, in one plain line, a derivation that needs more memory than is free, rather than swapping or being killed. */
export function checkKdfMemory(kdf: Pick<KdfParams, 'memoryKiB'>, availableBytes = availableMemoryBytes()): void {
  const neededBytes = kdf.memoryKiB * 1024;
  if (neededBytes <= availableBytes) return;
  const mib = (bytes: number) => Math.floor(bytes / (1024 * 1024));
  throw new LrError('LR_IO', `Opening this backup needs ${mib(neededBytes)} MiB of free memory for its key derivation, and only ${mib(availableBytes)} MiB is free. Close other programs and try again, or use a computer with more memory.`, { detail: { neededBytes, availableBytes } });
}

export async function deriveSealKey(password: string, kdf: KdfParams): Promise<Buffer> {
  checkKdfParams(kdf);
  checkKdfMemory(kdf);
  return argon2idHash({ password, salt: Buffer.from(kdf.salt, 'base64'), memoryKiB: kdf.memoryKiB, iterations: kdf.iterations, parallelism: kdf.parallelism, hashLength: 32 });
}

function aeadSeal(key: Buffer, nonce: Buffer, plaintext: Buffer, aad?: Buffer): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
  if (aad) c.setAAD(aad, { plaintextLength: plaintext.length });
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

/** Returns null when authentication fails: the caller decides what that means. */
function aeadOpen(key: Buffer, nonce: Buffer, sealed: Buffer, aad?: Buffer): Buffer | null {
  if (sealed.length < TAG_BYTES) return null;
  const body = sealed.subarray(0, sealed.length - TAG_BYTES);
  const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
  d.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  if (aad) d.setAAD(aad, { plaintextLength: body.length });
  try {
    // ChaCha20-Poly1305's final() yields no bytes: skip a copy of every chunk on the restore path.
    const plaintext = d.update(body);
    d.final();
    return plaintext;
  } catch {
    return null;
  }
}

// X25519 raw keys <-> KeyObjects through JWK, which Node accepts for OKP keys.
const b64url = (b: Buffer) => b.toString('base64url');
function publicKeyObject(raw: Buffer): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(raw) }, format: 'jwk' });
}
function privateKeyObject(rawPrivate: Buffer, rawPublic: Buffer): KeyObject {
  return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(rawPublic), d: b64url(rawPrivate) }, format: 'jwk' });
}
function rawKeys(pair: { publicKey: KeyObject; privateKey: KeyObject }): { publicKey: Buffer; privateKey: Buffer } {
  const jwk = pair.privateKey.export({ format: 'jwk' });
  return { publicKey: Buffer.from(jwk.x!, 'base64url'), privateKey: Buffer.from(jwk.d!, 'base64url') };
}

export interface SealedKey {
  algorithm: 'x25519';
  publicKey: string;
  /** base64(nonce(12) || ChaCha20-Poly1305(sealKey, privateKey(32) || producerPublicKey(32))) */
  sealedPrivateKey: string;
  kdf: KdfParams;
}

/** What the password opens: the admin's private key and the producer key that signs genuine backups. */
export interface OpenedKey {
  privateKey: Buffer;
  producerPublicKey: Buffer;
}

export type KdfCost = { memoryKiB: number; iterations: number; parallelism: number };

/**
 * Enrollment: a new X25519 key pair whose private half only the password
 * opens, sealed together with the producer's public signing key so that a
 * forger can neither replace that key nor sign in its name.
 */
export async function createSealedKey(password: string, producerPublicKey: Buffer, params: KdfCost = DEFAULT_KDF): Promise<SealedKey> {
  const kdf: KdfParams = { algorithm: 'argon2id', ...params, salt: randomBytes(16).toString('base64') };
  const sealKey = await deriveSealKey(password, kdf);
  const { publicKey, privateKey } = rawKeys(generateKeyPairSync('x25519'));
  const nonce = randomBytes(NONCE_BYTES);
  const plaintext = Buffer.concat([privateKey, producerPublicKey]);
  const sealed = aeadSeal(sealKey, nonce, plaintext, Buffer.concat([SEAL_AAD, publicKey]));
  privateKey.fill(0);
  plaintext.fill(0);
  sealKey.fill(0);
  return { algorithm: 'x25519', publicKey: publicKey.toString('base64'), sealedPrivateKey: Buffer.concat([nonce, sealed]).toString('base64'), kdf };
}

/** Returns the opened key, or null when the password does not open it. */
export async function openSealedKey(key: SealedKey, password: string): Promise<OpenedKey | null> {
  const sealKey = await deriveSealKey(password, key.kdf);
  try {
    return openSealedKeyWith(key, sealKey);
  } finally {
    sealKey.fill(0);
  }
}

export function openSealedKeyWith(key: SealedKey, sealKey: Buffer): OpenedKey | null {
  const blob = Buffer.from(key.sealedPrivateKey, 'base64');
  const publicKey = Buffer.from(key.publicKey, 'base64');
  if (blob.length !== NONCE_BYTES + SEALED_PLAINTEXT_BYTES + TAG_BYTES || publicKey.length !== 32) return null;
  const opened = aeadOpen(sealKey, blob.subarray(0, NONCE_BYTES), blob.subarray(NONCE_BYTES), Buffer.concat([SEAL_AAD, publicKey]));
  if (!opened) return null;
  const privateKey = Buffer.from(opened.subarray(0, 32));
  const producerPublicKey = Buffer.from(opened.subarray(32, 64));
  opened.fill(0);
  // The private key must belong to the public key the file names.
  if (!timingSafeEqual(x25519PublicOf(privateKey, publicKey), publicKey)) return null;
  return { privateKey, producerPublicKey };
}

function x25519PublicOf(privateKey: Buffer, claimedPublic: Buffer): Buffer {
  return Buffer.from(createPublicKey(privateKeyObject(privateKey, claimedPublic)).export({ format: 'jwk' }).x!, 'base64url');
}

export interface WrappedFileKey {
  ephemeralPublicKey: string;
  ciphertext: string;
}

function wrapKeyFrom(shared: Buffer, ephemeralPublic: Buffer, recipientPublic: Buffer): Buffer {
  if (shared.every((b) => b === 0)) throw new LrError('LR_HOSTILE_HEADER', 'The backup names an invalid public key.');
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeralPublic, recipientPublic]), WRAP_INFO, 32));
}

export function wrapFileKey(fileKey: Buffer, recipientPublicKeyB64: string): WrappedFileKey {
  const recipientPublic = Buffer.from(recipientPublicKeyB64, 'base64');
  const eph = generateKeyPairSync('x25519');
  const ephPublic = rawKeys(eph).publicKey;
  const shared = diffieHellman({ privateKey: eph.privateKey, publicKey: publicKeyObject(recipientPublic) });
  const wrapKey = wrapKeyFrom(shared, ephPublic, recipientPublic);
  return { ephemeralPublicKey: ephPublic.toString('base64'), ciphertext: aeadSeal(wrapKey, Buffer.alloc(NONCE_BYTES), fileKey).toString('base64') };
}

export function unwrapFileKey(wrapped: WrappedFileKey, privateKey: Buffer, recipientPublicKeyB64: string): Buffer | null {
  const recipientPublic = Buffer.from(recipientPublicKeyB64, 'base64');
  const ephPublic = Buffer.from(wrapped.ephemeralPublicKey, 'base64');
  const ciphertext = Buffer.from(wrapped.ciphertext, 'base64');
  if (ephPublic.length !== 32 || ciphertext.length !== 32 + TAG_BYTES) return null;
  const shared = diffieHellman({ privateKey: privateKeyObject(privateKey, recipientPublic), publicKey: publicKeyObject(ephPublic) });
  const wrapKey = wrapKeyFrom(shared, ephPublic, recipientPublic);
  return aeadOpen(wrapKey, Buffer.alloc(NONCE_BYTES), ciphertext);
}

export function derivePayloadKey(fileKey: Buffer, fileId: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', fileKey, fileId, PAYLOAD_INFO, 32));
}

/**
 * The password fingerprint the producer keeps to notice a password change:
 * a keyed MAC under its own secret, so a copy of the keyring (or of the
 * producer's store without that secret) cannot test guesses at all.
 */
export function keyedPasswordFingerprint(fingerprintKey: Buffer, storedHash: string): string {
  return createHmac('sha256', fingerprintKey).update(storedHash, 'utf8').digest('hex');
}

export function fingerprintsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Chunk nonce: 11-byte big-endian index, then the final flag (age's STREAM construction). */
export function chunkNonce(index: number, final: boolean): Buffer {
  const nonce = Buffer.alloc(NONCE_BYTES);
  nonce.writeUIntBE(index, 5, 6); // bytes 0..4 stay zero: index < 2^48
  nonce[11] = final ? 1 : 0;
  return nonce;
}

export function sealChunk(payloadKey: Buffer, index: number, final: boolean, plaintext: Buffer): Buffer {
  return aeadSeal(payloadKey, chunkNonce(index, final), plaintext);
}

export function openChunk(payloadKey: Buffer, index: number, final: boolean, sealed: Buffer): Buffer | null {
  return aeadOpen(payloadKey, chunkNonce(index, final), sealed);
}

/**
 * Version 3's chunk index is sealed with the payload key under a nonce no
 * chunk can have: eleven 0xFF bytes (a chunk index is below 2^48) and 0x02
 * (a chunk's last byte is 0 or 1).
 */
export function indexNonce(): Buffer {
  const nonce = Buffer.alloc(NONCE_BYTES, 0xff);
  nonce[11] = 2;
  return nonce;
}

export function sealIndex(payloadKey: Buffer, plaintext: Buffer): Buffer {
  return aeadSeal(payloadKey, indexNonce(), plaintext);
}

export function openIndex(payloadKey: Buffer, sealed: Buffer): Buffer | null {
  return aeadOpen(payloadKey, indexNonce(), sealed);
}

export function newFileKey(): Buffer {
  return randomBytes(32);
}

// ---- The producer's signing key (Ed25519) ----

export interface SigningKey {
  publicKey: Buffer;
  privateKey: Buffer;
}

export function newSigningKey(): SigningKey {
  const pair = generateKeyPairSync('ed25519');
  const jwk = pair.privateKey.export({ format: 'jwk' });
  return { publicKey: Buffer.from(jwk.x!, 'base64url'), privateKey: Buffer.from(jwk.d!, 'base64url') };
}

export function signHeader(key: SigningKey, message: Buffer): Buffer {
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(key.publicKey), d: b64url(key.privateKey) }, format: 'jwk' });
  return sign(null, message, privateKey);
}

/** False for a bad signature or a public key that is not a valid Ed25519 point. */
export function verifyHeader(publicKey: Buffer, message: Buffer, signature: Buffer): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    return verify(null, message, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(publicKey) }, format: 'jwk' }), signature);
  } catch {
    return false;
  }
}

/** A short name for a public key people can compare: first 8 bytes of its SHA-256, as 4 groups of hex. */
export function keyFingerprint(publicKey: Buffer): string {
  const hex = createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
  return hex.match(/.{4}/g)!.join('-');
}

// ---- The recovery key: an X25519 key derived from a code kept on paper ----

const RECOVERY_INFO = Buffer.from('lastresort recovery key v2');
const RECOVERY_SEAL_AAD = Buffer.from('lastresort recovery seal v2');

/** The recovery code's 16 random bytes -> its X25519 key pair and the key that seals the producer key. */
export function recoveryKeysFrom(entropy: Buffer): { privateKey: Buffer; publicKey: Buffer; sealKey: Buffer } {
  const okm = Buffer.from(hkdfSync('sha256', entropy, Buffer.alloc(0), RECOVERY_INFO, 64));
  const privateKey = Buffer.from(okm.subarray(0, 32));
  const sealKey = Buffer.from(okm.subarray(32, 64));
  okm.fill(0);
  const publicKey = Buffer.from(createPublicKey(createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(Buffer.alloc(32)), d: b64url(privateKey) }, format: 'jwk' })).export({ format: 'jwk' }).x!, 'base64url');
  return { privateKey, publicKey, sealKey };
}

/** base64(nonce(12) || AEAD(sealKey, producerPublicKey(32), aad = RECOVERY_SEAL_AAD || recoveryPublicKey)) */
export function sealProducerKeyForRecovery(sealKey: Buffer, recoveryPublicKey: Buffer, producerPublicKey: Buffer): string {
  const nonce = randomBytes(NONCE_BYTES);
  return Buffer.concat([nonce, aeadSeal(sealKey, nonce, producerPublicKey, Buffer.concat([RECOVERY_SEAL_AAD, recoveryPublicKey]))]).toString('base64');
}

export function openRecoverySeal(sealKey: Buffer, recoveryPublicKey: Buffer, sealed: string): Buffer | null {
  const blob = Buffer.from(sealed, 'base64');
  if (blob.length !== NONCE_BYTES + 32 + TAG_BYTES) return null;
  return aeadOpen(sealKey, blob.subarray(0, NONCE_BYTES), blob.subarray(NONCE_BYTES), Buffer.concat([RECOVERY_SEAL_AAD, recoveryPublicKey]));
}
