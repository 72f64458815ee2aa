/**
 * When a restore stops early (Ctrl-C, a lost server), restoreBackup has no
 * report to give. This one is built from what is certain: the backup's
 * catalog (the first entry of the file, cheap to read), the target's own
 * row counts and its progress table, where a table is recorded as finished
 * once all its rows are in and its secondary indexes built. Two tables load
 * at once, so any table not recorded may be short of rows. The progress
 * table stays, marking the database incomplete until a resume finishes it.
 */
import { connect, quoteId } from '../db/connect.js';
import type { Dsn } from '../db/dsn.js';
import { readTar, readWhole } from '../archive/tar-reader.js';
import { roleOf, type Catalog } from '../archive/layout.js';
import { payloadOf, type OpenedBackup } from '../decrypt/open.js';
import { whoOpens } from '../format/header.js';
import type { CheckResult } from '../identify/check.js';
import { keys, PROGRESS_TABLE } from '../restore/progress-table.js';
import { rowTotals, type RestoreReport, type TableOutcome } from '../restore/report.js';
import { selectOne, selectRows } from '../db/query.js';

export async function readCatalog(opened: OpenedBackup): Promise<Catalog | null> {
  const { segments } = payloadOf(opened);
  for await (const { entry, body } of readTar(segments)) {
    if (roleOf(entry.path).role !== 'catalog') return null;
    const buf = await readWhole(body, entry.size);
    return buf ? (JSON.parse(buf.toString('utf8')) as Catalog) : null;
  }
  return null;
}

export interface StoppedAt {
  started: number;
}

export async function interruptedReport(opened: OpenedBackup, dsn: Dsn, check: CheckResult, where: string, at: StoppedAt): Promise<RestoreReport & { backupTables: number | null }> {
  const catalog = await readCatalog(opened).catch(() => null);
  // Named in each query rather than connected to: a restore stopped very early may not have created it yet.
  const conn = await connect({ ...dsn, database: '' }, { noDatabase: true });
  const db = quoteId(dsn.database);
  const present = new Map<string, number>();
  const recorded = new Set<string>();
  try {
    const items = await selectRows<{ item: string }>(conn, `SELECT item FROM ${db}.${PROGRESS_TABLE}`).catch(() => [] as { item: string }[]); // no progress table: nothing recorded
    for (const { item } of items) recorded.add(item);
    const rows = await selectRows<{ t: string }>(conn, 'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME <> ?', [dsn.database, PROGRESS_TABLE]);
    for (const { t } of rows) {
      const c = (await selectOne<{ n: string | number }>(conn, `SELECT COUNT(*) AS n FROM ${db}.${quoteId(t)}`))!;
      present.set(t, Number(c.n));
    }
  } finally {
    await conn.end().catch(() => conn.destroy());
  }

  const order: { name: string; index: number; rowsEstimate?: number }[] = catalog?.tables ?? [...present.keys()].map((name, index) => ({ name, index }));
  // Exact counts are in each table's summary, further on in the file: the catalog's estimate stands in.
  const estimate = (t: { rowsEstimate?: number }) => (t.rowsEstimate === undefined ? {} : { rowsEstimate: t.rowsEstimate });
  const tables: TableOutcome[] = order.map((t) => {
    const restored = present.get(t.name);
    if (restored === undefined) return { name: t.name, status: 'missing', rowsExpected: null, rowsRestored: 0, rowsLost: null, ...estimate(t) };
    if (recorded.has(keys.finished(t.index))) return { name: t.name, status: 'restored', rowsExpected: restored, rowsRestored: restored, rowsLost: 0 };
    return { name: t.name, status: 'partial', rowsExpected: null, rowsRestored: restored, rowsLost: null, error: 'the restore stopped before this table was finished', ...estimate(t) };
  });
  const h = opened.located.header;
  return {
    outcome: 'partial',
    interrupted: true,
    database: dsn.database,
    target: where,
    backup: { file: opened.located.path, createdAt: h.createdAt, admin: { ...whoOpens(h) }, moment: h.moment ?? null },
    tables,
    rows: rowTotals(tables),
    objects: { views: { expected: 0, restored: 0 }, triggers: { expected: 0, restored: 0 }, routines: { expected: 0, restored: 0 }, events: { expected: 0, restored: 0 } },
    objectErrors: [],
    definersReplaced: [],
    collationsMapped: [],
    eventsDisabled: [],
    damage: { chunks: check.chunks, damagedChunks: check.damagedChunks, bytesLost: 0, truncated: check.truncated, headerCopyUsed: check.headerCopyUsed, damagedRanges: check.damagedRanges },
    durationMs: Date.now() - at.started,
    startedAt: new Date(at.started).toISOString(),
    commands: { resume: '', validate: '' },
    backupTables: catalog?.tables.length ?? null,
  };
}
