import { once } from 'node:events';
import { Readable } from 'node:stream';
import type { Connection } from '../db/connect.js';
import { quoteId } from '../db/connect.js';
import type { CatalogTable } from '../archive/layout.js';

/** LOAD DATA for a table's data columns; hex-encoded ones go through a variable and UNHEX(). */
export function loadDataSql(table: CatalogTable): string {
  const cols: string[] = [];
  const sets: string[] = [];
  table.columns.forEach((c, i) => {
    if (c.encoding === 'hex') {
      cols.push(`@lr${i}`);
      sets.push(`${quoteId(c.name)} = UNHEX(@lr${i})`);
    } else cols.push(quoteId(c.name));
  });
  return (
    `LOAD DATA LOCAL INFILE 'lastresort.tsv' INTO TABLE ${quoteId(table.name)} CHARACTER SET utf8mb4 ` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${cols.join(', ')})` +
    (sets.length ? ` SET ${sets.join(', ')}` : '')
  );
}

interface RawConnection {
  stream: NodeJS.WritableStream & { writableNeedDrain?: boolean };
}

/**
 * mysql2 pipes an infile stream in flowing mode and does not wait for the
 * socket; this wrapper does, so memory stays flat when the server is slower
 * than decryption.
 */
async function* paced(rows: AsyncIterable<Buffer>, socket: RawConnection['stream']): AsyncGenerator<Buffer> {
  for await (const chunk of rows) {
    // mysql2 sends each chunk as one packet: keep them under 16 MiB.
    for (let at = 0; at < chunk.length; at += 8 << 20) {
      if (socket.writableNeedDrain) await once(socket, 'drain');
      yield chunk.subarray(at, at + (8 << 20));
    }
  }
}

/** Streams whole rows into the table; returns the server's count of rows it stored. */
export async function loadRows(conn: Connection, table: CatalogTable, rows: AsyncIterable<Buffer>): Promise<{ affectedRows: number; warnings: number }> {
  const raw = (conn as unknown as { connection: RawConnection }).connection;
  const source = Readable.from(paced(rows, raw.stream), { objectMode: false, highWaterMark: 1 << 20 });
  const had = { pause: raw.stream.listeners('pause'), drain: raw.stream.listeners('drain') };
  try {
    const [result] = (await conn.query({ sql: loadDataSql(table), infileStreamFactory: () => source } as never)) as unknown as [{ affectedRows: number; warningStatus: number }];
    return { affectedRows: result.affectedRows, warnings: result.warningStatus };
  } finally {
    source.destroy();
    // mysql2 unhooks its infile listeners from the socket only when the file ends: after a refused
    // LOAD (a full disk) they stayed, one pair per piece, until Node warned of a leak on stderr.
    for (const event of ['pause', 'drain'] as const) {
      for (const l of raw.stream.listeners(event)) if (!had[event].includes(l)) raw.stream.removeListener(event, l as (...a: unknown[]) => void);
    }
  }
}
