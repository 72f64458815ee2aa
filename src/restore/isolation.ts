/**
 * The server's own wall around a restore: every statement and row that
 * comes from the file runs as a temporary account that has rights on the
 * target database and nothing else, whatever account the person gave
 * (usually root). Even if a check of the file's statements were wrong,
 * the server refuses SELECT ... INTO OUTFILE, LOAD_FILE, accounts, grants
 * and writes to other databases. (MariaDB lets any account that may create
 * a table put its files in another folder with DATA DIRECTORY; the load
 * sessions' NO_DIR_IN_CREATE makes the server ignore it: session.ts.) The
 * account is made by the restoring account, with a random password that is
 * never stored or logged, and
 * dropped when the restore ends (and, if a restore was killed, by the next
 * restore or wizard run against the same server: dropLeftoverAccounts).
 *
 * It may also name another account as the DEFINER of the objects it
 * creates (MariaDB's SET USER), because objects are defined by the
 * restoring account, not by this short-lived one.
 */
import { randomBytes } from 'node:crypto';
import { LrError } from '../errors.js';
import { quoteId, type Connection } from '../db/connect.js';
import type { Dsn } from '../db/dsn.js';
import { log } from '../log.js';
import { restoreLockName } from './lock.js';

export interface RestoreAccount {
  /** Where every statement and row from the file goes: the temporary account (or the given one, already confined). */
  dsn: Dsn;
  /** The restoring account as a DEFINER clause value: `user`@`host`. */
  definer: string;
  /** The person's own account is used as it is (it could not make accounts, and holds rights on the target only). */
  ownAccount: boolean;
  close(): Promise<void>;
}

const PREFIX = 'lr_restore_';

/** A database name in a GRANT: `_` and `%` are wildcards there and must be escaped. */
export const grantDatabase = (database: string) => quoteId(database.replace(/[\\_%]/g, (c) => '\\' + c));

const splitAccount = (account: string) => {
  const at = account.lastIndexOf('@');
  return { user: account.slice(0, at), host: account.slice(at + 1) };
};

type Row = Record<string, string>;
async function rows(conn: Connection, sql: string, values: unknown[] = []): Promise<Row[]> {
  const [result] = await conn.query(sql, values);
  return result as Row[];
}

export interface LeftoverAccount {
  /** user@host of the account. */
  account: string;
  /** The databases it has rights on (the one its restore went into). */
  databases: string[];
}

/**
 * Temporary accounts left on this server by restores that were killed (kill
 * -9, a crash, a lost machine), each with rights on its target database:
 * dropped at the start of any later restore or wizard run against the
 * server, whatever database that one goes into. An account is a leftover
 * when no restore holds the restore lock of its database (lock.ts): a live
 * restore takes the lock before it makes its account and drops the account
 * before it lets go. A lock this connection holds itself counts as free.
 */
export async function dropLeftoverAccounts(admin: Connection): Promise<LeftoverAccount[]> {
  const grants = await rows(admin, "SELECT GRANTEE AS g, TABLE_SCHEMA AS s FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE LIKE ?", [`'${PREFIX.replace(/_/g, '\\_')}%`]);
  const byAccount = new Map<string, Set<string>>();
  for (const { g, s } of grants) byAccount.set(g, (byAccount.get(g) ?? new Set<string>()).add(s.replace(/\\([\\_%])/g, '$1')));
  const dropped: LeftoverAccount[] = [];
  for (const [g, dbs] of byAccount) {
    const m = /^'(lr_restore_[0-9a-f]+)'@'(.*)'$/.exec(g);
    if (!m) continue;
    const databases = [...dbs];
    const locks = databases.map(restoreLockName);
    const held = await rows(admin, `SELECT ${locks.map(() => '(IS_FREE_LOCK(?) = 0 AND NOT (IS_USED_LOCK(?) <=> CONNECTION_ID()))').join(' OR ')} AS held`, locks.flatMap((l) => [l, l]));
    if (Number(held[0]?.held) === 1) continue; // its restore is running
    await admin.query('DROP USER IF EXISTS ?@?', [m[1], m[2]]);
    log('restore').info({ account: m[1], databases: databases.length }, 'removed the temporary account of an earlier, stopped restore');
    dropped.push({ account: `${m[1]}@${m[2]}`, databases });
  }
  return dropped;
}

export async function openRestoreAccount(admin: Connection, dsn: Dsn, database: string): Promise<RestoreAccount> {
  const [{ current, client }] = await rows(admin, 'SELECT CURRENT_USER() AS current, USER() AS client');
  const me = splitAccount(current);
  const definer = `${quoteId(me.user)}@${quoteId(me.host)}`;
  await dropLeftoverAccounts(admin).catch((err) => log('restore').debug({ code: (err as { code?: string }).code }, 'could not look for leftover restore accounts'));
  const user = PREFIX + randomBytes(6).toString('hex');
  const host = splitAccount(client).host;
  const password = randomBytes(24).toString('base64url');
  try {
    await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [user, host, password]);
  } catch (err) {
    log('restore').info({ code: (err as { code?: string }).code }, 'the restoring account cannot create a temporary account');
    return confinedAlready(admin, dsn, database, definer, me.user);
  }
  const drop = async () => {
    await admin.query('DROP USER IF EXISTS ?@?', [user, host]);
  };
  try {
    await admin.query(`GRANT ALL PRIVILEGES ON ${grantDatabase(database)}.* TO ?@?`, [user, host]);
  } catch (err) {
    await drop().catch(() => {});
    if (!/ACCESS_DENIED/.test((err as { code?: string }).code ?? '')) throw err;
    log('restore').info({ code: (err as { code?: string }).code }, 'the restoring account cannot grant rights on the target database');
    return confinedAlready(admin, dsn, database, definer, me.user);
  }
  await admin.query('GRANT SET USER ON *.* TO ?@?', [user, host]).catch((err) => log('restore').info({ code: (err as { code?: string }).code }, 'objects will keep the temporary account out of their DEFINER only where the server allows SET USER'));
  log('restore').info({ account: user }, 'statements from the file run as a temporary account limited to the target database');
  return { dsn: { ...dsn, user, password }, definer, ownAccount: false, close: drop };
}

/**
 * The person's account cannot make accounts. It is used as it is only if it
 * already has rights on the target database alone; otherwise the restore
 * stops before it writes anything, and says what account to use.
 */
async function confinedAlready(admin: Connection, dsn: Dsn, database: string, definer: string, user: string): Promise<RestoreAccount> {
  const grantee = `'${user}'@%`;
  const global = await rows(admin, "SELECT PRIVILEGE_TYPE AS p FROM information_schema.USER_PRIVILEGES WHERE GRANTEE LIKE ? AND PRIVILEGE_TYPE <> 'USAGE'", [grantee]);
  const schemas = await rows(admin, 'SELECT DISTINCT TABLE_SCHEMA AS s FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE LIKE ?', [grantee]);
  const others = schemas.filter((r) => r.s !== database && r.s.replace(/\\([\\_%])/g, '$1') !== database);
  if (global.length > 0 || others.length > 0) {
    throw new LrError('LR_DB_ACCESS', `The account ${user} may not create the temporary account a restore runs under (that needs CREATE USER and the GRANT OPTION on ${database}), and it has rights beyond the target database. Restore with an account that has both (for example root), or with one that has rights on ${database} only.`, { detail: { globalPrivileges: global.length, otherDatabases: others.length } });
  }
  return { dsn, definer, ownAccount: true, close: async () => {} };
}
