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
import { HEADER_PREFIX_BYTES, HEADER_SIGNATURE_BYTES } from '../../src/format/limits.js';
import { layoutOf } from '../damage/inject.js';

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
  });
  const out: Buffer[] = [];
  await pipeline(Readable.from([opts.payload ?? Buffer.from('crafted payload\n')]), w.stream, async function* (src: AsyncIterable<Buffer>) {
    for await (const b of src) out.push(b);
  });
  return Buffer.concat(out);
}

/** Rewrites the header JSON of both copies (checksums recomputed; the signature is left, so it no longer matches). */
export function rewriteHeader(good: Buffer, edit: (h: Record<string, unknown>) => void): Buffer {
  const layout = layoutOf(good);
  const frame = good.subarray(layout.header.offset, layout.header.offset + layout.header.length);
  const jsonLength = frame.readUInt32BE(4);
  const header = JSON.parse(frame.toString('utf8', HEADER_PREFIX_BYTES, HEADER_PREFIX_BYTES + jsonLength)) as Record<string, unknown>;
  edit(header);
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(HEADER_PREFIX_BYTES);
  frame.copy(prefix, 0, 0, 4);
  prefix.writeUInt32BE(json.length, 4);
  const body = Buffer.concat([prefix, json, frame.subarray(HEADER_PREFIX_BYTES + jsonLength, HEADER_PREFIX_BYTES + jsonLength + HEADER_SIGNATURE_BYTES)]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body), 0);
  const newFrame = Buffer.concat([body, crc]);
  const trailer = Buffer.from(good.subarray(good.length - 16));
  trailer.writeUInt32BE(newFrame.length, 8);
  trailer.writeUInt32BE(crc32(trailer.subarray(0, 12)), 12);
  return Buffer.concat([good.subarray(0, layout.header.offset), newFrame, good.subarray(layout.frames[0]!.offset, layout.headerCopy.offset), newFrame, trailer]);
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
