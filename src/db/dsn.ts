import { LrError } from '../errors.js';

/** A parsed `mysql://user[:password]@host[:port]/database` (or `?socket=/path`). */
export interface Dsn {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  socketPath?: string;
}

export function parseDsn(text: string, opts: { requireDatabase?: boolean } = {}): Dsn {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LrError('LR_BAD_DSN', 'That server address is not understood. Write it as mysql://user:password@host:port/database.');
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    throw new LrError('LR_BAD_DSN', `Server addresses start with mysql://, not ${url.protocol}//. Write it as mysql://user:password@host:port/database.`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (opts.requireDatabase !== false && !database) {
    throw new LrError('LR_BAD_DSN', 'The server address names no database. Add it at the end: mysql://user@host:3306/opendental.');
  }
  const port = url.port ? Number(url.port) : 3306;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new LrError('LR_BAD_DSN', `The port in the server address is not a valid port number.`);
  }
  const socketPath = url.searchParams.get('socket') ?? undefined;
  return {
    host: url.hostname || '127.0.0.1',
    port,
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    database,
    socketPath,
  };
}

/** The DSN as text for messages and logs: never the password. */
export function describeDsn(dsn: Dsn): string {
  const where = dsn.socketPath ? `socket ${dsn.socketPath}` : `${dsn.host}:${dsn.port}`;
  return `${dsn.user}@${where}${dsn.database ? `/${dsn.database}` : ''}`;
}

export function formatDsn(dsn: Dsn, opts: { withPassword?: boolean } = {}): string {
  const auth = encodeURIComponent(dsn.user) + (opts.withPassword && dsn.password ? `:${encodeURIComponent(dsn.password)}` : '');
  const q = dsn.socketPath ? `?socket=${encodeURIComponent(dsn.socketPath)}` : '';
  // A socket address needs no port (a sandbox has none): leaving it out keeps the text parseable.
  const hostPort = dsn.socketPath ? dsn.host : `${dsn.host}:${dsn.port}`;
  return `mysql://${auth}@${hostPort}/${encodeURIComponent(dsn.database)}${q}`;
}
