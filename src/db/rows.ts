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
 * previous piece is encrypted and written, and memory stays bounded.
 */
import { quoteId, type Connection } from './connect.js';
import type { CatalogTable } from '../archive/layout.js';
import { WasmRowEncoder, type PacketEncoder } from '../archive/tsv-wasm.js';
import { WHOLE_TABLE, rangeCondition, rangeKey, type KeyRange } from './ranges.js';

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
  signal?: AbortSignal;
}

export async function* encodedRowPieces(conn: Connection, table: CatalogTable, opts: RowPieceOptions): AsyncGenerator<RowPiece> {
  const ahead = opts.ahead ?? 1;
  const raw = (conn as unknown as { connection: RawConnection }).connection;
  // Room for a piece and the row that completes it; a bigger row grows the buffer.
  const capacity = opts.pieceBytes + (256 << 10);
  const encoder = opts.encoder ?? new WasmRowEncoder(capacity);
  if (encoder.length > 0) encoder.handOff(); // rows left by an abandoned read
  const ready: RowPiece[] = [];
  // Counted in bytes, so a piece holding a big row (an image of tens of MB) counts for what it weighs.
  const full = () => ready.reduce((n, p) => n + p.bytes.length, 0) >= ahead * opts.pieceBytes;
  let rows = 0;
  let ended = false;
  let paused = false;
  let discard = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  // A connection lost mid-result (or ended by the hung-server watch) is told to
  // the connection only, not to a query without a callback, and a query on a
  // connection already closed fails inside query(): listen there first.
  const lost = (err: Error) => {
    failure ??= err;
    notify();
  };
  raw.on('error', lost);
  const query = raw.query({ sql: opts.sql ?? selectRowsSql(table), rowsAsArray: true });
  const mysqlRow = Object.getPrototypeOf(query).row as State;
  const row: State = function (this: QueryCommand, packet, connection) {
    // End of rows (or of one result set): mysql2's own handling.
    if (packet.isEOF()) return mysqlRow.call(this, packet, connection);
    if (discard) return row;
    encoder.addPacket(packet.buffer, packet.offset, packet.end);
    rows++;
    if (encoder.length >= opts.pieceBytes) {
      ready.push({ bytes: encoder.handOff(), rows });
      rows = 0;
      if (full() && !paused) {
        paused = true;
        connection.pause();
      }
      notify();
    }
    return row;
  };
  query.row = row;
  query.on('result', () => {
    failure ??= new Error('mysql2 delivered rows around the raw row reader (src/db/rows.ts): its internals changed; the dump is stopped rather than written incomplete');
    notify();
  });
  query.on('error', (err) => {
    failure ??= err;
    notify();
  });
  query.on('end', () => {
    ended = true;
    notify();
  });

  try {
    for (;;) {
      if (failure) throw failure;
      const piece = ready.shift();
      if (piece) {
        if (paused && !full()) {
          paused = false;
          raw.resume();
        }
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
        yield piece;
        continue;
      }
      if (ended) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    raw.off('error', lost);
    if (!ended) {
      // Abandoned (error or consumer stopped): let the rest of the result pass unencoded.
      discard = true;
      if (paused) raw.resume();
    }
  }
  if (rows > 0) yield { bytes: encoder.handOff(), rows };
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
