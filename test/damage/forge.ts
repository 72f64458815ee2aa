/**
 * Crafted frames: what someone who holds a backup but not its password can
 * do to it (every frame checksum is unkeyed, so forged heads and bodies pass
 * them), plus one frame sealed with the file's own key. Unlike inject.ts's
 * accidental damage, each of these is made on purpose to test one rule of
 * the frame walker (docs/format.md, "Reading with damage"). Each returns the
 * bytes and the truth a reader is judged against, like injectDamage.
 */
import { crc32 } from 'node:zlib';
import { Rng } from '../../fixtures/lib/prng.js';
import { encodeChunkFrame } from '../../src/format/chunks.js';
import { sealChunk } from '../../src/keys/crypto.js';
import { AEAD_TAG_BYTES, HEADER_PREFIX_BYTES } from '../../src/format/limits.js';
import type { FileLayout } from './inject.js';

export interface Crafted {
  bytes: Buffer;
  note: string;
  lostChunks: number[];
  truncated: boolean;
}

/** The file tag every chunk frame of this file carries (the first 4 bytes of its fileId). */
export function fileTagOf(good: Buffer, layout: FileLayout): Buffer {
  const at = layout.header.offset;
  const json = JSON.parse(good.toString('utf8', at + HEADER_PREFIX_BYTES, at + HEADER_PREFIX_BYTES + good.readUInt32BE(at + 4))) as { fileId: string };
  return Buffer.from(json.fileId, 'base64').subarray(0, 4);
}

function randomBytes(rng: Rng, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(0, 255);
  return out;
}

function insertAt(good: Buffer, at: number, extra: Buffer): Buffer {
  return Buffer.concat([good.subarray(0, at), extra, good.subarray(at)]);
}

/**
 * `count` forged full-length frames, indexes 2^48 - count .. 2^48 - 1 (the
 * last flagged final), random sealed bytes, both checksums valid, inserted
 * just before a chunk frame picked by the seed. Nothing real is lost.
 */
export function forgeFarAhead(good: Buffer, layout: FileLayout, seed: number, count = 9): Crafted {
  const rng = new Rng(`far-ahead:${seed}`);
  const tag = fileTagOf(good, layout);
  const before = layout.frames[rng.int(1, layout.frames.length - 2)]!;
  const forged = Array.from({ length: count }, (_, k) => encodeChunkFrame(tag, 2 ** 48 - count + k, k === count - 1, randomBytes(rng, layout.chunkSize + AEAD_TAG_BYTES)));
  return {
    bytes: insertAt(good, before.offset, Buffer.concat(forged)),
    note: `${count} forged frames (indexes 2^48-${count} .. 2^48-1, the last flagged final; random sealed bytes; head and body checksums valid) inserted before chunk ${before.index} (file offset ${before.offset})`,
    lostChunks: [],
    truncated: false,
  };
}

/** The file cut at the start of a chunk frame, then a forged final frame claiming index 2^48 - 1 appended. */
export function forgeFarFinalAfterCut(good: Buffer, layout: FileLayout, seed: number): Crafted {
  const rng = new Rng(`far-final:${seed}`);
  const cut = layout.frames[rng.int(1, layout.frames.length - 1)]!;
  const forged = encodeChunkFrame(fileTagOf(good, layout), 2 ** 48 - 1, true, randomBytes(rng, layout.chunkSize + AEAD_TAG_BYTES));
  return {
    bytes: Buffer.concat([good.subarray(0, cut.offset), forged]),
    note: `file cut at the start of chunk ${cut.index} (offset ${cut.offset}), then a forged final frame claiming index 2^48-1 appended (checksums valid)`,
    lostChunks: layout.frames.filter((f) => f.index >= cut.index).map((f) => f.index),
    truncated: true,
  };
}

/** A non-final chunk's head rewritten to claim a sealed length of `sealedLength` (head checksum recomputed). */
export function shortenHead(good: Buffer, layout: FileLayout, index: number, sealedLength = 500): Crafted {
  const bytes = Buffer.from(good);
  const at = layout.frames[index]!.offset;
  bytes.writeUInt32BE(sealedLength, at + 20);
  bytes.writeUInt32BE(crc32(bytes.subarray(at, at + 24)), at + 24);
  return {
    bytes,
    note: `chunk ${index}'s head rewritten to claim S = ${sealedLength} instead of ${layout.chunkSize + AEAD_TAG_BYTES} (head checksum recomputed): chunk ${index} is lost whole and no later byte moves`,
    lostChunks: [index],
    truncated: false,
  };
}

/** The final frame and the one before it trade places. */
export function swapFinal(good: Buffer, layout: FileLayout): Crafted {
  const n = layout.frames.length;
  const [a, b] = [layout.frames[n - 2]!, layout.frames[n - 1]!];
  return {
    bytes: Buffer.concat([good.subarray(0, a.offset), good.subarray(b.offset, b.offset + b.length), good.subarray(a.offset, a.offset + a.length), good.subarray(b.offset + b.length)]),
    note: `the final chunk frame ${n - 1} and chunk frame ${n - 2} swapped: the final frame comes first, and the chunk behind it is still used`,
    lostChunks: [],
    truncated: false,
  };
}

/**
 * An authentic full-length frame for chunk index n (one past the final
 * chunk n-1), sealed with the file's own payload key, inserted just before
 * the final frame: it must be dropped, not become data.
 */
export function authenticBeyondFinal(good: Buffer, layout: FileLayout, payloadKey: Buffer): Crafted {
  const n = layout.frames.length;
  const final = layout.frames[n - 1]!;
  const sealed = sealChunk(payloadKey, n, false, randomBytes(new Rng('beyond-final'), layout.chunkSize));
  const frame = encodeChunkFrame(fileTagOf(good, layout), n, false, sealed);
  return {
    bytes: insertAt(good, final.offset, frame),
    note: `an authentic frame for chunk ${n}, one past the final chunk ${n - 1} (sealed with the file's own key by the test), inserted just before the final frame: dropped`,
    lostChunks: [],
    truncated: false,
  };
}

/**
 * A fake frame for chunk `index` (full length, random sealed bytes, head and
 * body checksums valid, so it passes everything but authentication) inserted
 * just before the genuine frame of that chunk. It sits exactly where an
 * intact file has chunk `index`, and every later frame moves one frame on:
 * a reader that takes "fails to authenticate at its place" for "lost" drops
 * the genuine chunk right behind it.
 */
export function fakeFrameBefore(good: Buffer, layout: FileLayout, index: number): Crafted {
  const at = layout.frames[index]!;
  const fake = encodeChunkFrame(fileTagOf(good, layout), index, false, randomBytes(new Rng(`fake-before:${index}`), layout.chunkSize + AEAD_TAG_BYTES));
  return {
    bytes: insertAt(good, at.offset, fake),
    note: `a fake frame claiming chunk ${index} (full length, random sealed bytes, head and body checksums valid) inserted just before the genuine chunk ${index} (file offset ${at.offset}): the genuine one, one frame further on, is used`,
    lostChunks: [],
    truncated: false,
  };
}
