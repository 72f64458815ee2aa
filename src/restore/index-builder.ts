/**
 * Secondary indexes once a table's rows are in, and foreign keys once every
 * table is. Read in order, the run's index connection builds a table's
 * indexes while the next table loads; in lanes, the lane's own connection
 * builds them before taking its next table, so the server never has more
 * heavy work than cores, and no queue of index builds is left when the last
 * rows are in. A resumed restore may find some built before it stopped.
 */
import { quoteId, type Connection } from '../db/connect.js';
import { alterAdding } from './schema.js';
import { failureCode, scrubValues } from './server-faults.js';
import { keys, record } from './progress-table.js';
import { isConnectionLost, type Lane, type RestoreRun } from './run.js';
import { sortIndexed, type TableState } from './table-state.js';
import { disableKeys } from './table-loader.js';

export class IndexBuilder {
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly run: RestoreRun) {}

  /** A table's rows are in: add its secondary indexes (now in lanes, or queued behind the loads). */
  async finishTable(s: TableState | null, lane: Lane): Promise<void> {
    if (!s || s.finished) return;
    s.finished = true;
    if (!s.created || s.skipped) return;
    if (this.run.mapped) return this.build(s, await this.run.laneConn(lane));
    const index = this.run.index!;
    this.queue = this.queue.then(() => this.build(s, index));
    this.queue.catch(() => {});
  }

  /** Waits for the queued builds; a lost connection there ends the pass. */
  drain(): Promise<void> {
    return this.queue;
  }

  private async build(s: TableState, conn: Connection): Promise<void> {
    if (this.run.progress.has(keys.finished(s.index))) return;
    try {
      if (sortIndexed(s)) return await this.enableKeys(s, conn);
      const alter = s.split?.indexes.length ? alterAdding(s.name, s.split.indexes, await existingNames(conn, s.name, 'index')) : null;
      if (alter) await conn.query(alter);
      await record(conn, keys.finished(s.index));
    } catch (err) {
      if (isConnectionLost(err)) throw err;
      s.error = `its indexes could not be rebuilt (${failureCode(err, s.name, this.run.diskFull)})`;
    }
  }

  /**
   * MyISAM and Aria: the non-unique indexes built by sort from the rows in
   * one pass (what `ENABLE KEYS` does with every index that is off). Keys
   * this pass did not turn off (a resume after the rows were in, perhaps
   * after a kill in the middle of a build) are turned off first, so an index
   * an earlier pass may have left half-built is always built again from the
   * rows, never trusted.
   */
  private async enableKeys(s: TableState, conn: Connection): Promise<void> {
    if (!s.keysDisabled) await disableKeys(conn, s);
    await conn.query(`ALTER TABLE ${quoteId(s.name)} ENABLE KEYS`);
    // A build that could not sort (its temporary files did not fit) falls back to the key cache, slowly: the log says so.
    const [warnings] = await conn.query('SHOW WARNINGS');
    const said = (warnings as { Level: string; Code: number; Message: string }[]).map((w) => ({ level: w.Level, code: w.Code, message: scrubValues(w.Message) }));
    if (said.length) this.run.logger.info({ table: s.index, warnings: said }, 'the index build by sort gave warnings');
    await record(conn, keys.finished(s.index));
  }

  /** Every table's foreign keys, once all tables are there. */
  async addForeignKeys(): Promise<void> {
    const conn = this.run.index!;
    for (const s of this.run.tables.values()) {
      if (!s.created || !s.split?.foreignKeys.length || this.run.progress.has(keys.fks(s.index))) continue;
      try {
        const alter = alterAdding(s.name, s.split.foreignKeys, await existingNames(conn, s.name, 'foreign key'));
        if (alter) await conn.query(alter);
        await record(conn, keys.fks(s.index));
      } catch (err) {
        if (isConnectionLost(err)) throw err;
        s.error ??= `its foreign keys could not be added (${failureCode(err, s.name, this.run.diskFull)})`;
      }
    }
  }
}

async function existingNames(conn: Connection, table: string, what: 'index' | 'foreign key'): Promise<Set<string>> {
  const sql = what === 'index'
    ? 'SELECT DISTINCT INDEX_NAME AS n FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?'
    : "SELECT CONSTRAINT_NAME AS n FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND CONSTRAINT_TYPE = 'FOREIGN KEY'";
  const [rows] = await conn.query(sql, [table]);
  return new Set((rows as { n: string }[]).map((r) => r.n));
}
