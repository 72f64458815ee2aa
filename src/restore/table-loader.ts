/**
 * A table into the target: created from its checked CREATE statement (the
 * secondary indexes and foreign keys split off for later), then its data
 * pieces loaded one by one. Each piece of a transactional table is loaded
 * in one transaction with its progress record, so a piece is either wholly
 * restored and recorded or neither; rows touching a hole are dropped by
 * cleanRows, and every gap in row numbers marks the table damaged.
 */
import { quoteId } from '../db/connect.js';
import type { BodyPiece } from '../archive/tar-reader.js';
import { checkCreateTable } from '../sql/create-table.js';
import { cleanRows, LossTracker } from './clean-rows.js';
import { columnsFromServer } from './columns.js';
import { failureCode } from './server-faults.js';
import { loadRows } from './load-data.js';
import { forgetPieces, isProgressTableName, keys, PROGRESS_NAME_REFUSED, record } from './progress-table.js';
import type { Connection } from '../db/connect.js';
import { selectRows } from '../db/query.js';
import { isConnectionLost, type Lane, type RestoreRun } from './run.js';
import { sortIndexed, type TableState } from './table-state.js';

const codeOf = (err: unknown) => (err as { code?: string }).code ?? 'error';

/** Creates the table (unless the progress record says it exists), and readies its loss tracker. */
export async function createTable(run: RestoreRun, s: TableState, create: string | null, lane: Lane): Promise<void> {
  if (s.created || s.skipped || s.error) return;
  if (isProgressTableName(s.name)) {
    s.error = PROGRESS_NAME_REFUSED;
    run.logger.warn({ table: s.index }, 'table refused: it has the name of the restore\'s progress table');
    return;
  }
  const conn = await run.laneConn(lane);
  const file = create ?? s.table?.create ?? null;
  // Names and options this server does not know are mapped or dropped first; the checks read what will run.
  const sql = file === null ? null : run.names!.table(s.name, file);
  if (run.progress.has(keys.created(s.index))) {
    s.created = true;
    const checked = checkCreateTable(sql ?? '', s.name, run.foreign);
    s.split = checked.ok ? checked.value : { create: '', indexes: [], foreignKeys: [] };
    s.keysUntrusted = !run.progress.has(keys.finished(s.index));
    await undoCutPiece(run, s, conn);
  } else {
    if (!sql) {
      s.error = 'its definition was in a damaged part of the backup';
      return;
    }
    const checked = checkCreateTable(sql, s.name, run.foreign);
    if (!checked.ok) {
      s.error = `was not created: its definition was refused (${checked.reason})`;
      run.logger.warn({ table: s.index, reason: checked.reason }, 'table definition refused');
      return;
    }
    s.split = checked.value;
    if (run.diskFull) {
      s.error = 'could not be created (ENOSPC)';
      return;
    }
    try {
      await conn.query(`DROP TABLE IF EXISTS ${quoteId(s.name)}`);
      await conn.query(s.split.create);
      await record(conn, keys.created(s.index));
      s.created = true;
    } catch (err) {
      if (isConnectionLost(err)) throw err;
      s.error = `could not be created (${failureCode(err, s.name, run.diskFull)})`;
      return;
    }
  }
  s.table ??= await columnsFromServer(conn, s.index, s.name);
  const t = s.table;
  const positions = t.primaryKey.map((k) => t.columns.findIndex((c) => c.name === k)).filter((p) => p >= 0);
  s.tracker = new LossTracker(t.primaryKey, positions.length === t.primaryKey.length ? positions : []);
}

/**
 * A non-transactional table (MyISAM, Aria, MEMORY...) keeps the rows of a
 * piece whose load was cut: reloading only that piece would duplicate them
 * (or, with keys, turn them into warnings). Such a table is emptied and all
 * its pieces load again; a transactional one never needs this.
 */
async function undoCutPiece(run: RestoreRun, s: TableState, conn: Connection): Promise<void> {
  const cut = run.progress.get(keys.loading(s.index));
  if (!cut || run.progress.has(keys.piece(s.index, cut.value))) return;
  run.logger.info({ table: s.index, piece: cut.value }, 'a non-transactional table was cut mid-piece: loading it again from its start');
  await conn.query(`TRUNCATE TABLE ${quoteId(s.name)}`);
  s.keysUntrusted = false; // made anew, empty
  await forgetPieces(conn, run.progress, s.index);
}

/**
 * MyISAM and Aria keep a table's non-unique indexes off while its rows go in
 * (only the first statement into an empty table would defer them by itself:
 * every later piece updated them row by row through the key cache), and
 * IndexBuilder builds them by sort in one pass once the rows are in.
 * A TRUNCATE (a cut piece undone) turns them on again, so this is asked for
 * once per pass, before the first piece this pass loads.
 */
export async function disableKeys(conn: Connection, s: TableState): Promise<void> {
  if (s.keysUntrusted) await repairKeys(conn, s);
  await conn.query(`ALTER TABLE ${quoteId(s.name)} DISABLE KEYS`);
  s.keysDisabled = true;
}

/**
 * A table an earlier pass left unfinished may hold a half-built index (a
 * build stopped on the server is marked crashed; one cut by a server crash
 * may be anything): its index file is made again from its rows (REPAIR ...
 * QUICK leaves the data file alone) before anything else touches it.
 */
async function repairKeys(conn: Connection, s: TableState): Promise<void> {
  const said = await selectRows<{ Msg_type: string; Msg_text: string }>(conn, `REPAIR TABLE ${quoteId(s.name)} QUICK`);
  const last = said[said.length - 1];
  if (!last || last.Msg_type !== 'status' || last.Msg_text !== 'OK') {
    throw Object.assign(new Error('the table could not be repaired'), { code: 'ER_NOT_KEYFILE', sqlMessage: said.map((r) => `${r.Msg_type}: ${r.Msg_text}`).join('; ') });
  }
  s.keysUntrusted = false;
}

/** One data piece into its table. `rows` and `firstRow` are NaN for an orphan (its header was lost). */
export async function loadPiece(run: RestoreRun, s: TableState, piece: number, body: AsyncIterable<BodyPiece>, rows: number, firstRow: number, lane: Lane): Promise<void> {
  await createTable(run, s, null, lane);
  if (firstRow !== s.nextFirstRow) {
    s.damaged = true;
    s.tracker?.damage();
  }
  if (Number.isFinite(firstRow) && Number.isFinite(rows)) s.nextFirstRow = firstRow + rows;
  if (s.skipped || !s.created || !s.tracker) return;
  const done = run.progress.get(keys.piece(s.index, piece));
  if (done) {
    s.restored += done.value;
    run.totalRows += done.value;
    return;
  }
  if (run.diskFull) {
    // The target's disk is full: no more rows are tried (each would wait for space); resume loads them.
    s.damaged = true;
    s.error = 'rows could not be loaded (ENOSPC)';
    return;
  }
  const load = lane.conn!;
  const counts = { droppedBytes: 0 };
  const transactional = (s.table?.engine ?? 'InnoDB').toLowerCase() === 'innodb';
  const mark = s.tracker.mark();
  try {
    if (transactional) await load.query('START TRANSACTION');
    else await record(load, keys.loading(s.index), piece);
    if (sortIndexed(s) && !s.keysDisabled) await disableKeys(load, s);
    const r = await loadRows(load, s.table!, cleanRows(body, s.tracker, counts));
    await record(load, keys.piece(s.index, piece), r.affectedRows);
    if (transactional) await load.query('COMMIT');
    s.restored += r.affectedRows;
    run.totalRows += r.affectedRows;
    if (counts.droppedBytes > 0) s.damaged = true;
    if (Number.isFinite(rows) && r.affectedRows !== rows) {
      s.damaged = true;
      if (counts.droppedBytes === 0) s.tracker.damage();
    }
  } catch (err) {
    if (isConnectionLost(err)) throw err;
    if (transactional) await load.query('ROLLBACK').catch(() => {});
    s.damaged = true;
    s.tracker.failed(mark); // the piece's rows are not there
    s.error = `rows could not be loaded (${failureCode(err, s.name, run.diskFull)})`;
    run.logger.warn({ table: s.index, piece, code: codeOf(err) }, 'piece failed to load');
  }
  run.reportProgress(s.name);
}
