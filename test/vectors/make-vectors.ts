/**
 * Makes the damaged and hostile .lrb test vectors in this folder, and
 * vectors.json saying how each was made and what a reader must find in it.
 *
 *   npx tsx test/vectors/make-vectors.ts            (keeps good.lrb)
 *   npx tsx test/vectors/make-vectors.ts --fresh    (writes a new good.lrb)
 *
 * One good file (known plaintext, cheap KDF, 1 KiB chunks) is written by the
 * real encrypting writer; every other vector is that file damaged by the
 * injector of the damage suite, or crafted (here and in ../damage/forge.ts).
 * Everything but the good file is made deterministically from it, so a rerun
 * keeps every vector's bytes unless --fresh draws a new file key and id;
 * commit the vectors and vectors.json together.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createSealedKey, FAST_TEST_KDF, newSigningKey } from '../../src/keys/crypto.js';
import { createEncryptingWriter } from '../../src/format/writer.js';
import { MAGIC_LINE } from '../../src/format/limits.js';
import { injectDamage, layoutOf, type DamageKind, type FileLayout } from '../damage/inject.js';
import { authenticBeyondFinal, fakeFrameBefore, forgeFarAhead, forgeFarFinalAfterCut, shortenHead, swapFinal, type Crafted } from '../damage/forge.js';
import { locateHeader, unlockBackup } from '../../src/format/reader.js';
import { VECTOR_CHUNK_SIZE, VECTOR_PASSWORD, vectorPlaintext, type VectorSpec } from './plaintext.js';
import { rewriteHeader } from '../helpers/craft.js';

/** The producer key these files are signed with (a real producer keeps its own in a root-only file). */
const SIGNING_KEY = newSigningKey();

const DIR = fileURLToPath(new URL('.', import.meta.url));

async function goodFile(): Promise<Buffer> {
  const key = await createSealedKey(VECTOR_PASSWORD, SIGNING_KEY.publicKey, FAST_TEST_KDF);
  const w = createEncryptingWriter({ database: 'vectors', serverVersion: 'none', producerVersion: 'make-vectors', admin: { userNum: 1, userName: 'jsmith', lastLoginAt: null }, key, signingKey: SIGNING_KEY, chunkSize: VECTOR_CHUNK_SIZE, createdAt: new Date('2026-01-01T00:00:00Z') });
  const out: Buffer[] = [];
  const plaintext = vectorPlaintext();
  await pipeline(Readable.from([plaintext.subarray(0, 7000), plaintext.subarray(7000)]), w.stream, async function* (src: AsyncIterable<Buffer>) {
    for await (const b of src) out.push(b);
  });
  return Buffer.concat(out);
}

/** Rewrites one frame head (and its head checksum). */
function withFrameHead(good: Buffer, layout: FileLayout, index: number, edit: (head: Buffer) => void): Buffer {
  const out = Buffer.from(good);
  const at = layout.frames[index]!.offset;
  const head = out.subarray(at, at + 28);
  edit(head);
  head.writeUInt32BE(crc32(head.subarray(0, 24)), 24);
  return out;
}

/** The committed good file, unless --fresh asks for a new one (or there is none). */
async function theGoodFile(): Promise<Buffer> {
  if (!process.argv.includes('--fresh')) {
    const kept = await readFile(new URL('good.lrb', import.meta.url)).catch(() => null);
    if (kept) return kept;
  }
  return goodFile();
}

/** The good file's payload key, for the one vector sealed with it. */
async function payloadKeyOf(good: Buffer): Promise<Buffer> {
  const path = fileURLToPath(new URL('good.lrb', import.meta.url));
  await writeFile(path, good);
  const unlocked = await unlockBackup(await locateHeader(path), VECTOR_PASSWORD);
  if (!unlocked) throw new Error('the vector password does not open good.lrb');
  return unlocked.payloadKey;
}

async function main(): Promise<void> {
  const good = await theGoodFile();
  const layout = layoutOf(good);
  const n = layout.frames.length;
  const specs: VectorSpec[] = [{ file: 'good.lrb', note: `the good file: ${vectorPlaintext().length} bytes of known plaintext in ${n} chunks of ${VECTOR_CHUNK_SIZE}`, lostChunks: [], truncated: false }];
  const vectors = new Map<string, Buffer>([['good.lrb', good]]);

  const injected: [DamageKind, number][] = [
    ['flip-1', 1], ['flip-5', 1], ['zero-1mib', 1], ['flip-last', 1], ['truncate-random', 1], ['truncate-boundary', 1],
    ['truncate-header', 1], ['truncate-0', 1], ['zero-first-header', 1], ['zero-both-headers', 1],
    ['delete-1000', 1], ['insert-1000', 1], ['swap-2', 1], ['append-garbage', 1],
  ];
  const errors: Partial<Record<DamageKind, string>> = { 'truncate-header': 'LR_HEADER_DAMAGED', 'truncate-0': 'LR_NOT_BACKUP', 'zero-both-headers': 'LR_HEADER_DAMAGED' };
  for (const [kind, seed] of injected) {
    const d = injectDamage(good, layout, kind, seed);
    // The injector zeroes 1 MiB, or half the payload of a file this small.
    const file = `${kind === 'zero-1mib' ? 'zero-range' : kind}.lrb`;
    vectors.set(file, d.bytes);
    specs.push({ file, note: `${kind} (injector seed ${seed}): ${d.note}`, lostChunks: d.lostChunks, truncated: d.truncated, error: errors[kind] });
  }

  // Reader-specific cases the injector does not make.
  const crcAt = layout.frames[3]!.offset + layout.frames[3]!.length - 2;
  const crcFlip = Buffer.from(good);
  crcFlip[crcAt] = crcFlip[crcAt]! ^ 0x40;
  vectors.set('body-crc-flip.lrb', crcFlip);
  specs.push({ file: 'body-crc-flip.lrb', note: `one bit flipped in chunk 3's body checksum (file offset ${crcAt}); the sealed bytes are whole, so authentication keeps the chunk`, lostChunks: [], truncated: false });

  const [a, b] = [layout.frames[2]!, layout.frames[2 + 10]!];
  vectors.set('swap-far.lrb', Buffer.concat([good.subarray(0, a.offset), good.subarray(b.offset, b.offset + b.length), good.subarray(a.offset + a.length, b.offset), good.subarray(a.offset, a.offset + a.length), good.subarray(b.offset + b.length)]));
  specs.push({ file: 'swap-far.lrb', note: 'chunk frames 2 and 12 swapped: further apart than the reorder window (8), so chunk 2 is given up; every other chunk is kept', lostChunks: [2], truncated: false });

  const dup = layout.frames[5]!;
  vectors.set('duplicate-frame.lrb', Buffer.concat([good.subarray(0, dup.offset + dup.length), good.subarray(dup.offset, dup.offset + dup.length), good.subarray(dup.offset + dup.length)]));
  specs.push({ file: 'duplicate-frame.lrb', note: 'chunk frame 5 written twice in a row; the copy is dropped as misplaced', lostChunks: [], truncated: false });

  // Hostile: checksums recomputed, so only validation stands in the way.
  vectors.set('hostile-kdf.lrb', rewriteHeader(good, (h) => (((h.recipients as Record<string, Record<string, unknown>>[])[0]!.kdf as Record<string, unknown>).memoryKiB = 64 * 1024 * 1024)));
  specs.push({ file: 'hostile-kdf.lrb', note: 'both header copies ask for argon2id with 64 GiB of memory, checksums recomputed', lostChunks: [], truncated: false, error: 'LR_HOSTILE_HEADER' });
  vectors.set('hostile-chunk-size.lrb', rewriteHeader(good, (h) => (h.chunkSize = 2 ** 31)));
  specs.push({ file: 'hostile-chunk-size.lrb', note: 'both header copies claim 2 GiB chunks, checksums recomputed', lostChunks: [], truncated: false, error: 'LR_HOSTILE_HEADER' });
  vectors.set('future-version.lrb', Buffer.concat([Buffer.from(MAGIC_LINE.replace(/v\d+\n/, 'v9\n')), good.subarray(MAGIC_LINE.length)]));
  specs.push({ file: 'future-version.lrb', note: 'the magic line says format v9', lostChunks: [], truncated: false, error: 'LR_UNSUPPORTED_VERSION' });
  vectors.set('foreign.lrb', Buffer.from('%PDF-1.7\n' + 'x'.repeat(3000)));
  specs.push({ file: 'foreign.lrb', note: 'not a backup: a PDF-like text file', lostChunks: [], truncated: false, error: 'LR_NOT_BACKUP' });
  vectors.set('index-far-ahead.lrb', withFrameHead(good, layout, 4, (head) => head.writeUInt32BE(2 ** 15, 8)));
  specs.push({ file: 'index-far-ahead.lrb', note: "chunk 4's head rewritten to claim index 2^47 (head checksum recomputed): it cannot authenticate there, so chunk 4 is lost, nothing else, and no hole of 2^47 chunks is made", lostChunks: [4], truncated: false });
  const last = layout.frames[n - 1]!;
  vectors.set('length-max-cut.lrb', withFrameHead(good, layout, n - 1, (head) => head.writeUInt32BE(VECTOR_CHUNK_SIZE + 16, 20)).subarray(0, last.offset + 100));
  specs.push({ file: 'length-max-cut.lrb', note: `the final chunk ${n - 1}'s head rewritten to claim the largest length allowed, and the file cut 100 bytes into it`, lostChunks: [n - 1], truncated: true });

  const zeroed = injectDamage(good, layout, 'zero-first-header', 1);
  const garbage = injectDamage(zeroed.bytes, layout, 'append-garbage', 2);
  vectors.set('zero-first-header-garbage.lrb', garbage.bytes);
  specs.push({ file: 'zero-first-header-garbage.lrb', note: `the first header frame zeroed (as zero-first-header.lrb), then ${garbage.note.replace(/ after the trailer$/, '')} after the trailer: the header copy is found by searching back for the trailer`, lostChunks: [], truncated: false });

  // Crafted to test one rule of the frame walker each (docs/format.md, "Reading with damage").
  const crafted: [string, Crafted][] = [
    ['index-far-ahead-9.lrb', forgeFarAhead(good, layout, 1)],
    ['index-far-final-cut.lrb', forgeFarFinalAfterCut(good, layout, 1)],
    ['short-length-head.lrb', shortenHead(good, layout, 6)],
    ['final-swapped.lrb', swapFinal(good, layout)],
    ['authentic-beyond-final.lrb', authenticBeyondFinal(good, layout, await payloadKeyOf(good))],
    ['fake-frame-before-7.lrb', fakeFrameBefore(good, layout, 7)],
  ];
  for (const [file, c] of crafted) {
    vectors.set(file, c.bytes);
    specs.push({ file, note: c.note, lostChunks: c.lostChunks, truncated: c.truncated });
  }

  for (const [file, bytes] of vectors) await writeFile(new URL(file, import.meta.url), bytes);
  await writeFile(new URL('vectors.json', import.meta.url), JSON.stringify(specs, null, 2) + '\n');
  process.stdout.write(`${vectors.size} vectors written to ${DIR}; the table for README.md:\n\n`);
  for (const v of specs) {
    const found = v.error ?? `${v.lostChunks.length ? `chunks ${v.lostChunks.join(', ')} lost` : 'nothing lost'}${v.truncated ? ', cut short' : ''}`;
    process.stdout.write(`| \`${v.file}\` | ${v.note} | ${found} |\n`);
  }
}

await main();
