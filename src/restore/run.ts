/**
 * One pass of a restore: what it has learnt of the backup (catalog,
 * summaries, objects, manifest), the state of every table, the progress
 * record, and the connections it owns. The parts that do the work (the
 * entry walker, the table loader, the index builder) read and change this
 * state through it; nothing else holds any.
 *
 * Connections: `admin` is the person's own account (it inspects the target,
 * creates the database and the temporary restore account); every other
 * connection is the temporary account (isolation.ts), which runs all that
 * comes from the file.
 */
import { connect, isConnectionLost as connectionGone, quoteId, type Connection } from '../db/connect.js';
import { SERVER_STOPPED } from '../db/watchdog.js';
import { describeDsn } from '../db/dsn.js';
import { log } from '../log.js';
import type { Catalog, CatalogTable, Manifest, ObjectDefinition, TableSummary } from '../archive/layout.js';
import type { Segment } from '../format/reader.js';
import type { PayloadReader } from '../format/random-access.js';
import { foreignDatabases } from '../sql/checks.js';
import type { LanePlan } from './lanes.js';
import { openRestoreAccount, type RestoreAccount } from './isolation.js';
import { readTargetNames, ServerNames } from './server-names.js';
import { DiskWatch } from './disk-watch.js';
import { createProgressTable, readProgress, type ProgressState } from './progress-table.js';
import { prepareLoadSession } from './session.js';
import { newTableState, type TableState } from './table-state.js';
import type { RestoreOptions } from './options.js';

/** One reader of the file feeding one load connection. */
export interface Lane {
  conn: Connection | null;
  current: TableState | null;
}

/** The file mapped into table spans, when its layout allows reading tables in lanes. */
export interface MappedFile {
  reader: PayloadReader;
  plan: LanePlan;
  end: number;
}

const CONNECTION_LOST = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ER_SERVER_SHUTDOWN', 'ER_CONNECTION_KILLED', 'ETIMEDOUT', SERVER_STOPPED]);
const codeOf = (err: unknown) => (err as { code?: string } | null)?.code ?? '';

/** A lost connection ends the pass (to be retried by resuming); any other error is the table's. */
export const isConnectionLost = (err: unknown) => connectionGone(err) || CONNECTION_LOST.has(codeOf(err)) || CONNECTION_LOST.has(codeOf((err as { cause?: unknown } | null)?.cause));

export class RestoreRun {
  readonly logger = log('restore');
  readonly database: string;
  readonly where: string;
  readonly lanes: Lane[] = [];
  readonly main: Lane;
  /** Builds indexes behind the loads when the file is read in order, then the foreign keys and objects. */
  index: Connection | null = null;
  account: RestoreAccount | null = null;
  /** Databases a statement from the file may not name. */
  foreign = new Set<string>();
  mapped: MappedFile | null = null;
  /** The names and options this server does not know, mapped or dropped (read with the database). */
  names: ServerNames | null = null;
  /** Notices loads waiting for disk space on the target (MyISAM, Aria) and ends them. */
  diskWatch: DiskWatch | null = null;

  catalog: Catalog | null = null;
  /** The whole table entries of a damaged catalog. */
  salvaged: CatalogTable[] = [];
  manifest: Manifest | null = null;
  progress: ProgressState = new Map();
  readonly objects: ObjectDefinition[] = [];
  readonly summaries = new Map<number, TableSummary>();
  readonly tables = new Map<number, TableState>();
  totalRows = 0;
  bytesRead = 0;
  /** A lane's error stops the other lanes at their next entry. */
  stopped: unknown = null;
  private dbReady = false;
  private readonly include: Set<string> | null;
  private readonly exclude: Set<string>;

  constructor(readonly opts: RestoreOptions, readonly admin: Connection) {
    this.database = opts.dsn.database;
    this.where = describeDsn({ ...opts.dsn, database: '' });
    this.include = opts.tables ? new Set(opts.tables) : null;
    this.exclude = new Set(opts.exclude ?? []);
    this.main = this.newLane();
  }

  newLane(): Lane {
    const lane: Lane = { conn: null, current: null };
    this.lanes.push(lane);
    return lane;
  }

  /** The target database, the restore account, the first two connections and the progress record, once. */
  async ensureDatabase(): Promise<void> {
    if (this.dbReady) return;
    const { admin, database } = this;
    this.names = new ServerNames(await readTargetNames(admin));
    const { charset, collation } = this.names.database(this.catalog?.charset ?? 'utf8mb4', this.catalog?.collation ?? 'utf8mb4_general_ci');
    await admin.query(`CREATE DATABASE IF NOT EXISTS ${quoteId(database)} CHARACTER SET ${quoteId(charset)} COLLATE ${quoteId(collation)}`);
    const [schemata] = await admin.query('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA');
    this.foreign = foreignDatabases((schemata as { name: string }[]).map((r) => r.name), database, this.opts.opened.located.header.database);
    this.account = await openRestoreAccount(admin, this.opts.dsn, database);
    this.diskWatch = new DiskWatch(admin, this.account.dsn.user, database);
    this.diskWatch.start();
    this.main.conn = await this.loadConnection();
    this.index = await this.loadConnection();
    await createProgressTable(this.main.conn, this.opts.opened.located.header.fileId);
    this.progress = (await readProgress(this.main.conn)) ?? new Map();
    this.dbReady = true;
  }

  private async loadConnection(): Promise<Connection> {
    const conn = await connect(this.account!.dsn);
    await prepareLoadSession(conn);
    return conn;
  }

  async laneConn(lane: Lane): Promise<Connection> {
    await this.ensureDatabase();
    lane.conn ??= await this.loadConnection();
    return lane.conn;
  }

  stateFor(index: number, name: string | null): TableState {
    let s = this.tables.get(index);
    if (!s) {
      const table = (this.catalog?.tables ?? this.salvaged).find((t) => t.index === index) ?? null;
      const tableName = table?.name ?? name ?? `table #${index}`;
      s = newTableState(index, tableName, table, (this.include !== null && !this.include.has(tableName)) || this.exclude.has(tableName));
      this.tables.set(index, s);
    }
    return s;
  }

  reportProgress(table: string): void {
    let done = 0;
    for (const t of this.tables.values()) if (t.finished) done++;
    this.opts.onProgress?.({ table, tablesDone: done, tables: this.catalog?.tables.length ?? this.tables.size, rows: this.totalRows, bytes: this.bytesRead, totalBytes: this.opts.opened.located.fileBytes });
  }

  /** Counts plaintext bytes as they pass, for the progress bar. */
  async *counted(segments: AsyncIterable<Segment>): AsyncGenerator<Segment> {
    for await (const s of segments) {
      this.bytesRead += s.data ? s.data.length : s.hole;
      yield s;
    }
  }

  /** Connections first, then the temporary account, then the person's own connection. */
  /** A statement of this restore waited for disk space on the target: nothing more is loaded this pass. */
  get diskFull(): boolean {
    return this.diskWatch?.full ?? false;
  }

  async close(): Promise<void> {
    this.diskWatch?.stop();
    await this.mapped?.reader.close().catch(() => {});
    await Promise.all([this.index, ...this.lanes.map((l) => l.conn)].map((c) => c?.end().catch(() => c.destroy())));
    await this.account?.close().catch((err: unknown) => this.logger.warn({ code: codeOf(err) }, 'the temporary restore account could not be dropped'));
    await this.admin.end().catch(() => this.admin.destroy());
  }
}
