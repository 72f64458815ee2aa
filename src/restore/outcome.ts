/** Turns what the restore saw into the report: one outcome per table, from the server's own counts. */
import type { Catalog, Manifest, ObjectDefinition, TableSummary } from '../archive/layout.js';
import type { DamageReport } from '../format/reader.js';
import { whoOpens } from '../format/header.js';
import type { OpenedBackup } from '../decrypt/open.js';
import type { ObjectOutcome } from './objects.js';
import type { ObjectsRunAs } from './definers.js';
import type { TableState } from './table-state.js';
import { rowTotals, type RestoreReport, type TableOutcome } from './report.js';
import { quoteId } from '../db/connect.js';
import { plainTableError } from './server-faults.js';
import type { EngineNote } from './server-notes.js';
import type { ServerNames } from './server-names.js';

export type { RestoreReport } from './report.js';

export interface OutcomeInput {
  opened: OpenedBackup;
  database: string;
  where: string;
  catalog: Catalog | null;
  manifest: Manifest | null;
  summaries: Map<number, TableSummary>;
  tables: Map<number, TableState>;
  objects: ObjectDefinition[];
  /** Who the restored objects run as, and why (null: no objects were created). */
  objectsRunAs?: ObjectsRunAs | null;
  objectOutcomes: ObjectOutcome[];
  damage: DamageReport;
  started: number;
  subset: boolean;
  engineNote?: EngineNote | null;
  /** What was mapped or dropped for this server (null: the database was never reached). */
  names?: ServerNames | null;
}

function tableOutcome(s: TableState | undefined, name: string, expected: number | null): TableOutcome {
  if (!s || (!s.seen && !s.skipped)) return { name, status: 'missing', rowsExpected: expected, rowsRestored: 0, rowsLost: expected };
  if (s.skipped) return { name, status: 'skipped', rowsExpected: expected, rowsRestored: 0, rowsLost: null };
  const rowsLost = expected === null ? null : Math.max(0, expected - s.restored);
  const out: TableOutcome = { name, status: 'restored', rowsExpected: expected, rowsRestored: s.restored, rowsLost };
  if (s.error) out.error = plainTableError(s.error);
  const ranges = s.tracker?.ranges ?? [];
  // A table with no rows back lost its whole key range: no "after N" that would suggest keys up to N are safe.
  if (ranges.length > 0 && (rowsLost ?? 1) > 0 && s.restored > 0) out.lostKeyRanges = ranges;
  if (!s.created) out.status = s.restored === 0 && (expected ?? 1) > 0 ? 'failed' : 'partial';
  // A table whose every row was lost (to damage or to an error) did not come back at all.
  else if (expected === null || rowsLost! > 0 || s.error) out.status = s.restored === 0 && (expected ?? 1) > 0 && (s.error || (expected !== null && rowsLost === expected)) ? 'failed' : 'partial';
  return out;
}

/** The one statement a person runs to let the restored events run on their schedule again. */
function enableEventsSql(database: string, events: string[]): string | undefined {
  if (events.length === 0) return undefined;
  return events.map((e) => `ALTER EVENT ${quoteId(database)}.${quoteId(e)} ENABLE;`).join(' ');
}

/** Where the exact row count was lost, the catalog's estimate is given beside it (marked as one). */
function withEstimate(t: TableOutcome, estimate: number | undefined): TableOutcome {
  return t.rowsExpected === null && estimate !== undefined ? { ...t, rowsEstimate: estimate } : t;
}
/**
 * Whether a resume could finish what this pass did not: some table failed on
 * the server's side (its definition or rows refused, its indexes not built),
 * not for damage in the file, which no second pass can undo.
 */
export function serverLeftWork(tables: Map<number, TableState>): boolean {
  return [...tables.values()].some((s) => !s.skipped && s.error !== undefined && !DAMAGED_DEFINITION.test(s.error));
}
/** Problems a second pass cannot fix: damage in the file, and statements the checks refused. */
const DAMAGED_DEFINITION = /damaged part of the backup|was refused/;

export function buildReport(i: OutcomeInput): RestoreReport {
  const h = i.opened.located.header;
  const expectedOf = (index: number, name: string): number | null => i.summaries.get(index)?.rows ?? i.manifest?.tables.find((t) => t.index === index || t.name === name)?.rows ?? null;

  const names = new Map<number, string>();
  for (const t of i.catalog?.tables ?? []) names.set(t.index, t.name);
  for (const t of i.manifest?.tables ?? []) names.set(t.index, t.name);
  for (const s of i.tables.values()) if (!names.has(s.index)) names.set(s.index, s.name);
  const estimates = new Map((i.catalog?.tables ?? []).map((t) => [t.index, t.rowsEstimate]));
  const tables = [...names.entries()].sort((a, b) => a[0] - b[0]).map(([index, name]) => withEstimate(tableOutcome(i.tables.get(index), name, expectedOf(index, name)), estimates.get(index)));

  const expectedObjects = i.manifest?.objects ?? i.catalog?.objects ?? i.objects;
  const count = (kind: string, list: { kind: string }[]) => list.filter((o) => o.kind === kind).length;
  const restoredObjects = i.objectOutcomes.filter((o) => o.restored);
  const objects = {
    views: { expected: count('view', expectedObjects), restored: count('view', restoredObjects) },
    triggers: { expected: count('trigger', expectedObjects), restored: count('trigger', restoredObjects) },
    routines: { expected: count('routine', expectedObjects), restored: count('routine', restoredObjects) },
    events: { expected: count('event', expectedObjects), restored: count('event', restoredObjects) },
  };
  const objectErrors = i.objectOutcomes.filter((o) => !o.restored).map((o) => ({ kind: o.kind, name: o.name, error: o.error ?? 'error' }));
  // An object whose definition was lost was never attempted: name it too, so the office knows what to re-create.
  if (!i.subset) {
    for (const o of expectedObjects) {
      if (!i.objectOutcomes.some((x) => x.kind === o.kind && x.name === o.name)) objectErrors.push({ kind: o.kind, name: o.name, error: 'its definition was in a damaged part of the backup' });
    }
  }

  const considered = tables.filter((t) => t.status !== 'skipped');
  const allRestored = considered.every((t) => t.status === 'restored');
  const objectsWhole = i.subset || Object.values(objects).every((o) => o.restored === o.expected);
  const damaged = i.damage.damagedChunks > 0 || i.damage.truncated;
  const nothing = considered.length > 0 && considered.every((t) => t.rowsRestored === 0 && (t.rowsExpected ?? 1) > 0);
  const outcome: RestoreReport['outcome'] = allRestored && objectsWhole && !damaged ? 'complete' : nothing ? 'failed' : 'partial';

  const eventsDisabled = i.objectOutcomes.filter((o) => o.kind === 'event' && o.restored).map((o) => o.name);
  return {
    outcome,
    ...(outcome !== 'complete' && serverLeftWork(i.tables) ? { resumable: true } : {}),
    database: i.database,
    target: i.where,
    backup: { file: i.opened.located.path, createdAt: h.createdAt, admin: { ...whoOpens(h) }, moment: h.moment ?? null },
    tables,
    objects,
    objectErrors,
    definersReplaced: i.objectOutcomes.filter((o) => o.restored && o.definerReplaced).map((o) => ({ kind: o.kind, name: o.name, definer: o.definerReplaced! })),
    eventsDisabled,
    ...(i.objectsRunAs && restoredObjects.length ? { objectsRunAs: i.objectsRunAs } : {}),
    damage: damageOf(i),
    rows: rowTotals(tables),
    ...(i.engineNote ? { engineNote: i.engineNote } : {}),
    collationsMapped: i.names?.mapped ?? [],
    ...(i.names?.dropped.length ? { optionsDropped: i.names.dropped } : {}),
    serverNotes: [...(i.engineNote ? [i.engineNote.line] : []), ...(i.names?.lines() ?? [])],
    durationMs: Date.now() - i.started,
    startedAt: new Date(i.started).toISOString(),
    commands: { resume: '', validate: '', enableEvents: enableEventsSql(i.database, eventsDisabled) },
  };
}

function damageOf(i: OutcomeInput): RestoreReport['damage'] {
  const d = i.damage;
  return { chunks: d.chunks, damagedChunks: d.damagedChunks, bytesLost: d.bytesLost, truncated: d.truncated, headerCopyUsed: d.headerCopyUsed, damagedRanges: d.damagedRanges };
}
