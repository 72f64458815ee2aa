/**
 * The cleartext header (docs/format.md, "Header frame"):
 *
 *   "LRHD" | u32 jsonLength | json | signature(64) | u32 crc32(everything before)
 *
 * Anyone can read it (identify needs no password); the producer's Ed25519
 * signature is checked with the producer key sealed under the password (or
 * the recovery code) before anything else in the file is trusted. The frame
 * is written twice: after the magic line and again at the end of the file,
 * so one damaged copy loses nothing. Parsing validates every field and every
 * bound before use.
 */
import { crc32 } from 'node:zlib';
import { LrError } from '../errors.js';
import type { KdfParams, SealedKey, WrappedFileKey } from '../keys/crypto.js';
import { checkKdfParams, strictBase64 } from '../keys/crypto.js';
import { CIPHER, FORMAT_VERSIONS, HEADER_CRC_BYTES, HEADER_MARKER, HEADER_PREFIX_BYTES, HEADER_SIGNATURE_BYTES, LIMITS } from './limits.js';

export interface AdminIdentity {
  userNum: number;
  userName: string;
  /** ISO 8601 with the producer's UTC offset, or null when unknown. */
  lastLoginAt: string | null;
}

/** An enrolled admin the file key is wrapped to. */
export interface AdminRecipient {
  kind: 'admin';
  userNum: number;
  userName: string;
  /** When the admin enrolled this key (ISO 8601, UTC). */
  enrolledAt: string;
  /** The admin's Open Dental password changed after enrolling: the file opens with the one they had then. */
  passwordChangedSince: boolean;
  kdf: KdfParams;
  publicKey: string;
  sealedPrivateKey: string;
  wrappedFileKey: WrappedFileKey;
}

/** The practice recovery key (opt-in). */
export interface RecoveryRecipient {
  kind: 'recovery';
  createdAt: string;
  fingerprint: string;
  publicKey: string;
  /** base64(nonce(12) || AEAD(key from the code, producer public key)). */
  sealedProducerKey: string;
  wrappedFileKey: WrappedFileKey;
}

export type Recipient = AdminRecipient | RecoveryRecipient;

export interface BackupHeader {
  format: 'lastresort-backup';
  formatVersion: number;
  createdAt: string;
  database: string;
  serverVersion: string;
  producerVersion: string;
  /** The admin whose password opens the file (the first admin recipient), or null for a recovery-code-only file. */
  admin: AdminIdentity | null;
  /** The admin who logged on last when the backup was made (differs from `admin` when they had no usable key). */
  lastToLogOn: AdminIdentity | null;
  recipients: Recipient[];
  /** Fingerprint of the producer's signing key (Ed25519). */
  signedBy: string;
  cipher: typeof CIPHER;
  chunkSize: number;
  /** base64 of 16 random bytes; its first 4 bytes tag every chunk frame of this file. */
  fileId: string;
  /** Version 3 only: each chunk's span is one zstd frame (the level is informative). */
  compression?: { algorithm: 'zstd'; level: number };
  /** Absent in files made before it was recorded. */
  moment?: MomentFacts;
}

/** Whether a backup is one moment across every table (docs/format.md, 2.1). */
export interface MomentFacts {
  oneMoment: boolean;
  /** Why not, in plain words (the missing grant, the session in the way); null when it is one moment. */
  notOneMoment: string | null;
  /** The longest the office's writes were held at a time for it (ms). */
  writesHeldMs: number;
  /** How many tables were held still (the MyISAM/Aria ones; InnoDB tables need no hold). */
  tablesHeld: number;
}

export interface HeaderFrame {
  header: BackupHeader;
  /** The frame from its marker to the end of the JSON, exactly as stored: signed with the magic line before it. */
  signedPart: Buffer;
  signature: Buffer;
  frameLength: number;
}

export function sealedKeyOf(r: AdminRecipient): SealedKey {
  return { algorithm: 'x25519', publicKey: r.publicKey, sealedPrivateKey: r.sealedPrivateKey, kdf: r.kdf };
}

export const adminRecipients = (h: BackupHeader): AdminRecipient[] => h.recipients.filter((r): r is AdminRecipient => r.kind === 'admin');
export const recoveryRecipient = (h: BackupHeader): RecoveryRecipient | undefined => h.recipients.find((r): r is RecoveryRecipient => r.kind === 'recovery');

export function fileTagOf(header: BackupHeader): Buffer {
  return Buffer.from(header.fileId, 'base64').subarray(0, 4);
}

/** The frame's marker, JSON length and JSON: the part the signature covers (after the magic line). */
export function headerSignedPart(json: Buffer): Buffer {
  const prefix = Buffer.alloc(HEADER_PREFIX_BYTES);
  HEADER_MARKER.copy(prefix, 0);
  prefix.writeUInt32BE(json.length, 4);
  return Buffer.concat([prefix, json]);
}

export function encodeHeaderFrame(signedPart: Buffer, signature: Buffer): Buffer {
  const body = Buffer.concat([signedPart, signature]);
  const crc = Buffer.alloc(HEADER_CRC_BYTES);
  crc.writeUInt32BE(crc32(body), 0);
  return Buffer.concat([body, crc]);
}

export type HeaderProbe =
  | { kind: 'ok'; frame: HeaderFrame }
  | { kind: 'need'; bytes: number }
  | { kind: 'bad'; reason: string };

/**
 * Parses a header frame at the start of `buf`. Says how many bytes it needs
 * when `buf` is too short, and never asks for more than the bound allows.
 */
export function probeHeaderFrame(buf: Buffer): HeaderProbe {
  if (buf.length < HEADER_PREFIX_BYTES) return { kind: 'need', bytes: HEADER_PREFIX_BYTES };
  if (!buf.subarray(0, 4).equals(HEADER_MARKER)) return { kind: 'bad', reason: 'no header marker' };
  const jsonLength = buf.readUInt32BE(4);
  if (jsonLength === 0 || jsonLength > LIMITS.headerJsonMax) return { kind: 'bad', reason: `header length ${jsonLength} out of bounds` };
  const frameLength = HEADER_PREFIX_BYTES + jsonLength + HEADER_SIGNATURE_BYTES + HEADER_CRC_BYTES;
  if (buf.length < frameLength) return { kind: 'need', bytes: frameLength };
  const crcAt = frameLength - HEADER_CRC_BYTES;
  if (crc32(buf.subarray(0, crcAt)) !== buf.readUInt32BE(crcAt)) return { kind: 'bad', reason: 'header checksum mismatch' };
  const signedPart = Buffer.from(buf.subarray(0, HEADER_PREFIX_BYTES + jsonLength));
  const signature = Buffer.from(buf.subarray(HEADER_PREFIX_BYTES + jsonLength, crcAt));
  let parsed: unknown;
  try {
    parsed = JSON.parse(signedPart.subarray(HEADER_PREFIX_BYTES).toString('utf8'));
  } catch {
    return { kind: 'bad', reason: 'header is not JSON' };
  }
  const header = validateHeader(parsed);
  return { kind: 'ok', frame: { header, signedPart, signature, frameLength } };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max = 1024) => typeof v === 'string' && v.length <= max;
/** base64 of exactly `bytes` bytes. */
const b64 = (v: unknown, bytes: number) => strictBase64(v)?.length === bytes;

function hostile(what: string): LrError {
  return new LrError('LR_HOSTILE_HEADER', `This file's header is not valid (${what}); it is not a backup this tool can open.`);
}

function validIdentity(v: unknown): boolean {
  return isObj(v) && Number.isSafeInteger(v.userNum) && str(v.userName, 255) && (v.lastLoginAt === null || str(v.lastLoginAt, 64));
}

function validWrap(w: unknown): boolean {
  return isObj(w) && b64(w.ephemeralPublicKey, 32) && b64(w.ciphertext, 48);
}

function checkRecipient(r: unknown): void {
  if (!isObj(r)) throw hostile('recipient');
  if (r.kind === 'admin') {
    if (!validIdentity({ ...r, lastLoginAt: null }) || !str(r.enrolledAt, 64) || typeof r.passwordChangedSince !== 'boolean') throw hostile('admin recipient');
    if (!isObj(r.kdf)) throw hostile('kdf');
    checkKdfParams(r.kdf as unknown as KdfParams);
    if (!b64(r.publicKey, 32) || !b64(r.sealedPrivateKey, 92) || !validWrap(r.wrappedFileKey)) throw hostile('admin key');
  } else if (r.kind === 'recovery') {
    if (!str(r.createdAt, 64) || !str(r.fingerprint, 64) || !b64(r.publicKey, 32) || !b64(r.sealedProducerKey, 60) || !validWrap(r.wrappedFileKey)) throw hostile('recovery key');
  } else throw hostile('recipient kind');
}

/** Throws LR_UNSUPPORTED_VERSION / LR_HOSTILE_HEADER; the checksum already passed, so a failure here is a crafted or foreign file. */
export function validateHeader(v: unknown): BackupHeader {
  if (!isObj(v) || v.format !== 'lastresort-backup') throw hostile('format');
  if (typeof v.formatVersion !== 'number' || !FORMAT_VERSIONS.includes(v.formatVersion)) {
    throw new LrError('LR_UNSUPPORTED_VERSION', `This backup uses format version ${String(v.formatVersion).slice(0, 10)}, which this version of lastresort cannot read. Install a newer lastresort.`);
  }
  for (const f of ['createdAt', 'database', 'serverVersion', 'producerVersion', 'fileId', 'signedBy'] as const) if (!str(v[f])) throw hostile(f);
  if (!(v.admin === null || validIdentity(v.admin))) throw hostile('admin');
  if (!(v.lastToLogOn === null || validIdentity(v.lastToLogOn))) throw hostile('last admin');
  const recipients = v.recipients;
  if (!Array.isArray(recipients) || recipients.length === 0) throw hostile('recipients');
  recipients.forEach(checkRecipient);
  const admins = recipients.filter((r) => (r as Recipient).kind === 'admin') as AdminRecipient[];
  if (admins.length > LIMITS.adminRecipientsMax || recipients.length - admins.length > 1) throw hostile('too many recipients');
  const first = admins[0];
  const admin = v.admin as AdminIdentity | null;
  if (first ? admin?.userNum !== first.userNum : admin !== null) throw hostile('admin');
  if (v.cipher !== CIPHER) throw hostile('cipher');
  const cs = v.chunkSize;
  if (!Number.isInteger(cs) || (cs as number) < LIMITS.chunkSizeMin || (cs as number) > LIMITS.chunkSizeMax) throw hostile('chunk size');
  if (!b64(v.fileId, 16)) throw hostile('file id');
  const c = v.compression;
  if (v.formatVersion === 3 ? !(isObj(c) && c.algorithm === 'zstd' && Number.isInteger(c.level) && (c.level as number) >= -131072 && (c.level as number) <= 22) : c !== undefined) throw hostile('compression');
  if (v.moment !== undefined && !validMoment(v.moment)) throw hostile('moment');
  return v as unknown as BackupHeader;
}

function validMoment(m: unknown): boolean {
  if (!isObj(m) || typeof m.oneMoment !== 'boolean' || !(m.notOneMoment === null || str(m.notOneMoment, 1024))) return false;
  if (m.oneMoment !== (m.notOneMoment === null)) return false;
  return Number.isSafeInteger(m.writesHeldMs) && (m.writesHeldMs as number) >= 0 && Number.isSafeInteger(m.tablesHeld) && (m.tablesHeld as number) >= 0;
}

/** Who the reports name as opening the file: the admin, or the recovery code for a file made for it alone. */
export function whoOpens(h: Pick<BackupHeader, 'admin'>): AdminIdentity {
  return h.admin ?? { userNum: 0, userName: 'the practice recovery code', lastLoginAt: null };
}
