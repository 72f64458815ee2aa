/**
 * The session settings an object is defined under, from the file: its
 * sql_mode and character set decide how the server will read its body (a
 * mode that turns on ANSI_QUOTES makes `"..."` a name; a multi-byte client
 * character set such as GBK can swallow a quote or backslash into a
 * character). So only known modes are accepted (the server's list, by name:
 * a number would be a bit mask), ORACLE is refused (it switches to another
 * grammar for stored programs, which the checks do not read), and the
 * client character set must be one whose bytes lex as ASCII does.
 */
import type { ObjectDefinition } from '../archive/layout.js';

const SQL_MODES = new Set([
  'REAL_AS_FLOAT', 'PIPES_AS_CONCAT', 'ANSI_QUOTES', 'IGNORE_SPACE', 'IGNORE_BAD_TABLE_OPTIONS', 'ONLY_FULL_GROUP_BY',
  'NO_UNSIGNED_SUBTRACTION', 'NO_DIR_IN_CREATE', 'POSTGRESQL', 'MSSQL', 'DB2', 'MAXDB', 'NO_KEY_OPTIONS',
  'NO_TABLE_OPTIONS', 'NO_FIELD_OPTIONS', 'MYSQL323', 'MYSQL40', 'ANSI', 'NO_AUTO_VALUE_ON_ZERO', 'NO_BACKSLASH_ESCAPES',
  'STRICT_TRANS_TABLES', 'STRICT_ALL_TABLES', 'NO_ZERO_IN_DATE', 'NO_ZERO_DATE', 'ALLOW_INVALID_DATES',
  'ERROR_FOR_DIVISION_BY_ZERO', 'TRADITIONAL', 'NO_AUTO_CREATE_USER', 'HIGH_NOT_PRECEDENCE', 'NO_ENGINE_SUBSTITUTION',
  'PAD_CHAR_TO_FULL_LENGTH', 'EMPTY_STRING_IS_NULL', 'SIMULTANEOUS_ASSIGNMENT', 'TIME_ROUND_FRACTIONAL', 'TIME_TRUNCATE_FRACTIONAL',
]);

/** Client character sets in which every byte below 0x80 is the ASCII character, and no character hides one. */
const CLIENT_CHARSETS = new Set(['utf8mb3', 'utf8mb4', 'utf8', 'latin1', 'binary']);

export function settingsProblem(o: Pick<ObjectDefinition, 'sqlMode' | 'characterSetClient' | 'collationConnection'>): string | null {
  if (o.sqlMode !== undefined) {
    const modes = o.sqlMode.split(',').map((m) => m.trim().toUpperCase()).filter((m) => m !== '');
    const unknown = modes.find((m) => !SQL_MODES.has(m));
    if (unknown === 'ORACLE') return 'its sql_mode ORACLE switches the server to a grammar the checks do not read';
    if (unknown !== undefined) return `its sql_mode is not one the server knows by name (${unknown.slice(0, 40)})`;
  }
  if (o.characterSetClient !== undefined && !CLIENT_CHARSETS.has(o.characterSetClient.toLowerCase())) return `its client character set is not utf8mb4, utf8mb3, latin1 or binary (${o.characterSetClient.slice(0, 40)})`;
  if (o.collationConnection !== undefined) {
    const c = o.collationConnection.toLowerCase();
    if (c !== 'binary' && ![...CLIENT_CHARSETS].some((cs) => c.startsWith(cs + '_'))) return `its connection collation is not one of utf8mb4, utf8mb3, latin1 or binary (${o.collationConnection.slice(0, 40)})`;
  }
  return null;
}
