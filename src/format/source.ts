/**
 * Where a backup's bytes come from: a local file here, or an object in the
 * store read with ranged GETs (src/offsite/remote-source.ts), so the readers
 * of the format never need the whole file on disk. The local file keeps the
 * plain file-handle reads it always had: a positional read is fh.read itself.
 */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { LrError } from '../errors.js';

export interface ByteSource {
  /** A path, or a link without its signature: what messages and reports name. */
  readonly name: string;
  readonly size: number;
  /** True for a local file: only it has a folder beside it, and can be reopened by path. */
  readonly local: boolean;
  /** Up to `length` bytes at `position` (fewer at the end of the file). */
  readAt(position: number, length: number): Promise<Buffer>;
  /** Bytes from `start` to the end, in order, read as they are consumed (memory bounded). */
  stream(start: number): AsyncIterable<Buffer>;
  /** A reader for many positional reads and ranges (random access); closed by the caller. */
  openReader(): Promise<SourceReader>;
}

export interface SourceReader {
  /** As FileHandle.read: into buf[offset..], `length` bytes at `position`. */
  read(buf: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  /** Bytes [start, end) read in order in pieces of the caller's choosing (one lane's table). */
  range(start: number, end: number): ByteRange;
  close(): Promise<void>;
}

export interface ByteRange {
  /** Fills buf[0..length) with the range's next bytes; fewer only at its end. */
  read(buf: Buffer, length: number): Promise<number>;
  close(): Promise<void>;
}

/** A file on this machine; the messages are those `locateHeader` always gave. */
export async function localSource(path: string): Promise<ByteSource> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new LrError('LR_NO_FILE', `${path} is not a file.`);
    size = s.size;
  } catch (err) {
    if (err instanceof LrError) throw err;
    throw new LrError('LR_NO_FILE', `Cannot open ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'permission denied or unreadable'}.`, { cause: err });
  }
  return {
    name: path,
    size,
    local: true,
    async readAt(position, length) {
      const fh = await open(path, 'r');
      try {
        const buf = Buffer.alloc(length);
        const { bytesRead } = await fh.read(buf, 0, length, position);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    },
    stream: (start) => createReadStream(path, { start, highWaterMark: 256 * 1024 }),
    async openReader() {
      const fh = await open(path, 'r');
      return {
        read: (buf, offset, length, position) => fh.read(buf, offset, length, position),
        range(start, end) {
          let at = start;
          return {
            async read(buf, length) {
              const { bytesRead } = await fh.read(buf, 0, Math.min(length, end - at), at);
              at += bytesRead;
              return bytesRead;
            },
            close: async () => {},
          };
        },
        close: () => fh.close(),
      };
    },
  };
}
