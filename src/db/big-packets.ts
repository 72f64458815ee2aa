/**
 * Big row packets (an image kept in the database: MBs to tens of MB) handed
 * over in slices straight from the socket reads, instead of whole.
 *
 * Why: mysql2 (lib/packet_parser.js, 3.24.6) keeps every socket read of a
 * packet until the packet is complete, then copies them into one buffer;
 * a packet of 16 MiB or more comes in parts of 16 MiB - 1, each copied so,
 * and the parts are then joined with Buffer.concat. A 30 MiB row was thus
 * held three to four times over. Encoding each socket read as it comes
 * holds none of it: only the encoded row grows.
 *
 * How: the connection hands every socket read to `packetParser.execute`.
 * On a hooked connection that goes through `take` first. When mysql2's
 * parser is waiting for the rest of a packet of at least STREAM_FROM bytes
 * (it has read the header and buffered what came with it), and that packet
 * belongs to the query the sink is set for, the packet is taken over: the
 * bytes buffered so far go to the sink, the parser is put back to the start
 * of a packet, and the following reads go to the sink up to the packet's
 * end, through the headers of its further parts. Then the sink ends the row,
 * the connection's sequence id moves on by the parts read (as mysql2's
 * `_bumpSequenceId(numPackets)` would), and the rest of the read goes to
 * mysql2. The packet never reaches mysql2's own handling, so it is never
 * queued (as a clone) while the connection is paused either. With packets
 * waiting in the paused connection's queue a packet is not taken (the sink
 * would get it before them); it then takes mysql2's own path.
 */

/** Where a big packet's bytes go, in order; neither may throw (they run inside the socket's 'data' handler). */
export interface PartSink {
  part(buf: Buffer, start: number, end: number): void;
  /** The packet's last byte has been given. */
  end(): void;
}

/** Packets from this size on are taken over (smaller ones cost mysql2 little). */
export const STREAM_FROM = 1 << 20;
const MAX_PART = 0xffffff;

interface Parser {
  execute(chunk: Buffer): unknown;
  buffer: Buffer[];
  bufferLength: number;
  length: number;
  packetHeaderLength: number;
  largePacketParts: Buffer[];
}

interface CoreConnection {
  packetParser: Parser;
  _command?: object | null;
  sequenceId: number;
  _paused_packets: { length: number };
}

interface Hook {
  sink: PartSink | null;
  /** The command (a query) whose big packets go to the sink. */
  owner: object | null;
}

const hooks = new WeakMap<object, Hook>();

/**
 * Sends the big packets of `owner` (a query of `raw`, the mysql2 core
 * connection) to `sink`; with null, to mysql2 again. Throws when mysql2's
 * parser is not the one this was written against, rather than lose rows.
 */
export function setPartSink(raw: object, owner: object, sink: PartSink | null): void {
  let hook = hooks.get(raw);
  if (!hook) {
    if (sink === null) return;
    hook = install(raw as CoreConnection);
    hooks.set(raw, hook);
  }
  if (sink === null && hook.owner !== owner) return; // another query's sink by now
  hook.sink = sink;
  hook.owner = sink ? owner : null;
}

function install(core: CoreConnection): Hook {
  const parser = core.packetParser;
  const proto = parser ? (Object.getPrototypeOf(parser) as Record<string, unknown>) : {};
  const { executeStart, executePayload } = proto;
  if (typeof executeStart !== 'function' || typeof executePayload !== 'function' || !Array.isArray(parser.buffer) || typeof parser.bufferLength !== 'number' || !Array.isArray(parser.largePacketParts) || typeof core.sequenceId !== 'number') {
    throw new Error("mysql2's packet parser is not the one src/db/big-packets.ts was written for; the dump is stopped rather than written incomplete");
  }
  const hook: Hook = { sink: null, owner: null };
  let taken: Taken | null = null;
  // Reads of other properties fall through to the parser itself.
  const front = Object.create(parser) as Parser;
  front.execute = (chunk: Buffer) => {
    let at = 0;
    let skip = 0;
    if (!taken && parser.execute === executePayload && parser.length >= STREAM_FROM && hook.sink && hook.owner === core._command && parser.packetHeaderLength === 4 && parser.largePacketParts.length === 0 && core._paused_packets.length === 0) {
      taken = new Taken(hook.sink, parser.length);
      // Buffered: the header's sequence id byte (not yet there if nothing is), then the payload so far.
      skip = 1;
      for (const b of parser.buffer) {
        const from = Math.min(skip, b.length);
        skip -= from;
        taken.feed(b, from);
      }
      parser.buffer = [];
      parser.bufferLength = 0;
      parser.execute = executeStart as Parser['execute'];
    }
    if (taken) {
      at = taken.feed(chunk, Math.min(skip, chunk.length));
      if (!taken.done) return;
      core.sequenceId = (core.sequenceId + taken.packets) % 256;
      const sink = taken.sink;
      taken = null;
      sink.end();
    }
    if (at < chunk.length) parser.execute(at === 0 ? chunk : chunk.subarray(at));
  };
  core.packetParser = front;
  return hook;
}

/** A packet being taken over: its payload bytes to the sink, through the headers of its parts. */
class Taken {
  packets = 1;
  done = false;
  /** Payload bytes of the current part still to come. */
  private left: number;
  private full: boolean;
  private readonly header = Buffer.alloc(4);
  private headerHave = 0;

  constructor(
    readonly sink: PartSink,
    partLength: number,
  ) {
    this.left = partLength;
    this.full = partLength === MAX_PART;
  }

  /** Takes the packet's bytes from `buf` (from `from`); returns where the packet ended in it (its length if not yet). */
  feed(buf: Buffer, from: number): number {
    let at = from;
    while (!this.done) {
      if (this.left > 0) {
        if (at >= buf.length) break;
        const end = Math.min(buf.length, at + this.left);
        this.sink.part(buf, at, end);
        this.left -= end - at;
        at = end;
        continue;
      }
      if (!this.full) {
        this.done = true;
        break;
      }
      // A full part is followed by another part's header (the last one shorter, maybe empty).
      if (at >= buf.length) break;
      this.header[this.headerHave++] = buf[at++];
      if (this.headerHave < 4) continue;
      this.headerHave = 0;
      this.left = this.header.readUIntLE(0, 3);
      this.full = this.left === MAX_PART;
      this.packets++;
    }
    return at;
  }
}
