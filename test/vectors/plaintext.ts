/**
 * What the vectors hold: a known plaintext (so a test can check every byte a
 * reader yields), the password that opens them, and the shape of
 * vectors.json, which make-vectors.ts writes.
 */
import { Rng } from '../../fixtures/lib/prng.js';

export const VECTOR_PASSWORD = 'vector password';
/** The smallest chunk size a header may declare: many chunks from little plaintext. */
export const VECTOR_CHUNK_SIZE = 1024;

/** 20,000 bytes from a fixed seed: 19 full chunks and a final one of 544. */
export function vectorPlaintext(): Buffer {
  const rng = new Rng('lastresort vectors');
  const out = Buffer.alloc(20_000);
  for (let i = 0; i < out.length; i++) out[i] = rng.int(0, 255);
  return out;
}

export interface VectorSpec {
  file: string;
  /** How it was made. */
  note: string;
  /** Chunks a perfect reader loses. */
  lostChunks: number[];
  truncated: boolean;
  /** The error code opening it must give, when it cannot be read at all. */
  error?: string;
}

/**
 * Version 3's vectors: 20,000 bytes of rows of text from a fixed seed (TSV
 * as a dump writes it), so the chunks compress as real ones do.
 */
export function vectorTextPlaintext(): Buffer {
  const rng = new Rng('lastresort v3 vectors');
  const names = ['Smith', 'Jones', 'Nguyen', 'Garcia', 'Brown', 'Miller', 'Davis', 'Lopez'];
  const rows: string[] = [];
  let n = 0;
  for (let i = 1; n < 20_000; i++) {
    const row = `${i}\t${names[rng.int(0, 7)]}\t${names[rng.int(0, 7)]}a\t19${rng.int(40, 99)}-0${rng.int(1, 9)}-1${rng.int(0, 9)}\t${rng.int(0, 1) ? '\\N' : `note ${rng.int(0, 99999)}`}\t${rng.int(0, 4000)}.00\n`;
    rows.push(row);
    n += row.length;
  }
  return Buffer.from(rows.join('')).subarray(0, 20_000);
}
