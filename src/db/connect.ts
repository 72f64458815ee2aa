import { readFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import mysql from 'mysql2/promise';
import type { Connection, ConnectionOptions } from 'mysql2/promise';
import { LrError } from '../errors.js';
import { describeDsn, type Dsn } from './dsn.js';
import { dbTimeoutSeconds, SERVER_STOPPED, watchConnection } from './watchdog.js';

export type { Connection } from 'mysql2/promise';

/** Quote an identifier for MySQL: always, whatever its source. */
export function quoteId(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}

export interface ConnectOptions {
  /** Connect without selecting the DSN's database (it may not exist yet). */
  noDatabase?: boolean;
  /** Watch it for a hung server (default true; the watch's own probe is not watched). */
  watch?: boolean;
  extra?: Partial<ConnectionOptions>;
}

/** Open a connection and translate the usual failures into one plain sentence each. */
export async function connect(dsn: Dsn, opts: ConnectOptions = {}): Promise<Connection> {
  const options: ConnectionOptions = {
    host: dsn.host,
    port: dsn.port,
    user: dsn.user,
    password: dsn.password,
    database: opts.noDatabase ? undefined : dsn.database || undefined,
    socketPath: dsn.socketPath,
    ssl: tlsOptions(dsn),
    charset: 'utf8mb4_general_ci',
    timezone: 'Z',
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    multipleStatements: false,
    connectTimeout: 10_000,
    ...opts.extra,
  };
  try {
    const conn = await mysql.createConnection(options);
    if (opts.watch !== false) watchConnection(conn, dsn, (ms) => connect(dsn, { noDatabase: true, watch: false, extra: { connectTimeout: ms } }));
    return conn;
  } catch (err) {
    // A connect that timed out: nothing at the address, or a server that takes the connection and never answers.
    const accepts = (err as { code?: string }).code === 'ETIMEDOUT' && !dsn.socketPath ? await takesConnections(dsn.host, dsn.port) : false;
    throw translateDbError(err, dsn, { accepts });
  }
}

/** Whether something at host:port accepts a TCP connection within 2 s (a frozen server's kernel still does). */
function takesConnections(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Closes `conn` at once, a result set still being sent included: mysql2's
 * destroy() only half-closes the socket, and a result set the client has
 * paused then stays open on the server, its thread waiting to write for up
 * to net_write_timeout (an hour on dump connections: snapshot.ts) with the
 * snapshot held. Destroying the socket too resets it: the server ends the
 * query at once. For after a failure; end() is the polite way.
 */
export function dropConnection(conn: Connection): void {
  conn.destroy();
  (conn as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.();
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'HANDSHAKE_SSL_ERROR']);

/**
 * Whether an error came from the server or the connection to it (a server
 * error number or SQL state, or a network failure), as opposed to a bug in
 * this program, which must never be reported as "the server reported an error".
 */
export function isServerError(err: unknown): boolean {
  const e = err as { errno?: unknown; sqlState?: unknown; code?: unknown; fatal?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  return (typeof e.errno === 'number' && typeof e.sqlState === 'string') || NETWORK_CODES.has(String(e.code)) || (e.fatal === true && typeof e.code === 'string');
}


/**
 * `ssl=required` encrypts (like MySQL's ssl-mode=REQUIRED); with `ssl-ca` the
 * server's certificate must chain to that CA and, for a host name, match it
 * (VERIFY_IDENTITY), so no one in between can pose as the server.
 */
function tlsOptions(dsn: Dsn): ConnectionOptions['ssl'] {
  if (!dsn.ssl) return undefined;
  if (!dsn.ssl.ca) return { rejectUnauthorized: false };
  let ca: Buffer;
  try {
    ca = readFileSync(dsn.ssl.ca);
  } catch (err) {
    throw new LrError('LR_NO_FILE', `Cannot read the CA certificate file ${dsn.ssl.ca} named by ssl-ca. Check the path.`, { cause: err });
  }
  return { ca, rejectUnauthorized: true, verifyIdentity: true };
}

/** mysql2 reports every TLS failure as HANDSHAKE_SSL_ERROR; Node's message says whether the certificate was the cause. */
const CERTIFICATE_PROBLEM = /certificate|self[- ]signed|issuer|altnames/i;

/** The forms a full disk on the server takes: the table is full, a write failed with errno 28, errno 135. */
export const DISK_FULL_CODES = ['ER_RECORD_FILE_FULL', 'ER_DISK_FULL', 'EE_WRITE', 'ER_ERROR_ON_WRITE', 'ER_TEMP_FILE_WRITE_FAILURE', 'ENOSPC'];

export function isDiskFullCode(code: string | undefined, sqlMessage?: string): boolean {
  return DISK_FULL_CODES.includes(code ?? '') || /errno: 28|Errcode: 28|errno: 135|No space left/i.test(sqlMessage ?? '');
}

const LOST_CODES = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE', 'ER_SERVER_SHUTDOWN', 'ER_CONNECTION_KILLED', 'ER_CLIENT_INTERACTION_TIMEOUT', SERVER_STOPPED]);

/** The connection is gone (closed, reset, killed, or ended by the hung-server watch), not a statement refused. */
export function isConnectionLost(err: unknown): boolean {
  const e = err as { code?: string; fatal?: boolean; message?: string } | null;
  if (!e) return false;
  // mysql2's "Can't add new command when connection is in closed state" carries no code.
  return LOST_CODES.has(e.code ?? '') || (e.fatal === true && e.code === undefined) || /connection is in closed state/.test(e.message ?? '');
}

/**
 * `seen.accepts`: a connect that timed out reached something that took the
 * TCP connection (a server that is frozen, overloaded or stuck), so the
 * address and the network are not the first things to check.
 */
export function translateDbError(err: unknown, dsn: Dsn, seen: { accepts?: boolean } = {}): LrError {
  const e = err as { code?: string; errno?: number; sqlMessage?: string };
  const where = describeDsn(dsn);
  const detail = { code: e.code, errno: e.errno, where };
  switch (e.code) {
    case 'ECONNREFUSED':
    case 'ENOENT':
      return new LrError('LR_DB_UNREACHABLE', `No database server answers at ${where}. Check that MySQL/MariaDB is running and the address is right.`, { cause: err, detail });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new LrError('LR_DB_UNREACHABLE', `The server name in ${where} cannot be found. Check the address.`, { cause: err, detail });
    case 'ETIMEDOUT':
      if (seen.accepts) return new LrError('LR_DB_UNREACHABLE', `The database server at ${where} takes the connection but does not answer: it is running but stuck (frozen, overloaded, or waiting for disk space). Check the server itself (its error log, its disk), then try again.`, { cause: err, detail: { ...detail, stuck: true } });
      return new LrError('LR_DB_UNREACHABLE', `The database server at ${where} did not answer in time. Check the address and the network.`, { cause: err, detail });
    case SERVER_STOPPED:
      return new LrError('LR_DB_UNREACHABLE', `The database server at ${where} stopped answering (nothing for ${dbTimeoutSeconds()} s or more). Check that it is running and not stuck, then try again.`, { cause: err, detail });
    case 'PROTOCOL_CONNECTION_LOST':
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ER_SERVER_SHUTDOWN':
    case 'ER_CONNECTION_KILLED':
    case 'ER_CLIENT_INTERACTION_TIMEOUT':
      return new LrError('LR_DB_UNREACHABLE', `The connection to the database server at ${where} was lost. Check that it is running, then try again.`, { cause: err, detail });
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_DBACCESS_DENIED_ERROR':
      return new LrError('LR_DB_ACCESS', `The server at ${where} refused the user name or password. Check them and try again.`, { cause: err, detail });
    case 'HANDSHAKE_NO_SSL_SUPPORT':
      return new LrError('LR_DB_UNREACHABLE', `The server at ${where} does not offer TLS, and the address asks for it. Turn TLS on in the server, or check the address.`, { cause: err, detail });
    case 'ER_OPTION_PREVENTS_STATEMENT':
      if (/read.only/i.test(e.sqlMessage ?? '')) return new LrError('LR_DB', `The database server at ${where} is read-only (its read_only setting is on), so nothing can be written to it. Restore to a server that accepts writes, or turn read_only off there (SET GLOBAL read_only = 0; also in its settings file), then try again.`, { cause: err, detail });
      return new LrError('LR_DB', `The database server at ${where} runs with a setting that refuses this statement (ER_OPTION_PREVENTS_STATEMENT); its message is in the log.`, { cause: err, detail: { ...detail, serverMessage: e.sqlMessage } });
    case 'ER_NO_SUCH_TABLE':
      return new LrError('LR_DB', `A table of ${dsn.database || 'the database'} on ${where} went away while lastresort was reading it: something else is dropping or creating its tables (a restore into it, an upgrade). Let that finish, then try again.`, { cause: err, detail });
    case 'ER_BAD_DB_ERROR':
      return new LrError('LR_DB', `The database ${dsn.database} does not exist on ${where}. Check the name.`, { cause: err, detail });
    case 'HANDSHAKE_SSL_ERROR': {
      const why = String((err as Error).message ?? '').split('\n')[0]!.slice(0, 100);
      return CERTIFICATE_PROBLEM.test(why)
        ? new LrError('LR_DB_UNREACHABLE', `The server at ${where} showed a certificate that the CA in ssl-ca does not vouch for (${why}), so nothing was sent. Check the ssl-ca file and the server's certificate.`, { cause: err, detail })
        : new LrError('LR_DB_UNREACHABLE', `The TLS connection to ${where} could not be set up (${why}). Check the server's TLS settings.`, { cause: err, detail });
    }
    default:
      if (isDiskFullCode(e.code, e.sqlMessage)) return new LrError('LR_DB', `The database server at ${where} has no room left: its disk is full. Free space there, then try again.`, { cause: err, detail: { ...detail, diskFull: true } });
      return new LrError('LR_DB', `The database server at ${where} reported an error (${e.code ?? 'unknown'}). See the log for detail.`, { cause: err, detail });
  }
}
