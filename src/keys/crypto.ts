/**
 * The key construction (docs/format.md, "Keys"):
 *
 *   password --argon2id(salt, params)--> sealKey
 *   sealKey  --ChaCha20-Poly1305-->     admin's X25519 private key (sealed; travels in every header)
 *   fileKey  (32 random bytes per backup) wrapped to the admin's public key:
 *            ephemeral X25519, HKDF-SHA-256, ChaCha20-Poly1305 (age's X25519 recipient, in spirit)
 *   fileKey  --HKDF--> payloadKey (chunks), headerMacKey (HMAC-SHA-256 over the header)
 *
 * The producer holds only the public key, so nothing it stores or reads can open a backup.
 */
import { createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { freemem } from 'node:os';
import argon2 from 'argon2';
import { LrError } from '../errors.js';
import { LIMITS } from '../format/limits.js';

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

const SEAL_AAD = Buffer.from('lastresort sealed x25519 key v1');
const WRAP_INFO = Buffer.from('lastresort file key v1');
const PAYLOAD_INFO = Buffer.from('lastresort payload v1');
const HEADER_INFO = Buffer.from('lastresort header v1');
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export function checkKdfParams(kdf: KdfParams): void {
  const bad = (what: string) => new LrError('LR_HOSTILE_HEADER', `This file asks for an unreasonable key derivation (${what}); it is not a backup this tool will open.`);
  if (kdf.algorithm !== 'argon2id') throw bad(`algorithm ${String(kdf.algorithm).slice(0, 20)}`);
  const ok = (v: unknown, lo: number, hi: number) => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;
  if (!ok(kdf.memoryKiB, LIMITS.kdfMemoryKiBMin, LIMITS.kdfMemoryKiBMax)) throw bad('memory');
  if (!ok(kdf.iterations, LIMITS.kdfIterationsMin, LIMITS.kdfIterationsMax)) throw bad('iterations');
  if (!ok(kdf.parallelism, 1, LIMITS.kdfParallelismMax)) throw bad('parallelism');
  const salt = typeof kdf.salt === 'string' ? Buffer.from(kdf.salt, 'base64') : Buffer.alloc(0);
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
  return argon2.hash(password, {
    type: argon2.argon2id,
    memoryCost: kdf.memoryKiB,
    timeCost: kdf.iterations,
    parallelism: kdf.parallelism,
    salt: Buffer.from(kdf.salt, 'base64'),
    hashLength: 32,
    raw: true,
  });
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
  /** base64(nonce(12) || ChaCha20-Poly1305(sealKey, privateKey(32))) */
  sealedPrivateKey: string;
  kdf: KdfParams;
}

/** Enrollment: a new X25519 key pair whose private half only the password opens. */
export async function createSealedKey(password: string, params: { memoryKiB: number; iterations: number; parallelism: number } = DEFAULT_KDF): Promise<SealedKey> {
  const kdf: KdfParams = { algorithm: 'argon2id', ...params, salt: randomBytes(16).toString('base64') };
  const sealKey = await deriveSealKey(password, kdf);
  const { publicKey, privateKey } = rawKeys(generateKeyPairSync('x25519'));
  const nonce = randomBytes(NONCE_BYTES);
  const sealed = aeadSeal(sealKey, nonce, privateKey, Buffer.concat([SEAL_AAD, publicKey]));
  privateKey.fill(0);
  sealKey.fill(0);
  return { algorithm: 'x25519', publicKey: publicKey.toString('base64'), sealedPrivateKey: Buffer.concat([nonce, sealed]).toString('base64'), kdf };
}

/** Returns the raw private key, or null when the password does not open it. */
export async function openSealedKey(key: SealedKey, password: string): Promise<Buffer | null> {
  const sealKey = await deriveSealKey(password, key.kdf);
  return openSealedKeyWith(key, sealKey);
}

export function openSealedKeyWith(key: SealedKey, sealKey: Buffer): Buffer | null {
  const blob = Buffer.from(key.sealedPrivateKey, 'base64');
  const publicKey = Buffer.from(key.publicKey, 'base64');
  if (blob.length !== NONCE_BYTES + 32 + TAG_BYTES || publicKey.length !== 32) return null;
  const privateKey = aeadOpen(sealKey, blob.subarray(0, NONCE_BYTES), blob.subarray(NONCE_BYTES), Buffer.concat([SEAL_AAD, publicKey]));
  if (!privateKey) return null;
  // The private key must belong to the public key the file names.
  const derivedPublic = Buffer.from(createPublicKey(privateKeyObject(privateKey, publicKey)).export({ format: 'jwk' }).x!, 'base64url');
  if (!timingSafeEqual(derivedPublic, publicKey)) return null;
  return privateKey;
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

export interface FileKeys {
  payloadKey: Buffer;
  headerMacKey: Buffer;
}

export function deriveFileKeys(fileKey: Buffer, fileId: Buffer): FileKeys {
  return {
    payloadKey: Buffer.from(hkdfSync('sha256', fileKey, fileId, PAYLOAD_INFO, 32)),
    headerMacKey: Buffer.from(hkdfSync('sha256', fileKey, fileId, HEADER_INFO, 32)),
  };
}

export function headerMac(headerMacKey: Buffer, authenticated: Buffer): Buffer {
  return createHmac('sha256', headerMacKey).update(authenticated).digest();
}

export function macEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
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

export function newFileKey(): Buffer {
  return randomBytes(32);
}
