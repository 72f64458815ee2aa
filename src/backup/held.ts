/**
 * Reads the tables the moment holds still (moment.ts) into the spool, every
 * holder taking the next unit no one has taken, at the server's speed, and
 * lets each holder's locks go the moment no unit is left for it: the office's
 * UPDATEs and DELETEs on those tables wait exactly this long.
 */
import type { Connection } from '../db/connect.js';
import { WasmRowEncoder } from '../archive/tsv-wasm.js';
import { encodedRowPieces } from '../db/rows.js';
import type { Unit } from './range-reader.js';
import type { Spool } from './spool.js';

export interface HeldProgress {
  table: string;
  rows: number;
  bytes: number;
}

export interface HeldResult {
  /** From the start of the moment until the last holder let go. */
  writesHeldMs: number;
  rows: number;
  bytes: number;
}

export async function readHeldTables(
  holders: Connection[],
  units: { index: number; unit: Unit }[],
  spool: Spool,
  opts: { heldSince: number; pieceBytes: number; signal?: AbortSignal; onProgress?: (p: HeldProgress) => void },
): Promise<HeldResult> {
  const queue = [...units];
  const stop = new AbortController();
  const follow = () => stop.abort(opts.signal?.reason);
  if (opts.signal?.aborted) follow();
  else opts.signal?.addEventListener('abort', follow, { once: true });
  let rows = 0;
  let bytes = 0;
  let lastRelease = opts.heldSince;

  const lane = async (conn: Connection) => {
    const encoder = new WasmRowEncoder(opts.pieceBytes + (256 << 10));
    for (let next = queue.shift(); next; next = queue.shift()) {
      for await (const p of encodedRowPieces(conn, next.unit.table, { pieceBytes: opts.pieceBytes, sql: next.unit.sql, ahead: 1, encoder, signal: stop.signal })) {
        await spool.append(next.index, p);
        rows += p.rows;
        bytes += p.bytes.length;
        opts.onProgress?.({ table: next.unit.table.name, rows, bytes });
      }
    }
    await conn.query('UNLOCK TABLES');
    lastRelease = Math.max(lastRelease, Date.now());
  };
  try {
    await Promise.all(
      holders.map((h) =>
        lane(h).catch((err: unknown) => {
          stop.abort(err); // the other lanes stop too: the backup has failed
          throw err;
        }),
      ),
    );
  } finally {
    opts.signal?.removeEventListener('abort', follow);
  }
  return { writesHeldMs: lastRelease - opts.heldSince, rows, bytes };
}
