/**
 * The layout of an archive from its headers alone: for each entry, where its
 * header group (pax header, then ustar header) starts and where its padded
 * body ends. It reads only header blocks, so mapping a 400 MB backup costs
 * one chunk's decryption per entry, not the whole payload. Any block that
 * cannot be read or does not parse ends the skim with null: the caller then
 * reads the archive in order, where damage is handled.
 */
import { decodeHeader, decodePax } from './tar-reader.js';

const BLOCK = 512;
const PAX_MAX = 1 << 20;
/** More entries than a real backup has (pieces are ~4 MiB: 50 GB is ~12,500): read in order instead. */
const ENTRIES_MAX = 1_000_000;

export interface SkimmedEntry {
  path: string;
  /** Plaintext offset of the entry's first header block (its pax header when it has one). */
  start: number;
  /** Plaintext offset just past its body's padding: where the next entry starts. */
  end: number;
}

export interface SkimmedArchive {
  entries: SkimmedEntry[];
  /** Plaintext offset just past the end-of-archive blocks. */
  end: number;
}

const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

/** `read` returns exactly the bytes asked for, or null when they cannot be read. */
export async function skimArchive(read: (offset: number, length: number) => Promise<Buffer | null>): Promise<SkimmedArchive | null> {
  const entries: SkimmedEntry[] = [];
  let pos = 0;
  let groupStart = 0;
  let pax: Record<string, string> = {};
  for (;;) {
    const block = await read(pos, BLOCK);
    if (!block || block.length !== BLOCK) return null;
    if (block.every((b) => b === 0)) {
      const second = await read(pos + BLOCK, BLOCK);
      return second && second.length === BLOCK && second.every((b) => b === 0) && groupStart === pos ? { entries, end: pos + 2 * BLOCK } : null;
    }
    const h = decodeHeader(block);
    if (!h) return null;
    const bodyStart = pos + BLOCK;
    if (h.type === 'x' || h.type === 'g') {
      if (h.size > PAX_MAX) return null;
      const body = await read(bodyStart, h.size);
      if (!body || body.length !== h.size) return null;
      if (h.type === 'x') pax = decodePax(body);
      pos = bodyStart + padded(h.size);
      continue;
    }
    pos = bodyStart + padded(h.size);
    if (entries.length >= ENTRIES_MAX) return null;
    entries.push({ path: pax.path ?? h.path, start: groupStart, end: pos });
    groupStart = pos;
    pax = {};
  }
}
