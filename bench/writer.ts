/**
 * The office, writing while a backup runs (npm run bench:myisam -- --writer):
 * one connection sends an UPDATE to a MyISAM table every `everyMs`, one after
 * the other, and times each statement. An UPDATE waits for any lock a backup
 * holds on the table (LOCK TABLES ... READ LOCAL, FLUSH TABLES WITH READ
 * LOCK), so its longest time is how long the office's writes were held, seen
 * from the office. It matches no row (`PrefName` is one no program uses), so
 * the source stays as it was.
 */
import { connect, quoteId, type Connection } from '../src/db/connect.js';
import type { Dsn } from '../src/db/dsn.js';

export interface WriterFigures {
  statements: number;
  /** The longest a single UPDATE took, from sending it to its answer (ms). */
  longestMs: number;
  /** The median statement (ms): what a write costs when nothing holds it. */
  medianMs: number;
}

export interface Writer {
  stop(): Promise<WriterFigures>;
}

export async function startWriter(dsn: Dsn, opts: { table?: string; everyMs?: number } = {}): Promise<Writer> {
  const conn: Connection = await connect(dsn);
  const table = quoteId(opts.table ?? 'preference');
  const everyMs = opts.everyMs ?? 20;
  const times: number[] = [];
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const t0 = performance.now();
      await conn.query(`UPDATE ${table} SET ValueString = ValueString WHERE PrefName = 'lastresort-bench-writer'`);
      times.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      stopping = true;
      try {
        await loop;
      } finally {
        await conn.end();
      }
      const sorted = [...times].sort((a, b) => a - b);
      return { statements: times.length, longestMs: Math.round(sorted.at(-1) ?? 0), medianMs: Math.round((sorted[Math.floor(sorted.length / 2)] ?? 0) * 10) / 10 };
    },
  };
}
