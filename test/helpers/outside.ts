/**
 * What a restored object could reach outside its database, read as root
 * (outsideState), and the objects used the way an ordinary user of the
 * practice would use them (useObjectsAsOrdinaryUser): read every view, call
 * every procedure and function, fire every trigger. Other test files run on
 * the same server at the same time, so the state is the settings objects
 * aimed at, one canary database and the named accounts, not the whole list
 * of databases or users.
 */
import { randomBytes } from 'node:crypto';
import { connect, quoteId } from '../../src/db/connect.js';
import { parseDsn } from '../../src/db/dsn.js';
import { connectServer, dsnFor } from './db.js';

type Rows = Record<string, unknown>[];
async function rows(query: string, values: unknown[] = []): Promise<Rows> {
  const conn = await connectServer();
  try {
    return ((await conn.query(query, values)) as unknown as [Rows])[0];
  } finally {
    await conn.end();
  }
}

const SETTINGS = ['max_connections', 'general_log', 'general_log_file', 'slow_query_log', 'slow_query_log_file', 'event_scheduler', 'read_only', 'log_bin_trust_function_creators', 'local_infile'];

/** The server settings, the canary database's tables and rows, and which of `accounts` (and any `backdoor%` account, role or server) exist. */
export async function outsideState(canary: string, accounts: string[]): Promise<string> {
  const settings = await rows(`SELECT ${SETTINGS.map((s) => `@@GLOBAL.${s} AS ${s}`).join(', ')}`);
  const tables = await rows('SELECT TABLE_NAME AS n, ENGINE AS e FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1', [canary]);
  const canaryRows = tables.some((t) => t.n === 't') ? await rows(`SELECT * FROM ${quoteId(canary)}.t ORDER BY 1`) : [];
  const users = await rows("SELECT User AS u, Host AS h, is_role AS r FROM mysql.user WHERE User IN (?) OR User LIKE '%backdoor%' ORDER BY 1, 2", [accounts.length ? accounts : ['']]);
  const servers = await rows("SELECT Server_name AS s FROM mysql.servers WHERE Server_name LIKE 'lr\\_objects%'");
  return JSON.stringify({ settings, tables, canaryRows, users, servers });
}

/**
 * A new account with SELECT, INSERT, UPDATE, DELETE and EXECUTE on the
 * target (the rights an application account has) uses every named object:
 * views are read, procedures and functions called, and each table with a
 * trigger gets a row inserted. A call the server refuses is fine (the point
 * is what it cannot do); the account is dropped after.
 */
export async function useObjectsAsOrdinaryUser(database: string, names: string[]): Promise<string[]> {
  const user = `lr_plain_${randomBytes(4).toString('hex')}`;
  const secret = randomBytes(12).toString('hex');
  const hosts = ['localhost', '127.0.0.1'];
  const admin = await connectServer();
  const errors: string[] = [];
  try {
    for (const h of hosts) {
      await admin.query('CREATE USER ?@? IDENTIFIED BY ?', [user, h, secret]);
      await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE, EXECUTE ON ${quoteId(database)}.* TO ?@?`, [user, h]);
    }
    const conn = await connect({ ...parseDsn(dsnFor(database)), user, password: secret });
    // Rows inserted to fire triggers take the columns' implicit defaults.
    await conn.query("SET SESSION sql_mode = ''");
    const wanted = new Set(names);
    const list = async (q: string) => ((await admin.query(q, [database])) as unknown as [Rows])[0].filter((r) => wanted.has(String(r.n)));
    const uses: string[] = [];
    for (const v of await list('SELECT TABLE_NAME AS n FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?')) uses.push(`SELECT * FROM ${quoteId(String(v.n))}`);
    for (const p of await list("SELECT ROUTINE_NAME AS n, ROUTINE_TYPE AS t, (SELECT COUNT(*) FROM information_schema.PARAMETERS x WHERE x.SPECIFIC_SCHEMA = r.ROUTINE_SCHEMA AND x.SPECIFIC_NAME = r.ROUTINE_NAME AND x.ORDINAL_POSITION > 0) AS k FROM information_schema.ROUTINES r WHERE ROUTINE_SCHEMA = ?")) {
      // Functions get 1 for each argument; procedures user variables set to 1, which OUT parameters can write.
      const args = Array.from({ length: Number(p.k) }, (_, i) => (p.t === 'FUNCTION' ? '1' : `@lr_arg${i}`)).join(', ');
      if (p.t !== 'FUNCTION' && Number(p.k) > 0) uses.push(`SET ${Array.from({ length: Number(p.k) }, (_, i) => `@lr_arg${i} = 1`).join(', ')}`);
      uses.push(p.t === 'FUNCTION' ? `SELECT ${quoteId(String(p.n))}(${args})` : `CALL ${quoteId(String(p.n))}(${args})`);
    }
    for (const t of await list('SELECT TRIGGER_NAME AS n, EVENT_OBJECT_TABLE AS t, EVENT_MANIPULATION AS m FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?')) {
      const table = quoteId(String(t.t));
      uses.push(t.m === 'DELETE' ? `DELETE FROM ${table} LIMIT 1` : t.m === 'UPDATE' ? `UPDATE ${table} SET ${await firstColumn(admin, database, String(t.t))} = ${await firstColumn(admin, database, String(t.t))} LIMIT 1` : `INSERT INTO ${table} () VALUES ()`);
    }
    for (const statement of uses) {
      await conn.query(statement).catch((err: { code?: string }) => errors.push(`${statement}: ${err.code}`));
    }
    await conn.end();
    return errors;
  } finally {
    for (const h of hosts) await admin.query('DROP USER IF EXISTS ?@?', [user, h]);
    await admin.end();
  }
}

async function firstColumn(admin: Awaited<ReturnType<typeof connectServer>>, database: string, table: string): Promise<string> {
  const [[c]] = (await admin.query('SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION LIMIT 1', [database, table])) as unknown as [[{ c: string }]];
  return quoteId(c.c);
}
