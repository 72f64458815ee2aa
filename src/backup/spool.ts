/**
 * Where the held tables' rows wait (held.ts) while the office writes again:
 * a temporary file beside the backup, named like the backup's own temporary
 * (names.ts), so a killed run's spool is removed by the next one.
 *
 * Why a spool: reading the held tables into it goes at the server's speed,
 * so their locks last only as long as that read, not as long as compressing,
 * encrypting and writing them; and the backup's header, written first, can
 * then say how long the office's writes were held.
 *
 * The rows are patient data: each piece is sealed (ChaCha20-Poly1305) with a
 * key that lives only in this process, so what the spool leaves on the disk
 * (a crash, a disk image) is unreadable, and a piece changed on the disk is
 * refused, never written into the backup.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { LrError } from '../errors.js';
import type { RowPiece } from '../db/rows.js';
import { makePrivate } from '../system/private-file.js';

const TAG_BYTES = 16;

interface Stored {
  at: number;
  length: number;
  rows: number;
  nonce: number;
}

export class Spool {
  private readonly key = randomBytes(32);
  private readonly places = new Map<number, Stored[]>();
  private end = 0;
  private nonces = 0;
  private tail: Promise<void> = Promise.resolve();
  /** Plaintext bytes stored (measurements). */
  bytes = 0;

  private constructor(
    readonly path: string,
    private readonly fh: FileHandle,
  ) {}

  static async create(path: string): Promise<Spool> {
    const fh = await open(path, 'wx+', 0o600);
    makePrivate(path);
    return new Spool(path, fh);
  }

  /** Stores the next piece of `unit`; pieces of one unit come back in the order they were stored. */
  append(unit: number, piece: RowPiece): Promise<void> {
    const nonce = this.nonces++;
    const cipher = createCipheriv('chacha20-poly1305', this.key, nonceOf(nonce), { authTagLength: TAG_BYTES });
    const sealed = cipher.update(piece.bytes);
    cipher.final();
    const tag = cipher.getAuthTag();
    const stored: Stored = { at: this.end, length: sealed.length, rows: piece.rows, nonce };
    this.end += sealed.length + TAG_BYTES;
    this.bytes += piece.bytes.length;
    const list = this.places.get(unit) ?? [];
    list.push(stored);
    this.places.set(unit, list);
    const write = this.tail.then(async () => {
      await this.fh.writev([sealed, tag], stored.at);
    });
    this.tail = write.catch(() => {});
    return write;
  }

  /** Whether `unit` was read into the spool. */
  has(unit: number): boolean {
    return this.places.has(unit);
  }

  async *pieces(unit: number): AsyncGenerator<RowPiece> {
    await this.tail;
    for (const s of this.places.get(unit) ?? []) {
      const buf = Buffer.allocUnsafe(s.length + TAG_BYTES);
      const { bytesRead } = await this.fh.read(buf, 0, buf.length, s.at);
      if (bytesRead !== buf.length) throw changed();
      const decipher = createDecipheriv('chacha20-poly1305', this.key, nonceOf(s.nonce), { authTagLength: TAG_BYTES });
      decipher.setAuthTag(buf.subarray(s.length));
      const bytes = decipher.update(buf.subarray(0, s.length));
      try {
        decipher.final();
      } catch {
        throw changed();
      }
      yield { bytes, rows: s.rows };
    }
  }

  /** Closes and deletes the spool (always: after a failure too). */
  async remove(): Promise<void> {
    this.key.fill(0);
    await this.tail;
    await this.fh.close().catch(() => {});
    await unlink(this.path).catch(() => {});
  }
}

function nonceOf(n: number): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeUIntBE(n, 6, 6);
  return nonce;
}

function changed(): LrError {
  return new LrError('LR_IO', "The backup's temporary copy of the held tables was changed on the disk while the backup ran; no backup was written. Check the disk and the folder's permissions, then try again.");
}
