import type { Connection } from '../db/connect.js';
import type { CatalogTable } from '../archive/layout.js';
import { RowEncoder } from '../archive/tsv.js';
import { selectRowsSql } from './catalog.js';

export interface RowPiece {
  /** Whole encoded rows, each ending in LF. */
  bytes: Buffer;
  rows: number;
}

interface RawField {
  buffer(): Buffer | null;
}

/**
 * Streams a table's rows, encoded, in pieces of about `pieceBytes` (a single
 * huge row makes a bigger piece). Each column arrives as the server's raw
 * bytes: no decoding to JS strings, so values come back byte for byte.
 * Iterating with for-await pauses the connection when the consumer is slow.
 */
export async function* encodedRowPieces(conn: Connection, table: CatalogTable, opts: { pieceBytes: number; signal?: AbortSignal }): AsyncGenerator<RowPiece> {
  const raw = (conn as unknown as { connection: { query(o: object): { stream(o: object): AsyncIterable<(Buffer | null)[]> & { destroy(): void } } } }).connection;
  const stream = raw
    .query({ sql: selectRowsSql(table), rowsAsArray: true, typeCast: (field: RawField) => field.buffer() })
    .stream({ highWaterMark: 512 });
  const encoder = new RowEncoder(Math.min(opts.pieceBytes * 2, 64 << 20));
  let rows = 0;
  try {
    for await (const values of stream) {
      encoder.add(values);
      rows++;
      if (encoder.length >= opts.pieceBytes) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
        yield { bytes: encoder.take(), rows };
        rows = 0;
      }
    }
  } finally {
    stream.destroy?.();
  }
  if (rows > 0) yield { bytes: encoder.take(), rows };
}
