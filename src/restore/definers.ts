/**
 * Who the views, routines, triggers and events of a restored database run
 * as. A backup's objects were written by whoever could write the practice
 * database, so their DEFINER in the file is not trusted, and the restoring
 * account (usually root) is never used either: objects are defined by an
 * account made for the purpose, `lr_objects_<database>`@`localhost`, that
 * holds rights on the restored database only, cannot log in (ACCOUNT LOCK)
 * and is made afresh by each restore into that database (so no right
 * granted to it since, and no role, carries over).
 *
 * --keep-definers keeps a file's definer only where that account holds no
 * right outside the restored database (or does not exist on this server);
 * any other is replaced by the confined account, and the report says so.
 */
import { createHash, randomBytes } from 'node:crypto';
import { quoteId, type Connection } from '../db/connect.js';
import { log } from '../log.js';
import { definerKey as definerKeyOf } from '../sql/create-object.js';

export const OBJECTS_HOST = 'localhost';
const PREFIX = 'lr_objects_';

/**
 * `lr_objects_<database>` when the name is plain and short enough for any
 * server (32 characters for a MySQL user name), else `lr_objects_` and the
 * first 16 hex digits of the name's SHA-256.
 */
export function objectsAccountName(database: string): string {
  if (/^[A-Za-z0-9_]+$/.test(database) && PREFIX.length + database.length <= 32) return PREFIX + database;
  return PREFIX + createHash('sha256').update(database, 'utf8').digest('hex').slice(0, 16);
}

/** The rights objects get: reading and changing rows, calling routines, temporary tables, firing triggers. Nothing else. */
const RIGHTS = 'SELECT, INSERT, UPDATE, DELETE, EXECUTE, CREATE TEMPORARY TABLES, SHOW VIEW, TRIGGER';

export interface ObjectsAccount {
  user: string;
  host: string;
  /** As a DEFINER clause value. */
  definer: string;
}

/**
 * The confined account, made afresh: dropped if a restore into this database
 * made it before, then created locked with the rights above on `database`.
 * On a server without ACCOUNT LOCK it gets a random password nobody keeps.
 */
export async function openObjectsAccount(admin: Connection, database: string, grantDatabase: string): Promise<ObjectsAccount> {
  const user = objectsAccountName(database);
  const host = OBJECTS_HOST;
  await admin.query('DROP USER IF EXISTS ?@?', [user, host]);
  try {
    await admin.query('CREATE USER ?@? ACCOUNT LOCK', [user, host]);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ER_PARSE_ERROR') throw err;
    await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [user, host, randomBytes(24).toString('base64url')]);
  }
  await admin.query(`GRANT ${RIGHTS} ON ${grantDatabase}.* TO ?@?`, [user, host]);
  log('restore').info({ account: user }, 'objects are defined by an account with rights on the restored database only');
  return { user, host, definer: `${quoteId(user)}@${quoteId(host)}` };
}

/** `user@host` from a DEFINER value as a file writes it (`u`@`h`, 'u'@'h', u@h); null for CURRENT_USER or anything else. */
export function definerAccount(text: string): { user: string; host: string } | null {
  const m = /^(`(?:[^`]|``)*`|'(?:[^'\\]|''|\\.)*'|"(?:[^"\\]|""|\\.)*"|[A-Za-z0-9_$.-]+)@(`(?:[^`]|``)*`|'(?:[^'\\]|''|\\.)*'|"(?:[^"\\]|""|\\.)*"|[A-Za-z0-9_$.%-]+)$/.exec(text.trim());
  if (!m) return null;
  const unquote = (s: string) => (/^[`'"]/.test(s) ? s.slice(1, -1).replace(/``|''|""/g, (d) => d[0]).replace(/\\(.)/g, '$1') : s);
  return { user: unquote(m[1]), host: unquote(m[2]) };
}

/**
 * Whether an account holds any right outside `database`: a global right, a
 * right on another database, table, column or routine, a role or a proxy
 * grant (counted as outside: what they carry is not looked into). An
 * account that does not exist holds none. Read from SHOW GRANTS by the
 * restoring account.
 */
export async function holdsRightsOutside(admin: Connection, account: { user: string; host: string }, database: string): Promise<boolean> {
  let grants: string[];
  try {
    const [rows] = await admin.query('SHOW GRANTS FOR ?@?', [account.user, account.host]);
    grants = (rows as Record<string, string>[]).map((r) => Object.values(r)[0]);
  } catch (err) {
    if ((err as { code?: string }).code === 'ER_NONEXISTING_GRANT') return false;
    throw err;
  }
  return grants.some((g) => grantReachesOutside(g, database));
}

/** One line of SHOW GRANTS: does it give anything outside `database`? */
export function grantReachesOutside(line: string, database: string): boolean {
  const m = /^GRANT (.+?) ON (?:(?:PROCEDURE|FUNCTION|PACKAGE(?: BODY)?) )?(\*|`(?:[^`]|``)*`)\.(\*|`(?:[^`]|``)*`) TO /s.exec(line);
  if (!m) return true; // a role, PROXY, or a form not read here
  const [, rights, db] = m;
  if (db === '*') return rights.trim() !== 'USAGE';
  const quoted = db.slice(1, -1).replace(/``/g, '`');
  // An unescaped _ or % is a pattern that may match other databases.
  if (/(^|[^\\])(\\\\)*[_%]/.test(quoted)) return true;
  return quoted.replace(/\\([\\_%])/g, '$1') !== database;
}

export interface ObjectsRunAs {
  /** `user`@`host` */
  account: string;
  reason: string;
}

export interface DefinerPlan {
  definer: string;
  keep: Set<string>;
  runAs: ObjectsRunAs;
}

/**
 * Who the objects are defined by: the confined account (made here), or,
 * when the person's own account is used because it could not make accounts,
 * that account (it holds rights on the target only: isolation.ts checked).
 * With --keep-definers, the file's definers that hold no right outside the
 * target are kept.
 */
export async function planDefiners(admin: Connection, database: string, grantDb: string, restoring: { definer: string; ownAccount: boolean }, fileDefiners: Iterable<string>, keepDefiners: boolean): Promise<DefinerPlan> {
  const confined = restoring.ownAccount ? null : await openObjectsAccount(admin, database, grantDb);
  const definer = confined?.definer ?? restoring.definer;
  const runAs: ObjectsRunAs = confined
    ? { account: definer, reason: `the backup's definers are not trusted and the restoring account has rights beyond ${database}: this account has ${RIGHTS} on ${database} only, and cannot log in` }
    : { account: definer, reason: `the restoring account, which has rights on ${database} only` };
  const keep = new Set<string>();
  if (keepDefiners) {
    for (const text of new Set(fileDefiners)) {
      const account = definerAccount(text);
      if (account && !(await holdsRightsOutside(admin, account, database))) keep.add(definerKeyOf(text));
    }
  }
  return { definer, keep, runAs };
}
