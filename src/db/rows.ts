/**
 * A table's rows, encoded for LOAD DATA, in pieces of about `pieceBytes` (a
 * single huge row makes a bigger piece).
 *
 * Speed: this is the producer's hot loop (every byte of the database passes
 * through it), so rows are encoded straight from the server's packets. In
 * the text protocol a row packet is the row's values, each a length-coded
 * string (0xFB for NULL) holding exactly the bytes the server printed; that
 * is what a `typeCast` returning `field.buffer()` would give, value by value,
 * without the Buffer object per value, the row array and the object-mode
 * stream per row that the general path costs (about three quarters of the
 * backup's CPU time on the benchmark before this change).
 *
 * How: mysql2's Query command is a state machine whose `fieldsEOF` state
 * returns `this.row` as the state for the rows, so a `row` set on the
 * command instance receives every row packet; end-of-rows and errors still
 * go through mysql2's own code. If a future mysql2 routes rows elsewhere,
 * they would arrive as 'result' events: that is detected and the dump fails
 * loudly rather than writing an empty table.
 *
 * Backpressure: at most `ahead` finished pieces wait for the consumer; then
 * the connection is paused (mysql2 queues the packets it already holds) and
 * resumed when the consumer takes one. So the server keeps sending while the
 * previous piece is encrypted and written, and memory stays bounded. With a
 * budget shared by the dump's connections (piece-budget.ts), big rows count
 * for what they weigh across connections too.
 *
 * Big rows: a row packet of a MiB or more is taken from the socket reads as
 * they come (big-packets.ts), each slice encoded and counted in the budget
 * at once, so the connection can be held back in the middle of an image.
 */
import { quoteId, type Connection } from './connect.js';
import type { CatalogTable } from '../archive/layout.js';
import { WasmRowEncoder, type PacketEncoder } from '../archive/tsv-wasm.js';
import { WHOLE_TABLE, rangeCondition, rangeKey, type KeyRange } from './ranges.js';
import { setPartSink, type PartSink } from './big-packets.js';
import type { PieceBudget } from './piece-budget.js';

export interface RowPiece {
  /** Whole encoded rows, each ending in LF. */
  bytes: Buffer;
  rows: number;
}

interface Packet {
  buffer: Buffer;
  offset: number;
  end: number;
  isEOF(): boolean;
}

type State = (this: QueryCommand, packet: Packet, connection: RawConnection) => State | null;

interface QueryCommand {
  row: State;
  on(event: 'error', fn: (err: Error) => void): void;
  on(event: 'end' | 'result', fn: () => void): void;
}

interface RawConnection {
  query(options: { sql: string; rowsAsArray?: boolean }): QueryCommand;
  pause(): void;
  resume(): void;
  on(event: 'error', fn: (err: Error) => void): void;
  off(event: 'error', fn: (err: Error) => void): void;
}

export interface RowPieceOptions {
  pieceBytes: number;
  /** The SELECT to run (selectRowsSql of the table, or of one key range of it). */
  sql?: string;
  /** Finished pieces that may wait for the consumer before the connection is paused. */
  ahead?: number;
  /** Reused across calls on one connection; a new one if not given. */
  encoder?: PacketEncoder;
  /** Shared by the dump's connections (piece-budget.ts); every piece taken must be released there once written. */
  budget?: PieceBudget;
  /** Whether this read's pieces are the ones the consumer writes now (range-reader.ts); always, if not given. */
  isHead?: () => boolean;
  /** Aborted: the read is abandoned at once (abandon() below), even while the connection is held back. */
  signal?: AbortSignal;
}

export async function* encodedRowPieces(conn: Connection, table: CatalogTable, opts: RowPieceOptions): AsyncGenerator<RowPiece> {
  const raw = (conn as unknown as { connection: RawConnection }).connection;
  // Room for a piece and the row that completes it; a bigger row grows the buffer.
  const encoder = opts.encoder ?? new WasmRowEncoder(opts.pieceBytes + (256 << 10));
  if (encoder.length > 0) encoder.handOff(); // rows left by an abandoned read
  const flow = new Flow(raw, encoder, opts);
  const pieceBytes = opts.pieceBytes;
  const signal = opts.signal;
  if (signal?.aborted) throw abortReason(signal);

  // A connection lost mid-result (or ended by the hung-server watch) is told to
  // the connection only, not to a query without a callback, and a query on a
  // connection already closed fails inside query(): listen there first.
  raw.on('error', flow.fail);
  const unwatch = opts.budget?.watch(flow.look);
  const query = raw.query({ sql: opts.sql ?? selectRowsSql(table), rowsAsArray: true });
  const mysqlRow = Object.getPrototypeOf(query).row as State;
  const row: State = function (this: QueryCommand, packet, connection) {
    // End of rows (or of one result set): mysql2's own handling.
    if (packet.isEOF()) return mysqlRow.call(this, packet, connection);
    if (flow.discard) return row;
    encoder.addPacket(packet.buffer, packet.offset, packet.end);
    flow.rows++;
    if (encoder.length >= pieceBytes) flow.pieceFull();
    return row;
  };
  query.row = row;
  setPartSink(raw, query, flow);
  query.on('result', () => flow.fail(new Error('mysql2 delivered rows around the raw row reader (src/db/rows.ts): its internals changed; the dump is stopped rather than written incomplete')));
  query.on('error', flow.fail);
  query.on('end', () => {
    flow.ended = true;
    setPartSink(raw, query, null);
    flow.notify();
  });
  const onAbort = () => flow.abandon(abortReason(signal!));
  signal?.addEventListener('abort', onAbort, { once: true });

  try {
    for (;;) {
      if (flow.failure) throw flow.failure;
      const piece = flow.ready.shift();
      flow.out = piece !== undefined;
      flow.look();
      if (piece) {
        if (signal?.aborted) throw abortReason(signal);
        yield piece;
        continue;
      }
      if (flow.ended) break;
      await flow.sleep();
    }
  } finally {
    raw.off('error', flow.fail);
    signal?.removeEventListener('abort', onAbort);
    unwatch?.();
    // Abandoned (error or consumer stopped): let the rest of the result pass unencoded.
    if (!flow.ended) flow.letGo();
  }
  if (flow.rows > 0) yield flow.take();
}

/**
 * The state of one read between mysql2's callbacks and the generator: the
 * pieces ready, whether the connection is held back, and a big row's parts
 * (big-packets.ts) as they arrive.
 */
class Flow implements PartSink {
  readonly ready: RowPiece[] = [];
  rows = 0;
  ended = false;
  paused = false;
  discard = false;
  /** A piece of this read is with the consumer, not yet written. */
  out = false;
  failure: Error | null = null;
  private wake: (() => void) | null = null;
  /** Bytes of the encoder's output already added to the budget (a big row's parts so far). */
  private counted = 0;
  private readonly aheadBytes: number;

  constructor(
    private readonly raw: RawConnection,
    private readonly encoder: PacketEncoder,
    private readonly opts: RowPieceOptions,
  ) {
    this.aheadBytes = (opts.ahead ?? 1) * opts.pieceBytes;
  }

  notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  sleep(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  readonly fail = (err: Error): void => {
    this.failure ??= err;
    this.notify();
  };

  /**
   * Stops the read for good (the dump failed or was stopped: its signal).
   * A generator's return() only queues while it waits for a piece, and a read
   * held back by the budget may wait for ever (no piece comes, no release):
   * this lets the connection go and wakes the generator to `err`, so that its
   * result set is read to its end and the connection can be ended.
   */
  readonly abandon = (err: Error): void => {
    this.letGo();
    this.fail(err);
  };

  /** The rest of the result passes unencoded, the connection no longer held back. */
  letGo(): void {
    this.discard = true;
    if (!this.paused) return;
    this.paused = false;
    this.raw.resume();
  }

  /** The encoder's rows as a piece (counted in the budget). */
  take(): RowPiece {
    const piece = { bytes: this.encoder.handOff(), rows: this.rows };
    const uncounted = piece.bytes.length - this.counted;
    this.counted = 0;
    this.rows = 0;
    // Last: over the limit, add() has every reader look, this one too (it may resume its connection).
    this.opts.budget?.add(uncounted);
    return piece;
  }

  pieceFull(): void {
    this.ready.push(this.take());
    this.look();
    this.notify();
  }

  part(buf: Buffer, start: number, end: number): void {
    if (this.discard) return;
    try {
      this.encoder.addPart(buf, start, end);
    } catch (err) {
      this.stop(err as Error);
      return;
    }
    const budget = this.opts.budget;
    if (budget) {
      budget.add(this.encoder.length - this.counted);
      this.counted = this.encoder.length;
    }
    this.look();
  }

  end(): void {
    if (this.discard) return;
    try {
      this.encoder.endParts();
    } catch (err) {
      this.stop(err as Error);
      return;
    }
    this.rows++;
    if (this.encoder.length >= this.opts.pieceBytes) this.pieceFull();
  }

  /** Holds the connection back, or lets it go again, as the rules below say now. */
  readonly look = (): void => {
    const hold = this.hold();
    if (hold === this.paused) return;
    this.paused = hold;
    if (hold) this.raw.pause();
    else this.raw.resume();
  };

  /**
   * Hold back when this read has its pieces ahead; or when the dump's budget
   * is over and the consumer is busy elsewhere or has work from this read
   * already (the read it writes from is never held with nothing to give,
   * so the dump always moves).
   */
  private hold(): boolean {
    if (this.ended || this.discard) return false;
    let bytes = 0;
    for (const p of this.ready) bytes += p.bytes.length;
    if (bytes >= this.aheadBytes) return true;
    if (!this.opts.budget?.over) return false;
    return !(this.opts.isHead?.() ?? true) || this.ready.length > 0 || this.out;
  }

  /** A part that cannot be encoded (a packet shorter than its values say): fails the read. */
  private stop(err: Error): void {
    this.discard = true;
    this.fail(err);
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/**
 * The SELECT a dump and a validation both read a table with: same columns,
 * same expressions, same order. A dump may read it in key ranges (ranges.ts):
 * the ranges, read one after the other, give the same rows in the same order.
 */
export function selectRowsSql(table: CatalogTable, range: KeyRange = WHOLE_TABLE): string {
  const cols = table.columns.map((c) => (c.encoding === 'hex' ? `HEX(${quoteId(c.name)})` : quoteId(c.name))).join(', ');
  const key = rangeKey(table);
  const where = key ? rangeCondition(key, range) : '';
  const order = table.primaryKey.length > 0 ? ` ORDER BY ${table.primaryKey.map(quoteId).join(', ')}` : '';
  return `SELECT ${cols || '1'} FROM ${quoteId(table.name)}${where}${order}`;
}
