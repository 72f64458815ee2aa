/**
 * Fixed strings and the bounds a reader enforces before acting on anything a
 * file says. A crafted file must not make the reader allocate without bound
 * or spin for minutes in key derivation. See docs/format.md.
 */
import { KDF_BOUNDS } from '../keys/crypto.js';

export const MAGIC_PREFIX = 'lastresort-backup v';
export const FORMAT_VERSION = 2;
export const MAGIC_LINE = `${MAGIC_PREFIX}${FORMAT_VERSION}\n`;
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
export const CIPHER = 'chacha20-poly1305';
