/**
 * The dump: one consistent snapshot of the database written as the payload
 * tar (src/archive/layout.ts). A stream function: it takes a connection and
 * returns a Readable of tar bytes; nothing touches the disk.
 */
import type { Readable } from 'node:stream';
import type { Connection } from '../db/connect.js';
import { CATALOG_PATH, type CatalogTable, MANIFEST_PATH, PAX_FIRST_ROW, PAX_ROWS, PAX_TABLE, dataPath, objectPath, schemaPath, summaryPath, type Catalog, type Manifest, type ObjectKind, type TableSummary } from '../archive/layout.js';
import { TableHasher } from '../archive/checksum.js';
import { TarWriter } from '../archive/tar-writer.js';
import { readCatalog, readObjects } from './catalog.js';
import { selectRowsSql } from '../db/rows.js';
import { WHOLE_TABLE, planRanges, tableBytes } from '../db/ranges.js';
import { RangeReader, type Unit } from './range-reader.js';

export interface DumpProgress {
  table: string;
  tablesDone: number;
  tables: number;
  rows: number;
  bytes: number;
}

export interface DumpOptions {
  database: string;
  exclude?: string[];
  createdAt: Date;
  pieceBytes?: number;
  /** Tables bigger than this are read in key ranges of about this size, over all connections at once. */
  rangeBytes?: number;
  /** Pace reading so a backup during office hours stays light (bytes per second). */
  maxRateBytesPerSec?: number;
  signal?: AbortSignal;
  onProgress?: (p: DumpProgress) => void;
}

export interface DumpResult {
  catalog: Catalog;
  manifest: Manifest;
  rows: number;
  plaintextBytes: number;
}

export const DEFAULT_PIECE_BYTES = 4 << 20;
/** Pieces a unit read ahead may hold before its connection pauses (the unit being written holds one). */
const AHEAD_PIECES = 2;

/**
 * The dump, read over `conns` (all in one snapshot: snapshot.ts); the first
 * also reads the catalog. Several connections read big tables in key ranges
 * at once; the tar is the same whatever their number, but for where pieces end.
 * stop() (the caller failed: its sink, say) abandons every read in flight and
 * fails `done`, even where a read waits on a connection the caller closes.
 */
export function dumpDatabase(conns: Connection[], opts: DumpOptions): { stream: Readable; done: Promise<DumpResult>; stop: () => void } {
  const tar = new TarWriter();
  const stopped = new AbortController();
  const follow = () => stopped.abort(opts.signal?.reason);
  if (opts.signal?.aborted) follow();
  else opts.signal?.addEventListener('abort', follow, { once: true });
  const stop = () => stopped.abort(new Error('the dump was stopped'));
  const done = writeDump(conns, tar, { ...opts, signal: stopped.signal }).then(
    (r) => {
      tar.finish();
      return r;
    },
    (err) => {
      tar.destroy(err);
      throw err;
    },
  );
  // The caller observes failures through the pipeline; keep this one from being unhandled.
  done.catch(() => {}).finally(() => opts.signal?.removeEventListener('abort', follow));
  return { stream: tar.stream, done, stop };
}

async function writeDump(conns: Connection[], tar: TarWriter, opts: DumpOptions): Promise<DumpResult> {
  const conn = conns[0];
  const pieceBytes = opts.pieceBytes ?? DEFAULT_PIECE_BYTES;
  const catalog = await readCatalog(conn, opts.database, { exclude: opts.exclude, createdAt: opts.createdAt.toISOString() });
  await tar.json(CATALOG_PATH, catalog);
  const summaries: TableSummary[] = [];
  const pacer = opts.maxRateBytesPerSec ? makePacer(opts.maxRateBytesPerSec) : null;
  let totalRows = 0;
  let totalBytes = 0;

  const { units, unitsOf } = await planUnits(conns, catalog.tables, opts.database, opts.rangeBytes ?? 2 * pieceBytes);
  const reader = new RangeReader(conns, units, { pieceBytes, ahead: conns.length > 1 ? AHEAD_PIECES : 1, signal: opts.signal });
  async function* piecesOf(t: number) {
    for (const unit of unitsOf[t]) yield* reader.pieces(unit);
  }
  try {
    for (const [t, table] of catalog.tables.entries()) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
      await tar.entry(schemaPath(table.index), Buffer.from(table.create, 'utf8'), { [PAX_TABLE]: table.name });
      const hasher = new TableHasher(table.primaryKey.length > 0 ? 'sha256-ordered' : 'sha256-rowsum');
      let rows = 0;
      let bytes = 0;
      let piece = 0;
      for await (const p of piecesOf(t)) {
        hasher.update(p.bytes);
        await tar.entry(dataPath(table.index, piece), p.bytes, { [PAX_TABLE]: table.name, [PAX_ROWS]: String(p.rows), [PAX_FIRST_ROW]: String(rows) });
        reader.written(p);
        piece++;
        rows += p.rows;
        bytes += p.bytes.length;
        totalRows += p.rows;
        totalBytes += p.bytes.length;
        opts.onProgress?.({ table: table.name, tablesDone: summaries.length, tables: catalog.tables.length, rows: totalRows, bytes: totalBytes });
        if (pacer) await pacer(p.bytes.length);
      }
      const summary: TableSummary = { index: table.index, name: table.name, rows, bytes, pieces: piece, checksum: hasher.digest() };
      summaries.push(summary);
      await tar.json(summaryPath(table.index), summary);
    }
  } finally {
    reader.close();
  }

  const objects = await readObjects(conn, opts.database);
  const counters = new Map<ObjectKind, number>();
  for (const o of objects) {
    const n = (counters.get(o.kind) ?? 0) + 1;
    counters.set(o.kind, n);
    await tar.json(objectPath(o.kind, n), o);
  }
  const manifest: Manifest = { completedAt: new Date().toISOString(), tables: summaries, objects: objects.map((o) => ({ kind: o.kind, name: o.name })) };
  await tar.json(MANIFEST_PATH, manifest);
  return { catalog, manifest, rows: totalRows, plaintextBytes: totalBytes };
}

/**
 * The dump's work units in tar order: a table, or with several connections a
 * big table's key ranges. Planned before any result set is open, because a
 * connection runs one query at a time.
 */
async function planUnits(conns: Connection[], tables: CatalogTable[], database: string, rangeBytes: number): Promise<{ units: Unit[]; unitsOf: number[][] }> {
  const sizes = conns.length > 1 ? await tableBytes(conns[0], database) : new Map<string, number>();
  const units: Unit[] = [];
  const unitsOf: number[][] = [];
  for (const table of tables) {
    const ranges = conns.length > 1 ? await planRanges(conns[0], table, sizes.get(table.name), rangeBytes) : [WHOLE_TABLE];
    unitsOf.push(ranges.map((range) => units.push({ table, sql: selectRowsSql(table, range) }) - 1));
  }
  return { units, unitsOf };
}

function makePacer(bytesPerSec: number): (bytes: number) => Promise<void> {
  const started = Date.now();
  let sent = 0;
  return async (bytes) => {
    sent += bytes;
    const aheadMs = (sent / bytesPerSec) * 1000 - (Date.now() - started);
    if (aheadMs > 5) await new Promise((r) => setTimeout(r, aheadMs));
  };
}
