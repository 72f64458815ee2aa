/**
 * Fixed strings and the bounds a reader enforces before acting on anything a
 * file says. A crafted file must not make the reader allocate without bound
 * or spin for minutes in key derivation. See docs/format.md.
 */
import { KDF_BOUNDS } from '../keys/crypto.js';

export const MAGIC_PREFIX = 'lastresort-backup v';
/** The version the writer makes by default (3 since compression; version 2 files still open, forever). */
export const FORMAT_VERSION = 3;
/**
 * The version a writer makes when its caller names none: FORMAT_VERSION, or
 * LASTRESORT_FORMAT_VERSION when set to a version this writer knows (the
 * tests make version 2 backups of a real database with it; a way back to
 * uncompressed files should one ever be wanted). Anything else is ignored.
 */
export function defaultWriteVersion(): number {
  const v = Number(process.env.LASTRESORT_FORMAT_VERSION);
  return process.env.LASTRESORT_FORMAT_VERSION && FORMAT_VERSIONS.includes(v) ? v : FORMAT_VERSION;
}
/** The versions a reader opens: 2 (chunks stored as they are), 3 (each chunk a zstd frame, then sealed). */
export const FORMAT_VERSIONS: readonly number[] = [2, 3];
export type FormatVersion = 2 | 3;
export const magicLineOf = (version: number): string => `${MAGIC_PREFIX}${version}\n`;
export const MAGIC_LINE = magicLineOf(FORMAT_VERSION);
/** The longest magic line a reader will look for (a future version number included). */
export const MAGIC_MAX = 32;

export const HEADER_MARKER = Buffer.from('LRHD', 'latin1');
export const CHUNK_MARKER = Buffer.from('LRCK', 'latin1');
export const TRAILER_MARKER = Buffer.from('LRTRAILR', 'latin1');

/** marker(4) + jsonLength(4) */
export const HEADER_PREFIX_BYTES = 8;
/** The producer's Ed25519 signature over the magic line and the frame up to the end of the JSON. */
export const HEADER_SIGNATURE_BYTES = 64;
export const HEADER_CRC_BYTES = 4;
/** marker(8) + copyLength(4) + crc(4) */
export const TRAILER_BYTES = 16;
/** marker(4) + fileTag(4) + index(8) + flags(1) + reserved(3) + length(4) + headerCrc(4) */
export const CHUNK_HEAD_BYTES = 28;
export const CHUNK_CRC_BYTES = 4;
export const AEAD_TAG_BYTES = 16;
export const FLAG_FINAL = 0x01;
/**
 * Version 3: a chunk's sealed plaintext is a zstd frame of its span; the
 * frame may exceed the span by this much (incompressible data: a frame of
 * raw blocks is the span plus at most 33 bytes for a span of 1 MiB).
 */
export const ZSTD_FRAME_SLACK = 64;
/** The zstd level the writer uses (zstd's own default; the frame rules of docs/format.md hold for it at every span). */
export const ZSTD_LEVEL = 3;
/** The longest sealed chunk a head may declare. */
export function maxSealedOf(version: number, chunkSize: number): number {
  return chunkSize + AEAD_TAG_BYTES + (version === 3 ? ZSTD_FRAME_SLACK : 0);
}
/** Version 3's index frame (section 4.2): marker, file tag, count, sealed length, head checksum. */
export const INDEX_MARKER = Buffer.from('LRIX', 'latin1');
export const INDEX_HEAD_BYTES = 20;
/** After the sealed index: its checksum and the frame's own length, read back from the header copy's start. */
export const INDEX_TAIL_BYTES = 8;

export const LIMITS = {
  headerJsonMax: 64 * 1024,
  chunkSizeMin: 1024,
  chunkSizeMax: 1024 * 1024,
  /** The key derivation's bounds (keys/crypto.ts checks them before the password is tried). */
  ...KDF_BOUNDS,
  /** 2^48 chunks of 1 MiB is far beyond any database; bounds index arithmetic. */
  chunkIndexMax: 2 ** 48 - 1,
  /** Admin recipients a reader tries a password on (each costs one key derivation). */
  adminRecipientsMax: 4,
} as const;

/** The longest header frame: prefix, the longest JSON, signature, checksum. */
export const HEADER_FRAME_MAX = HEADER_PREFIX_BYTES + LIMITS.headerJsonMax + HEADER_SIGNATURE_BYTES + HEADER_CRC_BYTES;

export const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** Version 3's default span: larger spans compress better, smaller ones lose fewer rows to one damaged chunk. */
export const DEFAULT_SPAN_V3 = 256 * 1024;
export const CIPHER = 'chacha20-poly1305';
