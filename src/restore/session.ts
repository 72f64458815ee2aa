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
  let binlogOff = false;
  try {
    await conn.query('SET SESSION sql_log_bin = 0');
    binlogOff = true;
  } catch (err) {
    log('restore').debug({ code: (err as { code?: string }).code }, 'sql_log_bin not changeable for this account');
  }
  return { binlogOff };
}
