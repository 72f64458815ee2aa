/**
 * Crafted (hostile, not damaged) backups for tests: written by the project's
 * own encrypting writer, then, where a field the writer would never write is
 * wanted, with the header JSON of both copies rewritten and every checksum
 * recomputed, so only the reader's validation stands in the way.
 */
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { createSealedKey, FAST_TEST_KDF, newSigningKey } from '../../src/keys/crypto.js';
import { createEncryptingWriter, type WriterOptions } from '../../src/format/writer.js';
import { probeHeaderFrame } from '../../src/format/header.js';
import { FORMAT_VERSION, HEADER_PREFIX_BYTES, MAGIC_LINE, magicLineOf, TRAILER_BYTES } from '../../src/format/limits.js';

/** A well-formed backup of `payload`, encrypted for `password` (cheap test KDF unless `kdf` is given). */
export async function craftBackup(opts: Partial<Omit<WriterOptions, 'key'>> & { password: string; payload?: Buffer; kdf?: { memoryKiB: number; iterations: number; parallelism: number } }): Promise<Buffer> {
  const signingKey = opts.signingKey ?? newSigningKey();
  const key = await createSealedKey(opts.password, signingKey.publicKey, opts.kdf ?? FAST_TEST_KDF);
  const w = createEncryptingWriter({
    database: opts.database ?? 'crafted',
    serverVersion: opts.serverVersion ?? 'none',
    producerVersion: opts.producerVersion ?? 'test craft',
    admin: opts.admin ?? { userNum: 1, userName: 'jsmith', lastLoginAt: null },
    key,
    signingKey,
    chunkSize: opts.chunkSize ?? 1024,
    createdAt: opts.createdAt,
    moment: opts.moment,
    formatVersion: opts.formatVersion,
  });
  const out: Buffer[] = [];
  await pipeline(Readable.from([opts.payload ?? Buffer.from('crafted payload\n')]), w.stream, async function* (src: AsyncIterable<Buffer>) {
    for await (const b of src) out.push(b);
  });
  return Buffer.concat(out);
}

/** A signed file taken apart: header JSON, signature, and the chunk frames between the two header copies. */
export interface SignedParts {
  header: Record<string, any>;
  signature: Buffer;
  payload: Buffer;
}

export function splitSigned(file: Buffer): SignedParts {
  const probe = probeHeaderFrame(file.subarray(MAGIC_LINE.length));
  if (probe.kind !== 'ok') throw new Error('not a well-formed backup');
  const { signedPart, signature, frameLength } = probe.frame;
  const header = JSON.parse(signedPart.subarray(HEADER_PREFIX_BYTES).toString('utf8')) as Record<string, unknown>;
  return { header, signature, payload: file.subarray(MAGIC_LINE.length + frameLength, file.length - TRAILER_BYTES - frameLength) };
}

/** A file from its parts, both header copies and the trailer consistent (checksums recomputed): crafted, not damaged. */
export function joinSigned(p: SignedParts): Buffer {
  const json = Buffer.from(JSON.stringify(p.header), 'utf8');
  const prefix = Buffer.alloc(HEADER_PREFIX_BYTES);
  prefix.write('LRHD', 0, 'latin1');
  prefix.writeUInt32BE(json.length, 4);
  const body = Buffer.concat([prefix, json, p.signature]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body), 0);
  const frame = Buffer.concat([body, crc]);
  const trailer = Buffer.alloc(TRAILER_BYTES);
  trailer.write('LRTRAILR', 0, 'latin1');
  trailer.writeUInt32BE(frame.length, 8);
  trailer.writeUInt32BE(crc32(trailer.subarray(0, 12)), 12);
  // A crafted, non-numeric formatVersion keeps the file's magic line, so the reader meets the header where it belongs.
  const version = Number(p.header.formatVersion);
  const magic = magicLineOf(Number.isInteger(version) ? version : FORMAT_VERSION);
  return Buffer.concat([Buffer.from(magic), frame, p.payload, frame, trailer]);
}

/** Rewrites the header JSON of both copies (checksums recomputed; the signature is left, so it no longer matches). */
export function rewriteHeader(good: Buffer, edit: (h: Record<string, unknown>) => void): Buffer {
  const parts = splitSigned(good);
  edit(parts.header);
  return joinSigned(parts);
}

export interface CraftedVector {
  file: string;
  /** How it was made, for the person reading a failure. */
  note: string;
}

export async function saveVector(path: string, bytes: Buffer, note: string): Promise<CraftedVector> {
  await writeFile(path, bytes);
  return { file: path, note };
}
