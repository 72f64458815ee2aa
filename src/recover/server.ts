/**
 * Step 3a: where to restore. A database server (address, port, user and
 * password, with the usual defaults), tested on entry so a wrong answer is
 * explained at once; or the private sandbox server, which touches nothing else
 * and so is the default.
 * The probe only reads: nothing is created before the final confirmation.
 */
import { resolve } from 'node:path';
import { connect, type Connection } from '../db/connect.js';
import { describeDsn, type Dsn, type DsnTls } from '../db/dsn.js';
import { isLrError, LrError } from '../errors.js';
import { parseTarget, startSandbox, defaultSandboxDir, type SandboxInfo } from '../sandbox/index.js';
import { safeText } from '../text.js';
import { shortenMiddle } from '../cli/progress.js';
import type { Ask } from './ask.js';
import { selectOne } from '../db/query.js';

export const SERVER_DEFAULTS = { host: '127.0.0.1', port: 3306, user: 'root' } as const;

/** Where the database will live; `dsn.database` is left empty (step 3b picks it). */
export type Where =
  | { kind: 'server'; dsn: Dsn; version: string }
  | { kind: 'sandbox'; dsn: Dsn; version: string; sandbox: SandboxInfo };

export interface ServerAnswers {
  /** --target: a server address (mysql://user@host:port[/database]) or sandbox[:DIR]. */
  target?: string;
  host?: string;
  port?: number;
  user?: string;
  /** The server password from --db-password-file or LASTRESORT_DB_PASSWORD (never from the command line). */
  dbPassword?: string;
  /** --ssl / --ssl-ca: TLS to the server given by --host or the questions (a --target says it in its own ?ssl=...). */
  ssl?: DsnTls;
  /** Take the defaults instead of asking. */
  yes?: boolean;
  cwd: string;
}

/** Whether the connected user may create `database` (or, without a name, any database at all). Read-only. */
export async function canCreateDatabase(conn: Connection, database?: string): Promise<boolean> {
  const grantee = "CONCAT('''', LEFT(CURRENT_USER(), LENGTH(CURRENT_USER()) - LENGTH(SUBSTRING_INDEX(CURRENT_USER(), '@', -1)) - 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')";
  const global = (await selectOne<{ n: number }>(conn, `SELECT COUNT(*) AS n FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'CREATE' AND GRANTEE = ${grantee}`))!;
  if (Number(global.n) > 0) return true;
  const schema = (await selectOne<{ n: number }>(conn, 
    `SELECT COUNT(*) AS n FROM information_schema.SCHEMA_PRIVILEGES WHERE PRIVILEGE_TYPE = 'CREATE' AND GRANTEE = ${grantee}${database === undefined ? '' : ' AND ? LIKE TABLE_SCHEMA'}`,
    database === undefined ? [] : [database],
  ))!;
  return Number(schema.n) > 0;
}

/** Connects and checks the right to create databases; throws an LrError a person can act on. */
export async function probeServer(dsn: Dsn): Promise<{ version: string }> {
  const conn = await connect({ ...dsn, database: '' }, { noDatabase: true });
  try {
    const row = (await selectOne<{ v: string }>(conn, 'SELECT VERSION() AS v'))!;
    if (!(await canCreateDatabase(conn))) {
      throw new LrError('LR_DB_ACCESS', `The user ${dsn.user} may not create databases on ${describeDsn({ ...dsn, database: '' })}. Use an account that can (often root), or ask IT to allow it.`);
    }
    return { version: row.v };
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

async function sandboxAt(ask: Ask, dir: string): Promise<Where> {
  const stop = ask.working(`Starting the sandbox server in ${shortenMiddle(safeText(dir, 200), 40)} (up to a minute)…`);
  let sandbox: SandboxInfo;
  try {
    sandbox = await startSandbox({ dir });
  } finally {
    stop();
  }
  ask.say(`The sandbox server is running (${safeText(sandbox.version, 60)}); it only accepts connections from this computer.`);
  return { kind: 'sandbox', dsn: { ...sandbox.dsn, database: '' }, version: sandbox.version, sandbox };
}

async function serverAt(ask: Ask, dsn: Dsn): Promise<Where> {
  const stop = ask.working(`Connecting to ${describeDsn(dsn)}…`);
  let version: string;
  try {
    ({ version } = await probeServer(dsn));
  } finally {
    stop();
  }
  ask.say(`Connected to ${describeDsn(dsn)} (${safeText(version, 60)}).`);
  return { kind: 'server', dsn, version };
}

/** The answers given as flags, checked and turned into a place; null when nothing was given. */
async function fromFlags(a: ServerAnswers): Promise<{ dsn: Dsn; database?: string } | { sandboxDir: string } | null> {
  if (a.target !== undefined) {
    if (a.host !== undefined || a.port !== undefined || a.user !== undefined) {
      throw new LrError('LR_USAGE', 'Give either --target or --host/--port/--user, not both.');
    }
    const t = parseTarget(a.target, { requireDatabase: false });
    if (t.kind === 'sandbox') return { sandboxDir: t.dir === undefined ? await defaultSandboxDir(a.cwd) : resolve(a.cwd, t.dir) };
    if (t.dsn.password) {
      throw new LrError('LR_USAGE', 'Leave the password out of --target: other users of this computer can read command lines. Put it in a file for --db-password-file, or in LASTRESORT_DB_PASSWORD.');
    }
    return { dsn: { ...t.dsn, password: a.dbPassword ?? '', database: '', ...(a.ssl && !t.dsn.ssl ? { ssl: a.ssl } : {}) }, database: t.dsn.database || undefined };
  }
  if (a.host === undefined && a.port === undefined && a.user === undefined) return null;
  return { dsn: { host: a.host ?? SERVER_DEFAULTS.host, port: a.port ?? SERVER_DEFAULTS.port, user: a.user ?? SERVER_DEFAULTS.user, password: a.dbPassword ?? '', database: '', ...withTls(a.ssl) } };
}

/**
 * Where to restore. Flags answer without asking; on a terminal the person
 * picks the server or the sandbox and is asked again after an explained
 * failure. Also returns the database named in --target, if any.
 */
export async function chooseServer(ask: Ask, a: ServerAnswers): Promise<{ where: Where; database?: string }> {
  const flags = await fromFlags(a);
  if (flags && 'sandboxDir' in flags) return { where: await sandboxAt(ask, flags.sandboxDir) };
  if (flags) return { where: await serverAt(ask, flags.dsn), database: flags.database };
  const defaults: Dsn = { ...SERVER_DEFAULTS, password: a.dbPassword ?? '', database: '', ...withTls(a.ssl) };
  if (a.yes || !ask.interactive) return { where: await serverAt(ask, defaults) };

  let last = defaults;
  for (;;) {
    const kind = await ask.choose({
      message: 'Restore where?',
      choices: [
        { title: 'The sandbox on this computer (safe)', value: 'sandbox', description: 'to look at the data; Open Dental cannot use it (IT can move it to the real server after)' },
        { title: 'A database server (MySQL or MariaDB)', value: 'server', description: 'you give its address' },
      ],
    });
    try {
      if (kind === 'sandbox') return { where: await sandboxAt(ask, await defaultSandboxDir(a.cwd)) };
      last = await askServerDetails(ask, last, a.dbPassword);
      return { where: await serverAt(ask, last) };
    } catch (err) {
      if (!isLrError(err) || err.code === 'LR_INTERRUPTED') throw err;
      ask.say(err.message);
      ask.say('Try again, or choose the sandbox server.');
    }
  }
}

async function askServerDetails(ask: Ask, last: Dsn, givenPassword?: string): Promise<Dsn> {
  const host = await ask.text({ message: 'Server address', initial: last.host });
  let port: number;
  for (;;) {
    const text = await ask.text({ message: 'Port', initial: String(last.port) });
    port = Number(text);
    if (Number.isInteger(port) && port >= 1 && port <= 65535) break;
    ask.say('The port is a whole number between 1 and 65535 (MySQL and MariaDB usually use 3306).');
  }
  const user = await ask.text({ message: 'User name on that server', initial: last.user });
  const password = givenPassword ?? (await ask.secret({ message: `Password of ${safeText(user, 60)} on that server (just Enter if it has none)` }));
  return { host, port, user, password, database: '', ...withTls(last.ssl) };
}

const withTls = (ssl?: DsnTls): Pick<Dsn, 'ssl'> => (ssl ? { ssl } : {});
