/**
 * Random damage patterns for the property tests: a few operations, each a
 * flip, a zeroed or deleted range, inserted bytes, a truncation or two
 * frames traded, anywhere in the file (headers and trailer included).
 * Seeded, so a failure names the seed that makes it again.
 */
import { Rng } from '../../fixtures/lib/prng.js';
import type { FileLayout } from './inject.js';

export interface RandomDamage {
  bytes: Buffer;
  ops: string[];
  /** Chunks whose frame bytes some operation altered, or null when an operation moved bytes (a bound is then unknown). */
  lostChunks: number[] | null;
  /** Cut before the final chunk; null when bytes moved first. */
  truncated: boolean | null;
}

export function randomDamage(good: Buffer, layout: FileLayout, seed: number): RandomDamage {
  const rng = new Rng(`random:${seed}`);
  let bytes = Buffer.from(good);
  const ops: string[] = [];
  const hit = new Set<number>();
  let moved = false;
  let truncated = false;
  const touch = (start: number, end: number) => {
    for (const f of layout.frames) if (f.offset < end && start < f.offset + f.length) hit.add(f.index);
  };
  const n = rng.int(1, 4);
  for (let i = 0; i < n; i++) {
    const at = rng.int(0, Math.max(0, bytes.length - 1));
    switch (rng.int(0, 5)) {
      case 0: {
        const count = rng.int(1, 3);
        for (let k = 0; k < count && at + k < bytes.length; k++) bytes[at + k] = bytes[at + k]! ^ rng.int(1, 255);
        ops.push(`flip ${count} at ${at}`);
        if (!moved) touch(at, at + count);
        break;
      }
      case 1: {
        const len = rng.int(1, 20000);
        bytes.fill(0, at, at + len);
        ops.push(`zero ${len} at ${at}`);
        if (!moved) touch(at, at + len);
        break;
      }
      case 2: {
        const len = rng.int(1, 5000);
        bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + len)]);
        ops.push(`delete ${len} at ${at}`);
        moved = true;
        break;
      }
      case 3: {
        const len = rng.int(1, 5000);
        const junk = Buffer.alloc(len);
        for (let k = 0; k < len; k++) junk[k] = rng.int(0, 255);
        bytes = Buffer.concat([bytes.subarray(0, at), junk, bytes.subarray(at)]);
        ops.push(`insert ${len} at ${at}`);
        moved = true;
        break;
      }
      case 4: {
        bytes = bytes.subarray(0, at);
        ops.push(`truncate at ${at}`);
        if (!moved) touch(at, Number.MAX_SAFE_INTEGER);
        truncated = truncated || at < layout.headerCopy.offset;
        break;
      }
      case 5: {
        if (moved) break;
        const i1 = rng.int(0, layout.frames.length - 2);
        const i2 = Math.min(layout.frames.length - 2, i1 + rng.int(1, 12));
        if (i1 === i2) break;
        const a = layout.frames[i1]!;
        const b = layout.frames[i2]!;
        bytes = Buffer.concat([bytes.subarray(0, a.offset), bytes.subarray(b.offset, b.offset + b.length), bytes.subarray(a.offset + a.length, b.offset), bytes.subarray(a.offset, a.offset + a.length), bytes.subarray(b.offset + b.length)]);
        ops.push(`swap frames ${i1} and ${i2}`);
        moved = true;
        break;
      }
    }
  }
  return { bytes, ops, lostChunks: moved ? null : [...hit].sort((x, y) => x - y), truncated: moved ? null : truncated };
}
