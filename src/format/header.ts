/**
 * The cleartext header (docs/format.md, "Header frame"):
 *
 *   "LRHD" | u32 jsonLength | json | mac(32) | u32 crc32(everything before)
 *
 * Anyone can read it (identify needs no password); the MAC, keyed from the file
 * key, is checked once the password is known. The frame is written twice: after
 * the magic line and again at the end of the file, so one damaged copy loses
 * nothing. Parsing validates every field and every bound before use.
 */
import { crc32 } from 'node:zlib';
import { LrError } from '../errors.js';
import type { KdfParams, SealedKey, WrappedFileKey } from '../keys/crypto.js';
import { checkKdfParams } from '../keys/crypto.js';
import { CIPHER, FORMAT_VERSION, HEADER_CRC_BYTES, HEADER_MAC_BYTES, HEADER_MARKER, HEADER_PREFIX_BYTES, LIMITS } from './limits.js';

export interface AdminIdentity {
  userNum: number;
  userName: string;
  lastLoginAt: string | null;
}

export interface BackupHeader {
  format: 'lastresort-backup';
  formatVersion: number;
  createdAt: string;
  database: string;
  serverVersion: string;
  producerVersion: string;
  admin: AdminIdentity;
  kdf: KdfParams;
  key: { algorithm: 'x25519'; publicKey: string; sealedPrivateKey: string };
  wrappedFileKey: WrappedFileKey;
  cipher: typeof CIPHER;
  chunkSize: number;
  /** base64 of 16 random bytes; its first 4 bytes tag every chunk frame of this file. */
  fileId: string;
}

export interface HeaderFrame {
  header: BackupHeader;
  /** The JSON bytes exactly as stored: what the MAC covers (with the frame prefix). */
  macInput: Buffer;
  mac: Buffer;
  frameLength: number;
}

export function sealedKeyOf(header: BackupHeader): SealedKey {
  return { algorithm: 'x25519', publicKey: header.key.publicKey, sealedPrivateKey: header.key.sealedPrivateKey, kdf: header.kdf };
}

export function fileTagOf(header: BackupHeader): Buffer {
  return Buffer.from(header.fileId, 'base64').subarray(0, 4);
}

/** Bytes the MAC covers: the frame from its marker to the end of the JSON. */
export function headerMacInput(json: Buffer): Buffer {
  const prefix = Buffer.alloc(HEADER_PREFIX_BYTES);
  HEADER_MARKER.copy(prefix, 0);
  prefix.writeUInt32BE(json.length, 4);
  return Buffer.concat([prefix, json]);
}

export function encodeHeaderFrame(macInput: Buffer, mac: Buffer): Buffer {
  const body = Buffer.concat([macInput, mac]);
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
  const frameLength = HEADER_PREFIX_BYTES + jsonLength + HEADER_MAC_BYTES + HEADER_CRC_BYTES;
  if (buf.length < frameLength) return { kind: 'need', bytes: frameLength };
  const crcAt = frameLength - HEADER_CRC_BYTES;
  if (crc32(buf.subarray(0, crcAt)) !== buf.readUInt32BE(crcAt)) return { kind: 'bad', reason: 'header checksum mismatch' };
  const macInput = Buffer.from(buf.subarray(0, HEADER_PREFIX_BYTES + jsonLength));
  const mac = Buffer.from(buf.subarray(HEADER_PREFIX_BYTES + jsonLength, crcAt));
  let parsed: unknown;
  try {
    parsed = JSON.parse(macInput.subarray(HEADER_PREFIX_BYTES).toString('utf8'));
  } catch {
    return { kind: 'bad', reason: 'header is not JSON' };
  }
  const header = validateHeader(parsed);
  return { kind: 'ok', frame: { header, macInput, mac, frameLength } };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max = 1024) => typeof v === 'string' && v.length <= max;

/** Throws LR_UNSUPPORTED_VERSION / LR_HOSTILE_HEADER; the checksum already passed, so a failure here is a crafted or foreign file. */
export function validateHeader(v: unknown): BackupHeader {
  const hostile = (what: string) => new LrError('LR_HOSTILE_HEADER', `This file's header is not valid (${what}); it is not a backup this tool can open.`);
  if (!isObj(v) || v.format !== 'lastresort-backup') throw hostile('format');
  if (v.formatVersion !== FORMAT_VERSION) {
    throw new LrError('LR_UNSUPPORTED_VERSION', `This backup uses format version ${String(v.formatVersion).slice(0, 10)}, which this version of lastresort cannot read. Install a newer lastresort.`);
  }
  for (const f of ['createdAt', 'database', 'serverVersion', 'producerVersion', 'fileId'] as const) if (!str(v[f])) throw hostile(f);
  const admin = v.admin;
  if (!isObj(admin) || !Number.isSafeInteger(admin.userNum) || !str(admin.userName) || !(admin.lastLoginAt === null || str(admin.lastLoginAt))) throw hostile('admin');
  if (!isObj(v.kdf)) throw hostile('kdf');
  checkKdfParams(v.kdf as unknown as KdfParams);
  const key = v.key;
  if (!isObj(key) || key.algorithm !== 'x25519' || !str(key.publicKey, 64) || !str(key.sealedPrivateKey, 256)) throw hostile('key');
  const w = v.wrappedFileKey;
  if (!isObj(w) || !str(w.ephemeralPublicKey, 64) || !str(w.ciphertext, 128)) throw hostile('wrapped key');
  if (v.cipher !== CIPHER) throw hostile('cipher');
  const cs = v.chunkSize;
  if (!Number.isInteger(cs) || (cs as number) < LIMITS.chunkSizeMin || (cs as number) > LIMITS.chunkSizeMax) throw hostile('chunk size');
  if (Buffer.from(v.fileId as string, 'base64').length !== 16) throw hostile('file id');
  return v as unknown as BackupHeader;
}
