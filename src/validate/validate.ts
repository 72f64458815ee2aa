/**
 * Proves a restored database matches its backup: for every table the backup
 * summarised, the row count and the content checksum, recomputed from the
 * restored rows by the same code that computed them at backup time (same
 * SELECT, same encoding, same hash); and every schema object by name.
 * The backup is read once, skipping row data: only catalog, summaries,
 * objects and manifest are kept; after a restore, what the restore parsed is
 * used instead (validateAgainst) and the file is not read again.
 */
import { connect, type Connection } from '../db/connect.js';
import type { Dsn } from '../db/dsn.js';
import { readTar, readWhole } from '../archive/tar-reader.js';
import { roleOf, type CatalogTable, type ObjectKind, type TableSummary } from '../archive/layout.js';
import { TableHasher } from '../archive/checksum.js';
import { encodedRowPieces } from '../db/rows.js';
import { payloadOf, type OpenedBackup } from '../decrypt/open.js';
import type { DamageReport } from '../format/reader.js';
import { columnsFromServer } from '../restore/columns.js';
import type { ParsedBackup } from '../restore/options.js';
import { selectRows } from '../db/query.js';
import { readTargetNames, ServerNames, type CollationMapping } from '../restore/server-names.js';
import { lexModeOf } from '../sql/tokenize.js';

export interface TableValidation {
  name: string;
  status: 'match' | 'differs' | 'missing' | 'unknown';
  rowsExpected: number | null;
  rowsFound: number | null;
  checksumMatch: boolean | null;
  detail?: string;
}

export interface ValidationReport {
  match: boolean;
  database: string;
  tables: TableValidation[];
  objects: { kind: ObjectKind; name: string; present: boolean }[];
  differences: string[];
  /** The backup's collation names this server does not know, and the nearest it has, as the restore mapped them (docs/collations.md). */
  collationsMapped: CollationMapping[];
  damage: Pick<DamageReport, 'damagedChunks' | 'truncated'>;
  durationMs: number;
}

/** What a validation needs of the backup: the restore's ParsedBackup, or describeBackup's read of the file. */
export type BackupDescription = ParsedBackup;

/** Reads everything but the rows. */
export async function describeBackup(opened: OpenedBackup): Promise<BackupDescription> {
  const { segments, damage } = payloadOf(opened);
  const out: BackupDescription = { catalog: null, summaries: [], objects: [], manifest: null, damage };
  for await (const { entry, body } of readTar(segments)) {
    const role = roleOf(entry.path);
    if (role.role === 'data' || role.role === 'schema' || role.role === 'unknown') continue;
    const buf = await readWhole(body, entry.size);
    if (!buf) continue;
    const value = JSON.parse(buf.toString('utf8'));
    if (role.role === 'catalog') out.catalog = value;
    else if (role.role === 'summary') out.summaries.push(value);
    else if (role.role === 'object') out.objects.push(value);
    else if (role.role === 'manifest') out.manifest = value;
  }
  return out;
}

export async function checksumTable(conn: Connection, table: CatalogTable, algorithm: TableSummary['checksum']['algorithm']): Promise<{ rows: number; checksum: string }> {
  const hasher = new TableHasher(algorithm);
  let rows = 0;
  for await (const p of encodedRowPieces(conn, table, { pieceBytes: 4 << 20 })) {
    hasher.update(p.bytes);
    rows += p.rows;
  }
  return { rows, checksum: hasher.digest().value };
}

export interface ValidateOptions {
  onTable?: (name: string, done: number, total: number) => void;
  /**
   * The backup itself, to compare the rows of a table whose key's collation
   * was mapped regardless of their order (the server sorts the key its own
   * way): without it such a table that differs only in order is reported
   * as differing.
   */
  file?: OpenedBackup;
}

/** Reads the backup (everything but the rows), then checks the restored database against it. */
export async function validateRestore(opened: OpenedBackup, dsn: Dsn, opts: ValidateOptions = {}): Promise<ValidationReport> {
  const started = Date.now();
  return validateAgainst(await describeBackup(opened), dsn, { file: opened, ...opts }, started);
}

/**
 * Checks the restored database against what is already known of the backup
 * (the restore's ParsedBackup), without reading the file again.
 */
export async function validateAgainst(backup: BackupDescription, dsn: Dsn, opts: ValidateOptions = {}, started = Date.now()): Promise<ValidationReport> {
  const summaries = new Map<string, TableSummary>();
  for (const s of backup.manifest?.tables ?? []) summaries.set(s.name, s);
  for (const s of backup.summaries) summaries.set(s.name, s);
  const names = new Set<string>([...(backup.catalog?.tables.map((t) => t.name) ?? []), ...summaries.keys()]);

  const conn = await connect(dsn);
  const differences: string[] = [];
  const tables: TableValidation[] = [];
  try {
    await conn.query("SET SESSION time_zone = '+00:00'");
    const mapped = namesMapped(backup, new ServerNames(await readTargetNames(conn)));
    const present = await selectRows<{ t: string }>(conn, "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'");
    const existing = new Set(present.map((r) => r.t));
    let done = 0;
    for (const name of names) {
      opts.onTable?.(name, done++, names.size);
      const summary = summaries.get(name) ?? null;
      const expected = summary?.rows ?? null;
      if (!existing.has(name)) {
        tables.push({ name, status: 'missing', rowsExpected: expected, rowsFound: null, checksumMatch: null });
        differences.push(`${name}: the table is missing`);
        continue;
      }
      const table = backup.catalog?.tables.find((t) => t.name === name) ?? (await columnsFromServer(conn, 0, name));
      if (!summary) {
        // Past a cut the summary is not damaged but absent: say which, so nobody looks for damage that is not there.
        const where = backup.damage.truncated && backup.damage.damagedChunks === 0 ? 'was in the missing end of the file' : backup.damage.truncated ? 'was lost (in a damaged part or the missing end of the file)' : 'was lost to damage';
        tables.push({ name, status: 'unknown', rowsExpected: null, rowsFound: null, checksumMatch: null, detail: `the backup's summary of this table ${where}` });
        differences.push(`${name}: cannot be checked (the backup's summary of it ${where})`);
        continue;
      }
      try {
        const got = await checksumTable(conn, table, summary.checksum.algorithm);
        const checksumMatch = got.checksum === summary.checksum.value;
        const ok = checksumMatch && got.rows === summary.rows;
        tables.push({ name, status: ok ? 'match' : 'differs', rowsExpected: summary.rows, rowsFound: got.rows, checksumMatch });
        if (!ok) differences.push(got.rows !== summary.rows ? `${name}: ${got.rows} rows, the backup has ${summary.rows}` : `${name}: same row count, but the content differs`);
      } catch (err) {
        tables.push({ name, status: 'differs', rowsExpected: summary.rows, rowsFound: null, checksumMatch: false, detail: (err as { code?: string }).code });
        differences.push(`${name}: could not be read (${(err as { code?: string }).code ?? 'error'})`);
      }
    }
    await compareOrderFree(conn, backup, opts.file, reordered(backup, tables, mapped), tables, differences);
    const objects = await presentObjects(conn, backup.objects.length ? backup.objects : (backup.manifest?.objects ?? []));
    for (const o of objects) if (!o.present) differences.push(`${o.kind} ${o.name} is missing`);
    if (backup.damage.truncated || backup.damage.damagedChunks > 0) differences.push('the backup file itself is damaged, so some tables may not be checkable');
    return { match: differences.length === 0, database: dsn.database, tables, objects, differences, collationsMapped: mapped, damage: { damagedChunks: backup.damage.damagedChunks, truncated: backup.damage.truncated }, durationMs: Date.now() - started };
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

/** The names this server does not know, mapped as the restore maps them: the same table, the same target list. */
function namesMapped(backup: BackupDescription, names: ServerNames): CollationMapping[] {
  const c = backup.catalog;
  if (c) names.database(c.charset, c.collation);
  for (const t of c?.tables ?? []) if (t.create) names.table(t.name, t.create);
  for (const o of backup.objects) names.object(names.session(o), lexModeOf(o.sqlMode));
  return names.mapped;
}

const STRING_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set']);

/**
 * Tables that differ only where the server orders a text key its own way: a
 * collation of the table was mapped and its primary key holds text, so the
 * rows (hashed in key order at backup time) come back in another order.
 */
function reordered(backup: BackupDescription, tables: TableValidation[], mapped: CollationMapping[]): CatalogTable[] {
  const touched = new Set(mapped.flatMap((m) => m.in));
  return (backup.catalog?.tables ?? []).filter((t) => {
    const v = tables.find((x) => x.name === t.name);
    const textKey = t.primaryKey.some((k) => STRING_TYPES.has(t.columns.find((c) => c.name === k)?.dataType ?? ''));
    return v?.status === 'differs' && v.checksumMatch === false && v.rowsFound === v.rowsExpected && textKey && touched.has(`table ${t.name}`);
  });
}

/** Those tables' rows compared whatever their order: a sum of per-row hashes over the file's rows and over the server's. */
async function compareOrderFree(conn: Connection, backup: BackupDescription, file: OpenedBackup | undefined, candidates: CatalogTable[], tables: TableValidation[], differences: string[]): Promise<void> {
  if (candidates.length === 0) return;
  const detail = 'its key\'s collation was mapped, so this server orders its rows another way';
  if (!file || backup.damage.damagedChunks > 0 || backup.damage.truncated) {
    for (const t of candidates) tables.find((v) => v.name === t.name)!.detail = `${detail}: compared in order only`;
    return;
  }
  const fromFile = await fileRowSums(file, new Set(candidates.map((t) => t.index)));
  for (const t of candidates) {
    const got = await checksumTable(conn, t, 'sha256-rowsum');
    if (got.checksum !== fromFile.get(t.index)) continue;
    Object.assign(tables.find((v) => v.name === t.name)!, { status: 'match', checksumMatch: true, detail: `${detail}: every row is identical (compared regardless of order)` });
    differences.splice(differences.indexOf(`${t.name}: same row count, but the content differs`), 1);
  }
}

/** The order-free checksum of each named table's rows as the file holds them. */
async function fileRowSums(opened: OpenedBackup, indexes: Set<number>): Promise<Map<number, string>> {
  const hashers = new Map([...indexes].map((i) => [i, new TableHasher('sha256-rowsum')]));
  for await (const { entry, body } of readTar(payloadOf(opened).segments)) {
    const role = roleOf(entry.path);
    if (role.role !== 'data' || !hashers.has(role.table)) continue;
    const rows = await readWhole(body, entry.size, 256 << 20);
    if (rows) hashers.get(role.table)!.update(rows);
  }
  return new Map([...hashers].map(([i, h]) => [i, h.digest().value]));
}

async function presentObjects(conn: Connection, expected: { kind: ObjectKind; name: string }[]): Promise<{ kind: ObjectKind; name: string; present: boolean }[]> {
  const q = async (sql: string) => new Set((await selectRows<{ n: string }>(conn, sql)).map((r) => r.n));
  const have: Record<ObjectKind, Set<string>> = {
    view: await q('SELECT TABLE_NAME AS n FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()'),
    routine: await q('SELECT ROUTINE_NAME AS n FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()'),
    trigger: await q('SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()'),
    event: await q('SELECT EVENT_NAME AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()'),
  };
  return expected.map((o) => ({ kind: o.kind, name: o.name, present: have[o.kind].has(o.name) }));
}
