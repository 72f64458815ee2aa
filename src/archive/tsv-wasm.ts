/**
 * RowEncoder.addPacket (tsv.ts) in WebAssembly (wasm/tsv-encode.c): the same
 * bytes, about four times faster on the producer's hot loop, which is what a
 * backup waits for once the server sends over two connections.
 *
 * The module's memory holds two regions, output first:
 *
 *   [static data][output: capacity + 16][input: capacity + 16]
 *
 * A row packet is a view into the buffer mysql2 read from the socket (about
 * 64 KiB, many rows); that buffer is copied into the input region once, when
 * the first of its packets arrives, and each row is then encoded from there.
 * The 16 spare bytes after each region let the module read and write a whole
 * 16-byte vector at a value's end. Regions grow for a bigger row and never
 * shrink: one encoder serves one connection for one dump.
 *
 * Big rows (Open Dental's images kept in the database, tens of MB each): a
 * packet over BIG_PACKET, or one handed over in slices (addPart), is encoded
 * by the JavaScript reference (tsv.ts, the same bytes) straight into the
 * output region, so it is not also copied into the input region; and the
 * piece holding it is handed off as a view of the
 * module's memory, not a copy, while the encoder goes on in a fresh instance:
 * the old memory (which cannot shrink) is freed with the piece, so a dump that
 * met one big row early does not keep its size to the end.
 */
import { TSV_ENCODE_WASM } from './wasm/tsv-encode.wasm.js';
import { SplitPacketEncoder, encodePacket, packetRoom } from './tsv.js';

interface Exports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  encode_row(src: number, length: number, out: number): number;
}

const SLACK = 16;
/** A row packet bigger than this skips the input region (see above). */
const BIG_PACKET = 1 << 20;
const PAGE = 65536;
let compiled: WebAssembly.Module | null = null;

/** What a dump needs of an encoder: append row packets, hand the bytes over. */
export interface PacketEncoder {
  readonly length: number;
  addPacket(src: Buffer, start: number, end: number): void;
  /** One slice of a row packet handed over as it arrives (src/db/big-packets.ts)… */
  addPart(src: Buffer, start: number, end: number): void;
  /** …and the end of that row. */
  endParts(): void;
  /** The encoded rows so far, in a Buffer of their own; the encoder starts again. */
  handOff(): Buffer;
}

export class WasmRowEncoder implements PacketEncoder {
  length = 0;
  private exports!: Exports;
  private bytes!: Uint8Array;
  private outBase!: number;
  private outCapacity!: number;
  private inBase!: number;
  private inCapacity!: number;
  /** The buffer whose bytes are in the input region. */
  private loaded: Buffer | null = null;
  private readonly split = new SplitPacketEncoder();

  constructor(
    private readonly initialOut = 1 << 20,
    private readonly initialIn = 256 << 10,
  ) {
    this.instantiate();
  }

  private instantiate(): void {
    compiled ??= new WebAssembly.Module(Buffer.from(TSV_ENCODE_WASM, 'base64'));
    this.exports = new WebAssembly.Instance(compiled).exports as unknown as Exports;
    this.outBase = align(Number(this.exports.__heap_base.value));
    this.outCapacity = this.initialOut;
    this.inBase = this.outBase + this.initialOut + SLACK;
    this.inCapacity = this.initialIn;
    this.loaded = null;
    this.bytes = this.fit();
  }

  addPacket(src: Buffer, start: number, end: number): void {
    const size = end - start;
    if (size > BIG_PACKET) {
      this.length = encodePacket(src, start, end, this.outputWith(packetRoom(src, start, end)), this.length);
      return;
    }
    // Worst case: every byte escaped (2 bytes), a NULL (1 byte) as TAB \N (3).
    const room = this.length + 3 * size + 1;
    if (room > this.outCapacity) this.growOutput(room);
    if (src !== this.loaded) this.load(src);
    const written = this.exports.encode_row(this.inBase + start, size, this.outBase + this.length);
    if (written < 0) throw new Error('row packet shorter than its values say');
    this.length += written;
  }

  addPart(src: Buffer, start: number, end: number): void {
    this.length = this.split.part(src, start, end, this.outputWith(SplitPacketEncoder.room(end - start)), this.length);
  }

  endParts(): void {
    this.length = this.split.end(this.outputWith(1), this.length);
  }

  /** The output region as a Buffer, grown to hold `extra` more bytes. */
  private outputWith(extra: number): Buffer {
    if (this.length + extra > this.outCapacity) this.growOutput(this.length + extra);
    return Buffer.from(this.bytes.buffer, this.outBase, this.outCapacity);
  }

  handOff(): Buffer {
    this.split.reset(); // a row left in parts by an abandoned read
    if (this.outCapacity > 4 * this.initialOut || this.inCapacity > 4 * this.initialIn) {
      // Grown for a big row: the old memory is left to the piece (no copy of it) and freed with it.
      const out = Buffer.from(this.bytes.buffer, this.outBase, this.length);
      this.length = 0;
      this.instantiate();
      return out;
    }
    const out = Buffer.allocUnsafe(this.length);
    out.set(this.bytes.subarray(this.outBase, this.outBase + this.length));
    this.length = 0;
    return out;
  }

  private load(src: Buffer): void {
    if (src.length > this.inCapacity) {
      this.inCapacity = Math.max(src.length, 2 * this.inCapacity);
      this.bytes = this.fit();
    }
    this.bytes.set(src, this.inBase);
    this.loaded = src;
  }

  private growOutput(atLeast: number): void {
    this.outCapacity = Math.max(atLeast, 2 * this.outCapacity);
    this.inBase = align(this.outBase + this.outCapacity + SLACK);
    this.loaded = null; // the input region moved
    this.bytes = this.fit();
  }

  /** Grows the memory to hold both regions; returns a view of it (growing detaches the old one). */
  private fit(): Uint8Array {
    const memory = this.exports.memory;
    const need = this.inBase + this.inCapacity + SLACK;
    if (need > memory.buffer.byteLength) memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
    return new Uint8Array(memory.buffer);
  }
}

const align = (n: number) => (n + 15) & ~15;
