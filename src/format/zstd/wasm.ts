/**
 * zstd (the reference C library, compiled to WebAssembly by the npm package
 * @bokuweb/zstd-wasm) without its JavaScript glue: the module is embedded
 * (zstd-wasm.gen.ts, made by scripts/embed-zstd.mjs), so it loads the same
 * from node_modules, a bundle or the Windows single executable, and needs no
 * compiler and no download at install.
 *
 * One Zstd per thread: one compression and one decompression context, reused
 * for every chunk (the package's own compress() makes a context per call),
 * and two regions of the module's memory, grown for a bigger chunk and
 * never beyond what the caller asks (at most a chunk span plus its bound).
 */
import { ZSTD_WASM, ZSTD_WASM_EXPORTS as X, ZSTD_WASM_IMPORTS as I, ZSTD_WASM_IMPORT_MODULE } from './zstd-wasm.gen.js';

type Fn = (...args: number[]) => number;

let compiled: WebAssembly.Module | null = null;

export class Zstd {
  private readonly memory: WebAssembly.Memory;
  private readonly fn: Record<keyof typeof X, Fn>;
  private readonly cctx: number;
  private readonly dctx: number;
  private src = { at: 0, size: 0 };
  private dst = { at: 0, size: 0 };

  constructor() {
    compiled ??= new WebAssembly.Module(Buffer.from(ZSTD_WASM, 'base64'));
    let memory: WebAssembly.Memory | null = null;
    const imports = {
      [I.resizeHeap]: (requested: number) => {
        const m = memory!;
        const pages = Math.ceil(((requested >>> 0) - m.buffer.byteLength) / 65536);
        try {
          if (pages > 0) m.grow(pages);
          return 1;
        } catch {
          return 0;
        }
      },
      [I.abort]: () => {
        throw new Error('zstd aborted');
      },
      [I.exit]: (code: number) => {
        throw new Error(`zstd exited (${code})`);
      },
      [I.setTimer]: () => 0,
      [I.keepaliveClear]: () => {},
    };
    const instance = new WebAssembly.Instance(compiled, { [ZSTD_WASM_IMPORT_MODULE]: imports });
    const e = instance.exports as Record<string, unknown>;
    memory = this.memory = e[X.memory] as WebAssembly.Memory;
    this.fn = Object.fromEntries(Object.entries(X).map(([name, letter]) => [name, e[letter] as Fn])) as Record<keyof typeof X, Fn>;
    this.fn.ctors();
    this.cctx = this.fn.ZSTD_createCCtx();
    this.dctx = this.fn.ZSTD_createDCtx();
    if (!this.cctx || !this.dctx) throw new Error('zstd: no memory for its contexts');
  }

  private region(r: { at: number; size: number }, size: number): number {
    if (r.size < size) {
      if (r.at) this.fn.free(r.at);
      r.at = this.fn.malloc(Math.max(size, 1));
      if (!r.at) throw new Error('zstd: out of memory');
      r.size = size;
    }
    return r.at;
  }

  /** One zstd frame of `src` (content size in its header, no dictionary, no checksum). */
  compress(src: Buffer, level: number): Buffer {
    const bound = this.fn.ZSTD_compressBound(src.length);
    const s = this.region(this.src, src.length);
    const d = this.region(this.dst, bound);
    new Uint8Array(this.memory.buffer, s, src.length).set(src);
    const n = this.fn.ZSTD_compress_usingDict(this.cctx, d, bound, s, src.length, 0, 0, level) >>> 0;
    if (this.fn.ZSTD_isError(n)) throw new Error(`zstd compression failed (${n})`);
    return Buffer.from(new Uint8Array(this.memory.buffer, d, n));
  }

  /**
   * Exactly `size` bytes from `frame`, or null: zstd is given room for
   * `size` bytes and no more, so no frame can make it write or allocate
   * beyond them; fewer bytes, or any error, is null. Callers check the
   * frame's structure first (frame.ts).
   */
  decompress(frame: Buffer, size: number): Buffer | null {
    const s = this.region(this.src, frame.length);
    const d = this.region(this.dst, size);
    new Uint8Array(this.memory.buffer, s, frame.length).set(frame);
    const n = this.fn.ZSTD_decompress_usingDict(this.dctx, d, size, s, frame.length, 0, 0) >>> 0;
    if (this.fn.ZSTD_isError(n) || n !== size) return null;
    return Buffer.from(new Uint8Array(this.memory.buffer, d, n));
  }
}

let shared: Zstd | null = null;

/** This thread's zstd (made on first use). */
export function zstd(): Zstd {
  return (shared ??= new Zstd());
}
