/**
 * Forgery vectors for format version 2 (see README.md here):
 *   npx tsx test/vectors/forged/make-forged.ts
 * Two genuine files from one producer key, then what a forger can make from
 * their public headers alone. Each forged file opens with nobody's secret.
 */
import { writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createEncryptingWriter, type WriterOptions } from '../../../src/format/writer.js';
import { joinSigned, splitSigned } from '../../helpers/craft.js';
import { createSealedKey, FAST_TEST_KDF, newSigningKey } from '../../../src/keys/crypto.js';
import { VECTOR_PASSWORD } from '../plaintext.js';

export const FORGED_DIR = new URL('.', import.meta.url);

async function fileOf(opts: WriterOptions, plaintext: string): Promise<Buffer> {
  const w = createEncryptingWriter(opts);
  const out: Buffer[] = [];
  Readable.from([Buffer.from(plaintext)]).pipe(w.stream);
  for await (const b of w.stream) out.push(b as Buffer);
  return Buffer.concat(out);
}

export const FORGED = [
  { file: 'genuine.lrb', note: 'made by the producer: opens with the vector password', error: null },
  { file: 'new-file-key.lrb', note: "genuine.lrb's admin key (public key, sealed key, KDF) copied into a new file with a new file key and other content, signed with the forger's own key", error: 'LR_NOT_AUTHENTIC' },
  { file: 'claimed-signer.lrb', note: "new-file-key.lrb with its signedBy field set to the genuine producer's fingerprint (checksums recomputed)", error: 'LR_NOT_AUTHENTIC' },
  { file: 'copied-signature.lrb', note: "genuine-2's header and payload with genuine.lrb's signature (both made by the genuine producer; checksums recomputed)", error: 'LR_NOT_AUTHENTIC' },
] as const;

async function main(): Promise<void> {
  const producer = newSigningKey();
  const key = await createSealedKey(VECTOR_PASSWORD, producer.publicKey, FAST_TEST_KDF);
  const base = { database: 'clinic', serverVersion: 'make-forged', producerVersion: 'make-forged', admin: { userNum: 1, userName: 'jsmith', lastLoginAt: null }, key, enrolledAt: '2026-03-02T09:00:00Z', createdAt: new Date('2026-03-03T23:00:00Z') };
  const genuine = await fileOf({ ...base, signingKey: producer }, 'the genuine backup\n');
  const genuine2 = await fileOf({ ...base, signingKey: producer, createdAt: new Date('2026-03-04T23:00:00Z') }, 'the next night\n');
  const g = splitSigned(genuine);
  const admin = (g.header.recipients as { kind: string; publicKey: string; sealedPrivateKey: string; kdf: never; enrolledAt: string }[])[0]!;
  const forged = await fileOf({ ...base, key: { algorithm: 'x25519', publicKey: admin.publicKey, sealedPrivateKey: admin.sealedPrivateKey, kdf: admin.kdf }, signingKey: newSigningKey() }, 'DROP DATABASE mysql;\n');
  const claimed = splitSigned(forged);
  claimed.header.signedBy = g.header.signedBy;
  const files: Record<string, Buffer> = {
    'genuine.lrb': genuine,
    'new-file-key.lrb': forged,
    'claimed-signer.lrb': joinSigned(claimed),
    'copied-signature.lrb': joinSigned({ ...splitSigned(genuine2), signature: g.signature }),
  };
  for (const [name, bytes] of Object.entries(files)) await writeFile(new URL(name, FORGED_DIR), bytes);
  process.stdout.write(`${Object.keys(files).length} forged vectors written\n`);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) await main();
