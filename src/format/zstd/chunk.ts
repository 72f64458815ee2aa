/**
 * Version 3's chunk plaintext: a zstd frame of the chunk's span. packChunk
 * makes it (the writer, in its worker threads), unpackChunk turns an
 * authenticated one back into exactly `span` bytes, or null (damage of that
 * chunk, never a partial or longer result).
 */
import { ZSTD_FRAME_SLACK, ZSTD_LEVEL } from '../limits.js';
import { frameProblem, rawFrame } from './frame.js';
import { zstd } from './wasm.js';

export function packChunk(span: Buffer, level = ZSTD_LEVEL): Buffer {
  const frame = zstd().compress(span, level);
  // zstd at level 3 always makes a frame the rules allow; a guard so the writer can never make one the reader refuses.
  if (frame.length > span.length + ZSTD_FRAME_SLACK || frameProblem(frame, span.length) !== null) return rawFrame(span);
  return frame;
}

export function unpackChunk(frame: Buffer, span: number): Buffer | null {
  if (frameProblem(frame, span) !== null) return null;
  return zstd().decompress(frame, span);
}
