import tar from 'tar-stream';
import type { Readable } from 'node:stream';

const SLICE_BYTES = 256 << 10;

/**
 * A tar writer with backpressure: entry() resolves once tar-stream has handed
 * the bytes on, so a producer awaiting it never runs ahead of the encryptor.
 */
export class TarWriter {
  private readonly pack = namedPaxPack(tar.pack());
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

const USTAR_NAME_BYTES = 100;
const USTAR_CHECKSUM_AT = 148;

/** Rewrites a ustar header block's name (it fits in 100 bytes) and its checksum, in place. */
function renameUstarBlock(block: Uint8Array, name: string): void {
  const buf = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length > USTAR_NAME_BYTES) return; // the pax record still names it
  buf.fill(0, 0, USTAR_NAME_BYTES);
  bytes.copy(buf, 0);
  buf.fill(0x20, USTAR_CHECKSUM_AT, USTAR_CHECKSUM_AT + 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += buf[i]!;
  buf.write(sum.toString(8).padStart(6, '0') + '\0 ', USTAR_CHECKSUM_AT, 'latin1');
}

const isPaxNamedBlock = (b: Uint8Array) => b.byteLength === 512 && Buffer.from(b.buffer, b.byteOffset, 10).toString('latin1') === 'PaxHeader\0' && Buffer.from(b.buffer, b.byteOffset + 257, 5).toString('latin1') === 'ustar';

/**
 * tar-stream names both the pax block and the entry after it "PaxHeader",
 * so with the pax block lost the surviving header could not say which table
 * it belongs to. This gives the entry its real path (and the pax block
 * "PaxHeader/<path>"); same layout otherwise.
 */
function namedPaxPack(pack: tar.Pack): tar.Pack {
  const p = pack as unknown as { _encodePax: (h: { name: string }) => void; push: (b: Uint8Array | null) => boolean };
  const encodePax = p._encodePax;
  p._encodePax = function (this: typeof p, header: { name: string }) {
    const push = this.push;
    let blocks = 0;
    this.push = (b) => {
      if (b && isPaxNamedBlock(b)) renameUstarBlock(b, blocks++ === 0 ? `PaxHeader/${header.name}` : header.name);
      return push.call(this, b);
    };
    try {
      encodePax.call(this, header);
    } finally {
      this.push = push;
    }
  };
  return pack;
}
