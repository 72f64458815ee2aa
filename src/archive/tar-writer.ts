import tar from 'tar-stream';
import type { Readable } from 'node:stream';

const SLICE_BYTES = 256 << 10;

/**
 * A tar writer with backpressure: entry() resolves once tar-stream has handed
 * the bytes on, so a producer awaiting it never runs ahead of the encryptor.
 */
export class TarWriter {
  private readonly pack = tar.pack();
  private readonly mtime = new Date();

  get stream(): Readable {
    return this.pack as unknown as Readable;
  }

  /**
   * A big body is written in slices, each once the one before has been taken,
   * so the encryptor works through a piece a slice at a time and never holds
   * a whole piece's worth of sealed chunks (same tar bytes either way).
   */
  entry(name: string, body: Buffer, pax?: Record<string, string>): Promise<void> {
    return new Promise((resolve, reject) => {
      const header = { name, size: body.length, mode: 0o600, mtime: this.mtime, type: 'file' as const, pax };
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body.length <= SLICE_BYTES) {
        this.pack.entry(header, body, done);
        return;
      }
      const sink = this.pack.entry(header, done);
      // The entry's own stream errors when the pack is destroyed (a full disk
      // downstream): without a listener that would end the process.
      sink.on('error', done);
      let at = 0;
      const more = () => {
        while (at < body.length) {
          const slice = body.subarray(at, at + SLICE_BYTES);
          at += slice.length;
          if (!sink.write(slice)) {
            sink.once('drain', more);
            return;
          }
        }
        sink.end(undefined);
      };
      more();
    });
  }

  json(name: string, value: unknown): Promise<void> {
    return this.entry(name, Buffer.from(JSON.stringify(value), 'utf8'));
  }

  finish(): void {
    this.pack.finalize();
  }

  destroy(err: Error): void {
    this.pack.destroy(err);
  }
}
