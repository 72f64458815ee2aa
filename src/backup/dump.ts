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
import type { Spool } from './spool.js';

export interface DumpProgress {
  table: string;
  tablesDone: number;
  tables: number;
  rows: number;
  bytes: number;
}

export interface PlanOptions {
  database: string;
  exclude?: string[];
  createdAt: Date;
  pieceBytes?: number;
  /** Tables bigger than this are read in key ranges of about this size, over all connections at once. */
  rangeBytes?: number;
  /** Connections that will read at once (holders included): with one, tables are not cut into ranges. */
  lanes: number;
  /**
   * The tables a holder connection has locked (moment.ts), and that holder:
   * their key bounds are read there. Read elsewhere, a query on one would
   * queue behind the office's UPDATE, which waits for the holder, which waits
   * for the plan: the backup and the office would wait for ever.
   */
  heldBy?: { conn: Connection; tables: Set<string> };
}

/** What the dump will read: the catalog and its work units, in tar order. */
export interface DumpPlan {
  catalog: Catalog;
  units: Unit[];
  /** The units of each catalog table, by position. */
  unitsOf: number[][];
}

/** Units already read into a spool (held.ts): their pieces come from there. */
export interface Spooled {
  spool: Spool;
  units: Set<number>;
  /** Rows and bytes the spool holds: progress counts on from there. */
  rows: number;
  bytes: number;
}

export interface DumpOptions {
  pieceBytes?: number;
  /** Pace reading so a backup during office hours stays light (bytes per second). */
  maxRateBytesPerSec?: number;
  signal?: AbortSignal;
  onProgress?: (p: DumpProgress) => void;
  spooled?: Spooled;
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

/** Reads the catalog (on the first connection, inside the snapshot) and plans the units. */
export async function planDump(conns: Connection[], opts: PlanOptions): Promise<DumpPlan> {
  const catalog = await readCatalog(conns[0], opts.database, { exclude: opts.exclude, createdAt: opts.createdAt.toISOString() });
  const { units, unitsOf } = await planUnits(conns[0], opts, catalog.tables, opts.rangeBytes ?? 2 * (opts.pieceBytes ?? DEFAULT_PIECE_BYTES));
  return { catalog, units, unitsOf };
}

/**
 * The dump of `plan`, read over `conns` (all in one snapshot: snapshot.ts),
 * but for the units already in `opts.spooled`. Several connections read big tables in key ranges
 * at once; the tar is the same whatever their number, but for where pieces end.
 * stop() (the caller failed: its sink, say) abandons every read in flight and
 * fails `done`, even where a read waits on a connection the caller closes.
 */
export function dumpDatabase(conns: Connection[], plan: DumpPlan, opts: DumpOptions & { database: string }): { stream: Readable; done: Promise<DumpResult>; stop: () => void } {
  const tar = new TarWriter();
  const stopped = new AbortController();
  const follow = () => stopped.abort(opts.signal?.reason);
  if (opts.signal?.aborted) follow();
  else opts.signal?.addEventListener('abort', follow, { once: true });
  const stop = () => stopped.abort(new Error('the dump was stopped'));
  const done = writeDump(conns, plan, tar, { ...opts, signal: stopped.signal }).then(
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

async function writeDump(conns: Connection[], plan: DumpPlan, tar: TarWriter, opts: DumpOptions & { database: string }): Promise<DumpResult> {
  const conn = conns[0];
  const pieceBytes = opts.pieceBytes ?? DEFAULT_PIECE_BYTES;
  const { catalog, units, unitsOf } = plan;
  await tar.json(CATALOG_PATH, catalog);
  const summaries: TableSummary[] = [];
  const pacer = opts.maxRateBytesPerSec ? makePacer(opts.maxRateBytesPerSec) : null;
  const spooled = opts.spooled;
  let totalRows = 0;
  let totalBytes = 0;
  // Progress counts what is read from the server: the spooled units were read already.
  let readRows = spooled?.rows ?? 0;
  let readBytes = spooled?.bytes ?? 0;

  const toRead = units.map((_, i) => i).filter((i) => !spooled?.units.has(i));
  const readerIndex = new Map(toRead.map((u, i) => [u, i]));
  const reader = new RangeReader(conns, toRead.map((i) => units[i]!), { pieceBytes, ahead: conns.length > 1 ? AHEAD_PIECES : 1, signal: opts.signal });
  async function* piecesOf(t: number) {
    for (const unit of unitsOf[t]) {
      const r = readerIndex.get(unit);
      if (r === undefined) yield* spooled!.spool.pieces(unit);
      else for await (const p of reader.pieces(r)) yield { ...p, fromServer: true };
    }
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
        if ('fromServer' in p) {
          reader.written(p);
          readRows += p.rows;
          readBytes += p.bytes.length;
        }
        // Every piece, spooled ones too: the held tables were read at once (paced, the office's writes would wait
        // longer), but the rest of the backup (its disk writes, the file's growth) still keeps to the pace.
        if (pacer) await pacer(p.bytes.length);
        piece++;
        rows += p.rows;
        bytes += p.bytes.length;
        totalRows += p.rows;
        totalBytes += p.bytes.length;
        opts.onProgress?.({ table: table.name, tablesDone: summaries.length, tables: catalog.tables.length, rows: readRows, bytes: readBytes });
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
async function planUnits(conn: Connection, opts: PlanOptions, tables: CatalogTable[], rangeBytes: number): Promise<{ units: Unit[]; unitsOf: number[][] }> {
  const lanes = opts.lanes;
  const sizes = lanes > 1 ? await tableBytes(conn, opts.database) : new Map<string, number>();
  const units: Unit[] = [];
  const unitsOf: number[][] = [];
  for (const table of tables) {
    const on = opts.heldBy?.tables.has(table.name) ? opts.heldBy.conn : conn;
    const ranges = lanes > 1 ? await planRanges(on, table, sizes.get(table.name), rangeBytes) : [WHOLE_TABLE];
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
