/**
 * Two tables at once. The server loads one table per connection on one CPU
 * core, so a restore that feeds a single connection leaves the other core to
 * index builds and waiting. When the archive's layout can be read from its
 * headers (skimArchive), the tables are split into lanes of about equal size,
 * each read straight from its place in the file and loaded over its own
 * connection. The catalog comes first and the objects and manifest last, on
 * their own. An archive whose layout is not the usual one is read in order.
 */
import { roleOf } from '../archive/layout.js';
import type { SkimmedArchive } from '../archive/skim.js';
import type { Span } from '../format/random-access.js';

export interface LanePlan {
  /** The catalog, read before any table. */
  head: Span[];
  /** Each lane's tables, in file order. */
  lanes: Span[][];
  /** Objects, manifest and the end of the archive, read after every table. */
  tail: Span[];
}

export function planLanes(archive: SkimmedArchive, laneCount: number): LanePlan | null {
  const { entries } = archive;
  if (laneCount < 2 || entries.length === 0 || roleOf(entries[0].path).role !== 'catalog') return null;
  const tables: { table: number; span: Span }[] = [];
  let i = 1;
  for (; i < entries.length; i++) {
    const role = roleOf(entries[i].path);
    if (role.role !== 'schema' && role.role !== 'data' && role.role !== 'summary') break;
    const last = tables[tables.length - 1];
    if (last && last.table === role.table) last.span.end = entries[i].end;
    else if (last && tables.some((t) => t.table === role.table)) return null; // a table in two places: not a layout this plan knows
    else tables.push({ table: role.table, span: { start: entries[i].start, end: entries[i].end } });
  }
  if (tables.length < 2) return null;
  if (entries.slice(i).some((e) => ['schema', 'data', 'summary'].includes(roleOf(e.path).role))) return null;
  const tail: Span = { start: i < entries.length ? entries[i].start : archive.end - 1024, end: archive.end };

  // Largest first onto the lightest lane, then each lane in file order.
  const lanes = Array.from({ length: laneCount }, () => ({ bytes: 0, spans: [] as Span[] }));
  for (const { span } of [...tables].sort((a, b) => b.span.end - b.span.start - (a.span.end - a.span.start))) {
    const lane = lanes.reduce((min, l) => (l.bytes < min.bytes ? l : min));
    lane.spans.push(span);
    lane.bytes += span.end - span.start;
  }
  return {
    head: [{ start: entries[0].start, end: entries[0].end }],
    lanes: lanes.map((l) => l.spans.sort((a, b) => a.start - b.start)),
    tail: [tail],
  };
}
