/**
 * The damage injector: each kind of damage issue 4 lists, made from the
 * bytes of a good backup with a seeded PRNG, so a failing case can be made
 * again from its seed. Besides the damaged bytes it returns the truth the
 * reader is judged against: which chunks the damage really destroyed.
 */
import { Rng } from '../../fixtures/lib/prng.js';
import { CHUNK_CRC_BYTES, CHUNK_HEAD_BYTES, HEADER_CRC_BYTES, HEADER_SIGNATURE_BYTES, HEADER_PREFIX_BYTES, MAGIC_LINE, TRAILER_BYTES } from '../../src/format/limits.js';

export interface FrameSpan {
  index: number;
  offset: number;
  length: number;
}

export interface FileLayout {
  fileBytes: number;
  /** The first header frame (after the magic line). */
  header: { offset: number; length: number };
  frames: FrameSpan[];
  /** The header copy at the end, then the trailer. */
  headerCopy: { offset: number; length: number };
  /** Version 3: the index frame between the final chunk and the header copy. */
  index: { offset: number; length: number } | null;
  /** Where the final chunk frame ends. */
  framesEnd: number;
  chunkSize: number;
}

/** Walks a good file's framing (no keys needed); throws if it is not whole. */
export function layoutOf(file: Buffer): FileLayout {
  if (!/^lastresort-backup v[23]\n$/.test(file.toString('latin1', 0, MAGIC_LINE.length))) throw new Error('layoutOf: not a good backup');
  const headerOffset = MAGIC_LINE.length;
  const jsonLength = file.readUInt32BE(headerOffset + 4);
  const headerLength = HEADER_PREFIX_BYTES + jsonLength + HEADER_SIGNATURE_BYTES + HEADER_CRC_BYTES;
  const json = JSON.parse(file.toString('utf8', headerOffset + HEADER_PREFIX_BYTES, headerOffset + HEADER_PREFIX_BYTES + jsonLength)) as { chunkSize: number };
  const frames: FrameSpan[] = [];
  let at = headerOffset + headerLength;
  for (;;) {
    const length = CHUNK_HEAD_BYTES + file.readUInt32BE(at + 20) + CHUNK_CRC_BYTES;
    frames.push({ index: file.readUInt32BE(at + 12), offset: at, length });
    const final = (file[at + 16]! & 1) === 1;
    at += length;
    if (final) break;
  }
  const framesEnd = at;
  const index = file.toString('latin1', at, at + 4) === 'LRIX' ? { offset: at, length: 28 + file.readUInt32BE(at + 12) } : null;
  if (index) at += index.length;
  if (at + headerLength + TRAILER_BYTES !== file.length) throw new Error('layoutOf: unexpected bytes after the final chunk');
  return { fileBytes: file.length, header: { offset: headerOffset, length: headerLength }, frames, headerCopy: { offset: at, length: headerLength }, index, framesEnd, chunkSize: json.chunkSize };
}

export const DAMAGE_KINDS = [
  'flip-1', 'flip-5', 'flip-20', 'zero-1mib', 'flip-last',
  'truncate-random', 'truncate-boundary', 'truncate-header', 'truncate-0',
  'zero-first-header', 'zero-both-headers',
  'delete-1000', 'insert-1000', 'swap-2', 'append-garbage',
  'flip-schema', 'flip-view',
] as const;
export type DamageKind = (typeof DAMAGE_KINDS)[number];

export interface Damage {
  kind: DamageKind;
  bytes: Buffer;
  /** What was done, in words, with offsets: goes in test messages and the vectors' README. */
  note: string;
  /** Chunk indexes whose frames the damage altered: what a perfect reader loses. */
  lostChunks: number[];
  /** The file ends before the final chunk. */
  truncated: boolean;
  /** File offsets where it was done (each flip; a range's start), for the age reference's "same relative position". */
  at: number[];
}

export interface InjectOptions {
  /** For flip-schema / flip-view: a plaintext offset inside the CREATE text to damage. */
  plaintextOffset?: number;
}

const flip = (buf: Buffer, at: number, rng: Rng) => {
  buf[at] = buf[at]! ^ rng.int(1, 255);
};

function frameAt(layout: FileLayout, offset: number): FrameSpan | undefined {
  return layout.frames.find((f) => offset >= f.offset && offset < f.offset + f.length);
}

function framesMeeting(layout: FileLayout, start: number, end: number): number[] {
  return layout.frames.filter((f) => f.offset < end && start < f.offset + f.length).map((f) => f.index);
}

function randomBytes(rng: Rng, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(0, 255);
  return out;
}

/** Picks `n` distinct chunk indexes. */
function pickChunks(rng: Rng, count: number, n: number): number[] {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(n, count)) chosen.add(rng.int(0, count - 1));
  return [...chosen].sort((a, b) => a - b);
}

export function injectDamage(good: Buffer, layout: FileLayout, kind: DamageKind, seed: number | string, opts: InjectOptions = {}): Damage {
  const rng = new Rng(`${kind}:${seed}`);
  const bytes = Buffer.from(good);
  const frames = layout.frames;
  const payloadStart = frames[0]!.offset;
  const payloadEnd = layout.framesEnd;
  const result = (partial: Omit<Damage, 'kind' | 'truncated'> & { truncated?: boolean }): Damage => ({ kind, truncated: false, ...partial });
  const flipIn = (f: FrameSpan) => {
    const at = f.offset + rng.int(0, f.length - 1);
    flip(bytes, at, rng);
    return at;
  };

  switch (kind) {
    case 'flip-1':
    case 'flip-5':
    case 'flip-20': {
      const chosen = pickChunks(rng, frames.length, Number(kind.slice(5)));
      const at = chosen.map((i) => flipIn(frames[i]!));
      return result({ bytes, note: `one byte XORed with a random non-zero value in each of chunks ${chosen.join(', ')} (file offsets ${at.join(', ')})`, lostChunks: chosen, at });
    }
    case 'zero-1mib': {
      const len = Math.min(1 << 20, Math.floor((payloadEnd - payloadStart) / 2));
      const start = rng.int(payloadStart, payloadEnd - len);
      bytes.fill(0, start, start + len);
      return result({ bytes, note: `${len} bytes zeroed at file offset ${start}`, lostChunks: framesMeeting(layout, start, start + len), at: [start] });
    }
    case 'flip-last': {
      const last = frames[frames.length - 1]!;
      const at = flipIn(last);
      return result({ bytes, note: `one byte flipped in the last (final) chunk ${last.index}, file offset ${at}`, lostChunks: [last.index], at: [at] });
    }
    case 'truncate-random':
    case 'truncate-boundary': {
      const cut = kind === 'truncate-random' ? rng.int(payloadStart + 1, payloadEnd - 1) : frames[rng.int(1, frames.length - 1)]!.offset;
      const lost = frames.filter((f) => f.offset + f.length > cut).map((f) => f.index);
      return result({ bytes: bytes.subarray(0, cut), note: `file cut at offset ${cut} of ${good.length}${kind === 'truncate-boundary' ? ` (the start of chunk ${lost[0]})` : ''}`, lostChunks: lost, truncated: true, at: [cut] });
    }
    case 'truncate-header': {
      const cut = layout.header.offset + rng.int(1, layout.header.length - 1);
      return result({ bytes: bytes.subarray(0, cut), note: `file cut at offset ${cut}, inside the first header frame`, lostChunks: frames.map((f) => f.index), truncated: true, at: [cut] });
    }
    case 'truncate-0':
      return result({ bytes: Buffer.alloc(0), note: 'an empty file', lostChunks: frames.map((f) => f.index), truncated: true, at: [0] });
    case 'zero-first-header':
    case 'zero-both-headers': {
      bytes.fill(0, layout.header.offset, layout.header.offset + layout.header.length);
      if (kind === 'zero-both-headers') bytes.fill(0, layout.headerCopy.offset, layout.headerCopy.offset + layout.headerCopy.length);
      const which = kind === 'zero-first-header' ? 'the first header frame' : 'both header frames (first and the copy at the end)';
      return result({ bytes, note: `${which} zeroed; magic line and trailer left`, lostChunks: [], at: kind === 'zero-first-header' ? [layout.header.offset] : [layout.header.offset, layout.headerCopy.offset] });
    }
    case 'delete-1000': {
      const start = rng.int(payloadStart + Math.floor((payloadEnd - payloadStart) / 3), payloadStart + Math.floor(((payloadEnd - payloadStart) * 2) / 3));
      return result({ bytes: Buffer.concat([bytes.subarray(0, start), bytes.subarray(start + 1000)]), note: `1000 bytes deleted at file offset ${start}`, lostChunks: framesMeeting(layout, start, start + 1000), at: [start] });
    }
    case 'insert-1000': {
      const at = rng.int(payloadStart + Math.floor((payloadEnd - payloadStart) / 3), payloadStart + Math.floor(((payloadEnd - payloadStart) * 2) / 3));
      const f = frameAt(layout, at)!;
      const lost = at === f.offset ? [] : [f.index];
      return result({ bytes: Buffer.concat([bytes.subarray(0, at), randomBytes(rng, 1000), bytes.subarray(at)]), note: `1000 random bytes inserted at file offset ${at}`, lostChunks: lost, at: [at] });
    }
    case 'swap-2': {
      // Two whole non-final frames of equal length trade places; every byte is still authentic.
      const i = rng.int(0, frames.length - 3);
      const j = rng.int(i + 1, Math.min(frames.length - 2, i + 4));
      const a = frames[i]!;
      const b = frames[j]!;
      const swapped = Buffer.concat([bytes.subarray(0, a.offset), bytes.subarray(b.offset, b.offset + b.length), bytes.subarray(a.offset + a.length, b.offset), bytes.subarray(a.offset, a.offset + a.length), bytes.subarray(b.offset + b.length)]);
      return result({ bytes: swapped, note: `chunk frames ${i} and ${j} swapped (file offsets ${a.offset} and ${b.offset})`, lostChunks: [], at: [a.offset, b.offset] });
    }
    case 'append-garbage': {
      const n = rng.int(1000, 20000);
      return result({ bytes: Buffer.concat([bytes, randomBytes(rng, n)]), note: `${n} random bytes appended after the trailer`, lostChunks: [], at: [good.length] });
    }
    case 'flip-schema':
    case 'flip-view': {
      if (opts.plaintextOffset === undefined) throw new Error(`${kind} needs the plaintext offset of the CREATE text`);
      const f = frames[Math.floor(opts.plaintextOffset / layout.chunkSize)]!;
      // Inside the sealed bytes, so the head stays readable and only authentication fails.
      const at = f.offset + CHUNK_HEAD_BYTES + rng.int(0, f.length - CHUNK_HEAD_BYTES - CHUNK_CRC_BYTES - 1);
      flip(bytes, at, rng);
      const what = kind === 'flip-schema' ? "a table's schema.sql (its CREATE TABLE)" : 'a view definition';
      return result({ bytes, note: `one byte flipped in chunk ${f.index} (file offset ${at}), the chunk holding plaintext offset ${opts.plaintextOffset} inside ${what}`, lostChunks: [f.index], at: [at] });
    }
  }
}
