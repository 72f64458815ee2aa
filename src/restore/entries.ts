/**
 * Walks the tar entries of one stretch of the payload (the whole file read
 * in order, or one lane's span) and hands each to its part: the catalog and
 * manifest to the run, a table's schema, data pieces and summary to the
 * table loader, a table's end to the index builder, objects to the list
 * created at the end. Entries found after damage, and orphans (bytes whose
 * header was lost), mark their table damaged.
 */
import { LrError } from '../errors.js';
import { readPrefix, readTar, readWhole, type BodyPiece, type OrphanNext, type TarEntry, type TarStats } from '../archive/tar-reader.js';
import { PAX_FIRST_ROW, PAX_ROWS, PAX_TABLE, roleOf, type Catalog, type Manifest, type ObjectDefinition, type TableSummary } from '../archive/layout.js';
import type { Segment } from '../format/reader.js';
import type { IndexBuilder } from './index-builder.js';
import type { Lane, RestoreRun } from './run.js';
import { salvageCatalogTables } from './salvage.js';
import { createTable, loadPiece } from './table-loader.js';
import type { TableState } from './table-state.js';

const SCHEMA_MAX_BYTES = 16 << 20;

export async function consume(run: RestoreRun, indexes: IndexBuilder, segments: AsyncIterable<Segment>, lane: Lane): Promise<void> {
  for await (const { entry, body } of readTar(run.counted(segments), { entries: 0, unaccounted: [], ended: 'end-of-data' } as TarStats)) {
    if (run.stopped) throw run.stopped;
    if (run.opts.signal?.aborted) throw new LrError('LR_INTERRUPTED', 'The restore was stopped.');
    if (entry.orphan) await orphan(run, indexes, entry, body, lane);
    else await named(run, indexes, entry, body, lane);
  }
  await indexes.finishTable(lane.current, lane);
  lane.current = null;
}

/** The lane moves on to table `s`: the table it was on is finished. */
async function enter(indexes: IndexBuilder, s: TableState, lane: Lane): Promise<void> {
  if (lane.current && lane.current !== s) await indexes.finishTable(lane.current, lane);
  lane.current = s;
  s.seen = true;
}

async function orphan(run: RestoreRun, indexes: IndexBuilder, entry: TarEntry, body: AsyncGenerator<BodyPiece>, lane: Lane): Promise<void> {
  const owner = orphanOwner(entry.orphan!);
  if (!owner) return;
  const s = run.stateFor(owner.table, entry.orphan!.next.pax[PAX_TABLE] ?? null);
  await enter(indexes, s, lane);
  s.damaged = true;
  await loadPiece(run, s, owner.piece, body, NaN, NaN, lane);
}

async function named(run: RestoreRun, indexes: IndexBuilder, entry: TarEntry, body: AsyncGenerator<BodyPiece>, lane: Lane): Promise<void> {
  const role = roleOf(entry.path);
  if (role.role === 'catalog') {
    const buf = await readPrefix(body);
    if (buf.length === entry.size) run.catalog = JSON.parse(buf.toString('utf8')) as Catalog;
    else {
      run.salvaged = salvageCatalogTables(buf);
      run.logger.warn({ tablesSalvaged: run.salvaged.length }, 'catalog damaged');
    }
    await run.ensureDatabase();
    return;
  }
  if (role.role === 'schema' || role.role === 'data' || role.role === 'summary') {
    const s = run.stateFor(role.table, entry.pax[PAX_TABLE] ?? null);
    await enter(indexes, s, lane);
    if (entry.foundAfterDamage) s.damaged = true;
    if (role.role === 'schema') {
      const buf = await readWhole(body, entry.size, SCHEMA_MAX_BYTES);
      await createTable(run, s, buf ? buf.toString('utf8') : null, lane);
    } else if (role.role === 'summary') {
      await summary(run, s, await readWhole(body, entry.size));
      await indexes.finishTable(s, lane);
    } else {
      await loadPiece(run, s, role.piece, body, Number(entry.pax[PAX_ROWS] ?? NaN), Number(entry.pax[PAX_FIRST_ROW] ?? NaN), lane);
    }
    return;
  }
  await indexes.finishTable(lane.current, lane);
  lane.current = null;
  if (role.role === 'object') {
    const buf = await readWhole(body, entry.size, SCHEMA_MAX_BYTES);
    if (buf) run.objects.push(JSON.parse(buf.toString('utf8')) as ObjectDefinition);
  } else if (role.role === 'manifest') {
    const buf = await readWhole(body, entry.size);
    if (buf) run.manifest = JSON.parse(buf.toString('utf8')) as Manifest;
  }
}

/** The summary counts the table's rows: fewer read than it says means rows were lost. */
async function summary(run: RestoreRun, s: TableState, buf: Buffer | null): Promise<void> {
  if (!buf) return;
  const value = JSON.parse(buf.toString('utf8')) as TableSummary;
  run.summaries.set(s.index, value);
  s.expected = value.rows;
  if (value.rows !== s.nextFirstRow) {
    s.damaged = true;
    s.tracker?.damage();
  }
}

/**
 * Whose bytes an orphan (found after a lost header) is, from what follows it:
 * data piece p > 0 of a table follows piece p - 1 of the same table, and a
 * summary follows its table's last piece. Anything else (a schema, JSON, a
 * pax body the damage cut into) is never used: an orphan is a body's tail, and
 * only rows can be salvaged from a tail.
 */
export function orphanOwner(orphan: { next: OrphanNext }): { table: number; piece: number } | null {
  const { next } = orphan;
  const role = roleOf(next.path);
  if (role.role === 'data' && next.paxFound) return role.piece > 0 ? { table: role.table, piece: role.piece - 1 } : null;
  if (role.role === 'summary' && next.body) {
    try {
      const summary = JSON.parse(next.body.toString('utf8')) as TableSummary;
      if (Number.isInteger(summary.pieces) && summary.pieces > 0) return { table: role.table, piece: summary.pieces - 1 };
    } catch {
      return null;
    }
  }
  return null;
}
