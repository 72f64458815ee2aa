/**
 * Makes the version 3 test vectors in this folder: vectors.json (damage,
 * judged by the shared vector suite) and frames.json (hostile zstd frames
 * sealed with the good file's own key, judged by hostile-frames.test.ts).
 *
 *   npx tsx test/vectors/v3/make-v3-vectors.ts            (keeps good.lrb)
 *   npx tsx test/vectors/v3/make-v3-vectors.ts --fresh    (writes a new good.lrb)
 *
 * The good file is written by the real encrypting writer in version 3: the
 * 20,000 bytes of rows of vectorTextPlaintext(), spans of 1 KiB, the cheap
 * test KDF, password `vector password`. Every other vector is made from it
 * deterministically: damage by the damage suite's injector, hostile frames
 * by hand here (each replaces chunk 5's frame with one sealed under the
 * file's payload key, and the index frame is remade to match, so random
 * access reaches it too).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { createSealedKey, FAST_TEST_KDF, newSigningKey, sealChunk } from '../../../src/keys/crypto.js';
import { createEncryptingWriter } from '../../../src/format/writer.js';
import { encodeChunkFrame } from '../../../src/format/chunks.js';
import { encodeIndexFrame } from '../../../src/format/index-frame.js';
import { locateHeader, unlockBackup } from '../../../src/format/reader.js';
import { rawFrame } from '../../../src/format/zstd/frame.js';
import { zstd } from '../../../src/format/zstd/wasm.js';
import { injectDamage, layoutOf, type DamageKind, type FileLayout } from '../../damage/inject.js';
import { fileTagOf } from '../../damage/forge.js';
import { VECTOR_CHUNK_SIZE, VECTOR_PASSWORD, vectorTextPlaintext, type VectorSpec } from '../plaintext.js';

const SIGNING_KEY = newSigningKey();
const DIR = fileURLToPath(new URL('.', import.meta.url));
/** The chunk every hostile frame replaces (non-final, in the middle). */
export const HOSTILE_CHUNK = 5;

async function goodFile(): Promise<Buffer> {
  const key = await createSealedKey(VECTOR_PASSWORD, SIGNING_KEY.publicKey, FAST_TEST_KDF);
  const w = createEncryptingWriter({ database: 'vectors', serverVersion: 'none', producerVersion: 'make-v3-vectors', admin: { userNum: 1, userName: 'jsmith', lastLoginAt: null }, key, signingKey: SIGNING_KEY, chunkSize: VECTOR_CHUNK_SIZE, createdAt: new Date('2026-12-07T00:00:00Z'), formatVersion: 3 });
  const out: Buffer[] = [];
  const plaintext = vectorTextPlaintext();
  await pipeline(Readable.from([plaintext.subarray(0, 7000), plaintext.subarray(7000)]), w.stream, async function* (src: AsyncIterable<Buffer>) {
    for await (const b of src) out.push(b);
  });
  return Buffer.concat(out);
}

async function theGoodFile(): Promise<Buffer> {
  if (!process.argv.includes('--fresh')) {
    const kept = await readFile(new URL('good.lrb', import.meta.url)).catch(() => null);
    if (kept) return kept;
  }
  return goodFile();
}

async function payloadKeyOf(good: Buffer): Promise<Buffer> {
  const path = fileURLToPath(new URL('good.lrb', import.meta.url));
  await writeFile(path, good);
  const unlocked = await unlockBackup(await locateHeader(path), VECTOR_PASSWORD);
  if (!unlocked) throw new Error('the vector password does not open good.lrb');
  return unlocked.payloadKey;
}

/** The good file with chunk `index`'s frame replaced by one sealing `plain` (a crafted zstd frame), head span `span`; the index frame remade. */
function withChunk(good: Buffer, layout: FileLayout, key: Buffer, index: number, plain: Buffer, span: number): Buffer {
  const tag = fileTagOf(good, layout);
  const f = layout.frames[index]!;
  const final = index === layout.frames.length - 1;
  const frame = encodeChunkFrame(tag, index, final, sealChunk(key, index, final, plain), span);
  const lengths = layout.frames.map((g) => (g.index === index ? frame.length : g.length));
  const indexFrame = encodeIndexFrame(tag, key, layout.frames[0]!.offset, lengths);
  return Buffer.concat([good.subarray(0, f.offset), frame, good.subarray(f.offset + f.length, layout.framesEnd), indexFrame, good.subarray(layout.headerCopy.offset)]);
}

/** A zstd frame header by hand: magic, descriptor, then the rest as given. */
const zstdHead = (fhd: number, ...rest: number[]) => Buffer.from([0x28, 0xb5, 0x2f, 0xfd, fhd, ...rest]);
/** Block header: last flag, type (0 raw, 1 RLE, 2 compressed, 3 reserved), size. */
const block = (last: boolean, type: number, size: number) => {
  const h = (last ? 1 : 0) | (type << 1) | (size << 3);
  return Buffer.from([h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff]);
};
/** Single segment, 2-byte content size field (value - 256). */
const fcs2 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n - 256, 0);
  return b;
};

interface FrameSpec extends VectorSpec {
  /** What the frame rules (frame.ts) or zstd itself refuse. */
  refusedBy: string;
}

function hostileFrames(span: Buffer, text: Buffer): [string, Buffer, string, string][] {
  const n = span.length;
  const good = zstd().compress(span, 3);
  const bigger = zstd().compress(text.subarray(0, n + 512), 3); // decodes to 512 bytes past the span
  const patched = Buffer.from(bigger);
  patched.writeUInt16LE(n - 256, 5); // its content size rewritten to the span's
  const skippable = Buffer.alloc(8 + n);
  skippable.writeUInt32LE(0x184d2a50, 0);
  skippable.writeUInt32LE(n, 4);
  const bombFcs = Buffer.alloc(8);
  bombFcs.writeBigUInt64LE(1n << 40n, 0);
  return [
    ['bomb-content-size.lrb', Buffer.concat([zstdHead(0xe0), bombFcs, block(true, 1, 128 * 1024), Buffer.from([0x41])]), 'a frame declaring 1 TiB of content (8-byte content size), one RLE block', 'content size'],
    ['past-span.lrb', patched, `a real frame of ${n + 512} bytes of the plaintext's text, its content size field rewritten to the span (${n}): it decodes past the span`, 'zstd (room for the span only)'],
    ['rle-past-span.lrb', Buffer.concat([zstdHead(0x60), fcs2(n), block(false, 1, n), Buffer.from([0x41]), block(false, 1, n), Buffer.from([0x42]), block(true, 1, n), Buffer.from([0x43])]), `content size ${n}, then three RLE blocks of ${n} bytes each`, 'content size'],
    ['window-descriptor.lrb', Buffer.concat([zstdHead(0x80, 0xf8), Buffer.from([n & 0xff, (n >> 8) & 0xff, 0, 0]), block(true, 0, n), span]), 'not single-segment: a window descriptor asking for a 2^41-byte window (the largest), a 4-byte content size of the span, one raw block', 'window'],
    ['window-small.lrb', Buffer.concat([zstdHead(0x80, 0x00), Buffer.from([n & 0xff, (n >> 8) & 0xff, 0, 0]), block(true, 0, n), span]), 'not single-segment: a window descriptor of 1 KiB (another window size than the content size), one raw block', 'window'],
    ['dictionary.lrb', Buffer.concat([zstdHead(0x61, 0x07), fcs2(n), block(true, 0, n), span]), 'a reference to zstd dictionary 7 (dictionary ID flag 1), then a raw block of the span', 'dictionary'],
    ['skippable.lrb', skippable, `a skippable frame (magic 0x184D2A50) of ${n} zero bytes instead of a zstd frame`, 'not a zstd frame'],
    ['trailing-skippable.lrb', Buffer.concat([good, skippable.subarray(0, 8 + 16)]), 'the real frame of the span, then a skippable frame of 16 bytes after it', 'length'],
    ['trailing-frame.lrb', Buffer.concat([good, zstd().compress(span.subarray(0, 10), 3)]), 'the real frame of the span, then a second zstd frame of 10 bytes', 'length'],
    ['ends-early.lrb', good.subarray(0, good.length - 5), 'the real frame of the span with its last 5 bytes cut (sealed as cut)', 'length'],
    ['short-content.lrb', Buffer.concat([zstdHead(0x60), fcs2(n), block(true, 0, n - 24), span.subarray(0, n - 24)]), `content size ${n}, but one raw block of ${n - 24} bytes: the frame ends early`, 'zstd (content size not met)'],
    ['reserved-block.lrb', Buffer.concat([zstdHead(0x60), fcs2(n), block(true, 3, 10), Buffer.alloc(10)]), 'a block of the reserved type 3', 'block'],
    ['reserved-bit.lrb', Buffer.concat([zstdHead(0x68), fcs2(n), block(true, 0, n), span]), 'the frame header descriptor with its reserved bit (bit 3) set', 'reserved bit'],
    ['not-zstd.lrb', Buffer.from(span), 'the span itself, not compressed (no zstd magic)', 'not a zstd frame'],
    ['raw-good.lrb', rawFrame(span), 'control: the span as a frame of raw blocks made by hand (rawFrame), which the rules allow', 'nothing (accepted)'],
  ];
}

async function main(): Promise<void> {
  const good = await theGoodFile();
  const layout = layoutOf(good);
  const n = layout.frames.length;
  const plaintext = vectorTextPlaintext();
  const specs: VectorSpec[] = [{ file: 'good.lrb', note: `the good file (version 3): ${plaintext.length} bytes of rows of text in ${n} spans of ${VECTOR_CHUNK_SIZE}, each a zstd frame sealed; ${good.length} bytes in all`, lostChunks: [], truncated: false }];
  const vectors = new Map<string, Buffer>([['good.lrb', good]]);

  const injected: [DamageKind, number][] = [
    ['flip-1', 1], ['flip-5', 1], ['zero-1mib', 1], ['flip-last', 2], ['truncate-random', 1], ['truncate-boundary', 1],
    ['truncate-header', 1], ['truncate-0', 1], ['zero-first-header', 1], ['zero-both-headers', 1],
    ['delete-1000', 1], ['insert-1000', 1], ['swap-2', 1], ['append-garbage', 1],
  ];
  // flip-last uses seed 2: seed 1 flips byte 17 of the final frame's head (its span), which destroys the head, so no
  // reader can know where the payload ends and the file reads as cut short; the injector's truth assumes the end is known.
  const errors: Partial<Record<DamageKind, string>> = { 'truncate-header': 'LR_HEADER_DAMAGED', 'truncate-0': 'LR_NOT_BACKUP', 'zero-both-headers': 'LR_HEADER_DAMAGED' };
  for (const [kind, seed] of injected) {
    const d = injectDamage(good, layout, kind, seed);
    const file = `${kind === 'zero-1mib' ? 'zero-range' : kind}.lrb`;
    vectors.set(file, d.bytes);
    specs.push({ file, note: `${kind} (injector seed ${seed}): ${d.note}`, lostChunks: d.lostChunks, truncated: d.truncated, error: errors[kind] });
  }

  const crcAt = layout.frames[3]!.offset + layout.frames[3]!.length - 2;
  const crcFlip = Buffer.from(good);
  crcFlip[crcAt] = crcFlip[crcAt]! ^ 0x40;
  vectors.set('body-crc-flip.lrb', crcFlip);
  specs.push({ file: 'body-crc-flip.lrb', note: `one bit flipped in chunk 3's body checksum (file offset ${crcAt}); the sealed bytes are whole, so authentication keeps the chunk`, lostChunks: [], truncated: false });

  const [a, b] = [layout.frames[2]!, layout.frames[12]!];
  vectors.set('swap-far.lrb', Buffer.concat([good.subarray(0, a.offset), good.subarray(b.offset, b.offset + b.length), good.subarray(a.offset + a.length, b.offset), good.subarray(a.offset, a.offset + a.length), good.subarray(b.offset + b.length)]));
  specs.push({ file: 'swap-far.lrb', note: 'chunk frames 2 and 12 (of different lengths) swapped: further apart than the reorder window (8), so chunk 2 is given up; every other chunk is kept', lostChunks: [2], truncated: false });

  const dup = layout.frames[5]!;
  vectors.set('duplicate-frame.lrb', Buffer.concat([good.subarray(0, dup.offset + dup.length), good.subarray(dup.offset, dup.offset + dup.length), good.subarray(dup.offset + dup.length)]));
  specs.push({ file: 'duplicate-frame.lrb', note: 'chunk frame 5 written twice in a row; the copy is dropped as misplaced', lostChunks: [], truncated: false });

  const idx = Buffer.from(good);
  const idxAt = layout.index!.offset + 20 + 9;
  idx[idxAt] = idx[idxAt]! ^ 0x08;
  vectors.set('index-flip.lrb', idx);
  specs.push({ file: 'index-flip.lrb', note: `one bit flipped inside the sealed index frame (file offset ${idxAt}): random access has no places, reading in order loses nothing`, lostChunks: [], truncated: false });

  const key = await payloadKeyOf(good);
  const span = plaintext.subarray(HOSTILE_CHUNK * VECTOR_CHUNK_SIZE, (HOSTILE_CHUNK + 1) * VECTOR_CHUNK_SIZE);
  const frameSpecs: FrameSpec[] = [];
  for (const [file, frame, note, refusedBy] of hostileFrames(span, plaintext.subarray(10 * VECTOR_CHUNK_SIZE))) {
    vectors.set(file, withChunk(good, layout, key, HOSTILE_CHUNK, frame, VECTOR_CHUNK_SIZE));
    const control = refusedBy.startsWith('nothing');
    frameSpecs.push({ file, note: `chunk ${HOSTILE_CHUNK}'s frame replaced, sealed with the file's key: ${note}`, lostChunks: control ? [] : [HOSTILE_CHUNK], truncated: false, refusedBy });
  }
  const last = n - 1;
  const lastSpan = plaintext.length - last * VECTOR_CHUNK_SIZE;
  const lastFrame = zstd().compress(plaintext.subarray(last * VECTOR_CHUNK_SIZE), 3);
  vectors.set('final-span-mismatch.lrb', withChunk(good, layout, key, last, lastFrame, lastSpan - 1));
  frameSpecs.push({ file: 'final-span-mismatch.lrb', note: `the final chunk ${last}'s real frame (content size ${lastSpan}) resealed under a head whose span says ${lastSpan - 1}`, lostChunks: [last], truncated: false, refusedBy: 'content size (head and frame disagree)' });

  for (const [file, bytes] of vectors) await writeFile(new URL(file, import.meta.url), bytes);
  await writeFile(new URL('vectors.json', import.meta.url), JSON.stringify(specs, null, 2) + '\n');
  await writeFile(new URL('frames.json', import.meta.url), JSON.stringify(frameSpecs, null, 2) + '\n');
  process.stdout.write(`${vectors.size} vectors written to ${DIR}; the tables for README.md:\n\n`);
  for (const v of specs) {
    const found = v.error ?? `${v.lostChunks.length ? `chunks ${v.lostChunks.join(', ')} lost` : 'nothing lost'}${v.truncated ? ', cut short' : ''}`;
    process.stdout.write(`| \`${v.file}\` | ${v.note} | ${found} |\n`);
  }
  process.stdout.write('\n');
  for (const v of frameSpecs) process.stdout.write(`| \`${v.file}\` | ${v.note} | ${v.lostChunks.length ? `chunk ${v.lostChunks.join(', ')} lost` : 'nothing lost'} (${v.refusedBy}) |\n`);
  void crc32;
}

await main();
