/**
 * Reads a dump's work units (a whole table, or one key range of it) over
 * several connections that share one snapshot, and hands their pieces on in
 * unit order, which is the order the tar must have.
 *
 * Why: the server sends a result set from one thread, and that thread (turning
 * every value into text) is what a one-connection dump waits for. With two
 * connections the server works on two units at once while this process
 * encodes, hashes and encrypts.
 *
 * How: each idle connection starts the next unit not yet taken. The unit being
 * handed on streams; a unit read ahead keeps at most `ahead` pieces before its
 * connection is paused (rows.ts), so memory stays bounded whatever the sizes.
 * A connection is given its next unit as soon as its current one ends, before
 * the consumer asks for it. All share one budget of bytes in flight
 * (piece-budget.ts), so that a big row on one connection holds the others back.
 *
 * Stopping: close() (the dump failed, or was stopped) aborts every read in
 * flight through the signal they share, not only return() on their
 * generators: a read the budget holds back while it waits for its first piece
 * would never see a return() (rows.ts, abandon()), and its connection could
 * then never be ended.
 */
import type { Connection } from '../db/connect.js';
import type { CatalogTable } from '../archive/layout.js';
import { WasmRowEncoder, type PacketEncoder } from '../archive/tsv-wasm.js';
import { encodedRowPieces, type RowPiece } from '../db/rows.js';
import { PieceBudget } from '../db/piece-budget.js';

export interface Unit {
  table: CatalogTable;
  sql: string;
}

interface Job {
  unit: number;
  conn: Connection;
  pieces: AsyncGenerator<RowPiece>;
  next: Promise<IteratorResult<RowPiece>>;
}

const ignore = () => {};

export class RangeReader {
  private readonly idle: Connection[];
  /** One encoder per connection, reused from unit to unit. */
  private readonly encoders = new Map<Connection, PacketEncoder>();
  private readonly jobs: Job[] = [];
  private started = 0;
  private expected = 0;
  readonly budget: PieceBudget;
  /** Aborted by close(), or with the dump's own signal: every read is abandoned. */
  private readonly stop = new AbortController();
  private readonly stopWith = () => this.stop.abort(this.opts.signal?.reason);

  constructor(
    conns: Connection[],
    private readonly units: Unit[],
    private readonly opts: { pieceBytes: number; ahead: number; signal?: AbortSignal },
  ) {
    this.idle = [...conns];
    // Above what the pieces-ahead rule lets ordinary rows hold (each read: its pieces ahead and one with the consumer).
    this.budget = new PieceBudget((conns.length * (opts.ahead + 1) + 1) * opts.pieceBytes);
    if (opts.signal?.aborted) this.stopWith();
    else opts.signal?.addEventListener('abort', this.stopWith, { once: true });
  }

  /** A piece given by pieces() has been written: its bytes leave the budget. */
  written(piece: RowPiece): void {
    this.budget.release(piece.bytes.length);
  }

  /** Unit `index`'s pieces, in order; units must be asked for in order, each read to its end. */
  async *pieces(index: number): AsyncGenerator<RowPiece> {
    if (index !== this.expected) throw new Error(`range reader: unit ${index} asked for, ${this.expected} expected`);
    this.startIdle();
    const job = this.jobs[0];
    if (!job || job.unit !== index) throw new Error(`range reader: unit ${index} was not started`);
    for (;;) {
      const r = await job.next;
      if (r.done) break;
      yield r.value;
      job.next = job.pieces.next();
      job.next.catch(ignore);
    }
    this.jobs.shift();
    this.idle.push(job.conn);
    this.expected++;
    this.startIdle();
    this.budget.lookAll(); // the next unit's read is now the one written: it may not be held with nothing to give
  }

  /** Stops every unit in flight (after a failure): their rows are let through unencoded. Called once the dump is over, failed or not. */
  close(): void {
    this.opts.signal?.removeEventListener('abort', this.stopWith);
    this.stop.abort(new Error('the dump stopped reading'));
    for (const job of this.jobs.splice(0)) job.pieces.return(undefined).catch(ignore);
  }

  private startIdle(): void {
    while (this.idle.length > 0 && this.started < this.units.length) {
      const conn = this.idle.shift() as Connection;
      const unit = this.units[this.started];
      let encoder = this.encoders.get(conn);
      if (!encoder) this.encoders.set(conn, (encoder = new WasmRowEncoder(this.opts.pieceBytes + (256 << 10))));
      const index = this.started++;
      const isHead = () => this.expected === index;
      const pieces = encodedRowPieces(conn, unit.table, { pieceBytes: this.opts.pieceBytes, sql: unit.sql, ahead: this.opts.ahead, encoder, budget: this.budget, isHead, signal: this.stop.signal });
      const next = pieces.next();
      next.catch(ignore);
      this.jobs.push({ unit: index, conn, pieces, next });
    }
  }
}
