import type { Connection } from '../db/connect.js';
import { log } from '../log.js';

/**
 * Session settings for loading, never global ones: TIMESTAMPs travel in UTC,
 * zero dates and AUTO_INCREMENT zeros load as they were, checks that the
 * source database already passed are not repeated, tables keep their files in
 * the server's data folder, and the load is kept out of the binary log where
 * the account may do that.
 */
export async function prepareLoadSession(conn: Connection): Promise<{ binlogOff: boolean }> {
  await conn.query("SET SESSION time_zone = '+00:00'");
  // NO_DIR_IN_CREATE: the server ignores DATA/INDEX DIRECTORY, which MariaDB
  // would otherwise honour for any account that may create a table (no FILE
  // privilege needed): the second wall behind the table check.
  await conn.query("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION,NO_DIR_IN_CREATE'");
  await conn.query('SET SESSION foreign_key_checks = 0, unique_checks = 0');
  // Two lanes write progress rows side by side: no gap locks between them.
  await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
  await conn.query("SET NAMES utf8mb4");
  await sortBuffers(conn);
  let binlogOff = false;
  try {
    await conn.query('SET SESSION sql_log_bin = 0');
    binlogOff = true;
  } catch (err) {
    log('restore').debug({ code: (err as { code?: string }).code }, 'sql_log_bin not changeable for this account');
  }
  return { binlogOff };
}

/**
 * The memory budget of MyISAM and Aria index builds, per load connection: a
 * non-unique index is built by sort once a table's rows are in (ENABLE
 * KEYS), in memory while its keys fit in the sort buffer, else through merge
 * files in the server's tmpdir. The server takes only what a table's keys
 * need, and at most two builds run at once (one per lane): at most
 * 2 x (256 + 64) MiB of the target server's memory. A server whose own
 * settings are larger keeps them.
 */
export const SORT_BUFFER_BYTES = 256 << 20;
export const BULK_INSERT_BYTES = 64 << 20;

async function sortBuffers(conn: Connection): Promise<void> {
  const raise = (name: string, bytes: number) => `SET SESSION ${name} = GREATEST(@@GLOBAL.${name}, ${bytes})`;
  await conn.query(raise('myisam_sort_buffer_size', SORT_BUFFER_BYTES));
  await conn.query(raise('bulk_insert_buffer_size', BULK_INSERT_BYTES));
  // Aria is MariaDB's alone; MySQL has no such setting.
  await conn.query(raise('aria_sort_buffer_size', SORT_BUFFER_BYTES)).catch((err: unknown) => log('restore').debug({ code: (err as { code?: string }).code }, 'no aria_sort_buffer_size on this server'));
}
