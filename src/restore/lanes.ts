/**
 * Two tables at once. The server loads one table per connection on one CPU
 * core, so a restore that feeds a single connection leaves the other core to
 * index builds and waiting. When the archive's layout can be read from its
 * headers (skimArchive), each table becomes a span of the file, and lanes
 * (one load connection each) take the next table from one queue as they
 * finish the last, largest first: the lanes end together, and the index
 * builds left after the last load are those of small tables. The catalog
 * comes first and the objects and manifest last, on their own. An archive
 * whose layout is not the usual one is read in order.
 */
import { roleOf } from '../archive/layout.js';
import type { SkimmedArchive } from '../archive/skim.js';
import type { Span } from '../format/random-access.js';

export interface LanePlan {
  /** The catalog, read before any table. */
  head: Span[];
  /** One span per table, largest first: the lanes' shared queue. */
  tables: Span[];
  /** Objects, manifest and the end of the archive, read after every table. */
  tail: Span[];
}

const TABLE_ROLES = ['schema', 'data', 'summary'];

export function planLanes(archive: SkimmedArchive): LanePlan | null {
  const { entries } = archive;
  if (entries.length === 0 || roleOf(entries[0].path).role !== 'catalog') return null;
  const tables: { table: number; span: Span }[] = [];
  let i = 1;
  for (; i < entries.length; i++) {
    const role = roleOf(entries[i].path);
    if (role.role !== 'schema' && role.role !== 'data' && role.role !== 'summary') break;
    const last = tables[tables.length - 1];
    if (last && last.table === role.table) last.span.end = entries[i].end;
    else if (tables.some((t) => t.table === role.table)) return null; // a table in two places: not a layout this plan knows
    else tables.push({ table: role.table, span: { start: entries[i].start, end: entries[i].end } });
  }
  if (tables.length < 2 || entries.slice(i).some((e) => TABLE_ROLES.includes(roleOf(e.path).role))) return null;
  const size = (s: Span) => s.end - s.start;
  return {
    head: [{ start: entries[0].start, end: entries[0].end }],
    tables: tables.map((t) => t.span).sort((a, b) => size(b) - size(a) || a.start - b.start),
    tail: [{ start: i < entries.length ? entries[i].start : archive.end - 1024, end: archive.end }],
  };
}

/** A shared queue as each lane's own stream of spans: a lane takes the next table when it asks for more bytes. */
export function* takeFrom(queue: Span[]): Generator<Span> {
  for (let next = queue.shift(); next; next = queue.shift()) yield next;
}
