import tar from 'tar-stream';
import type { Readable } from 'node:stream';

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

  entry(name: string, body: Buffer, pax?: Record<string, string>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pack.entry({ name, size: body.length, mode: 0o600, mtime: this.mtime, type: 'file', pax }, body, (err) => (err ? reject(err) : resolve()));
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
