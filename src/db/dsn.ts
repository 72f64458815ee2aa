import { LrError } from '../errors.js';

/**
 * A parsed `mysql://user[:password]@host[:port]/database`, with optional
 * `?socket=/path`, `?ssl=required` and `?ssl-ca=/path/ca.pem`.
 */
export interface Dsn {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  socketPath?: string;
  /** Encrypt the connection (TLS); with `ca`, also verify the server's certificate against it. */
  ssl?: DsnTls;
}

export interface DsnTls {
  /** PEM file of the certificate authority that signed the server's certificate. */
  ca?: string;
}

/** `?ssl=required` and/or `?ssl-ca=PATH`; a CA implies TLS. Anything else for ssl is refused, not ignored. */
function tlsOf(url: URL): DsnTls | undefined {
  const ssl = url.searchParams.get('ssl');
  const ca = url.searchParams.get('ssl-ca') ?? undefined;
  if (ssl !== null && !['required', 'true', '1'].includes(ssl.toLowerCase())) {
    throw new LrError('LR_BAD_DSN', 'In the server address, ssl can only be ssl=required (encrypt the connection); add ssl-ca=/path/ca.pem to also check the server\'s certificate.');
  }
  if (ca === '') throw new LrError('LR_BAD_DSN', 'In the server address, ssl-ca must name a certificate file: ssl-ca=/path/ca.pem.');
  if (ssl === null && ca === undefined) return undefined;
  return ca === undefined ? {} : { ca };
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
  const ssl = tlsOf(url);
  return {
    host: url.hostname || '127.0.0.1',
    port,
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    database,
    socketPath,
    ...(ssl ? { ssl } : {}),
  };
}

/** The DSN as text for messages and logs: never the password. */
export function describeDsn(dsn: Dsn): string {
  const where = dsn.socketPath ? `socket ${dsn.socketPath}` : `${dsn.host}:${dsn.port}`;
  const tls = dsn.ssl ? (dsn.ssl.ca ? ' (TLS, certificate checked)' : ' (TLS)') : '';
  return `${dsn.user}@${where}${dsn.database ? `/${dsn.database}` : ''}${tls}`;
}

export function formatDsn(dsn: Dsn, opts: { withPassword?: boolean } = {}): string {
  const auth = encodeURIComponent(dsn.user) + (opts.withPassword && dsn.password ? `:${encodeURIComponent(dsn.password)}` : '');
  const params = new URLSearchParams();
  if (dsn.socketPath) params.set('socket', dsn.socketPath);
  if (dsn.ssl) params.set('ssl', 'required');
  if (dsn.ssl?.ca) params.set('ssl-ca', dsn.ssl.ca);
  const q = params.size > 0 ? `?${params.toString()}` : '';
  // A socket address needs no port (a sandbox has none): leaving it out keeps the text parseable.
  const hostPort = dsn.socketPath ? dsn.host : `${dsn.host}:${dsn.port}`;
  return `mysql://${auth}@${hostPort}/${encodeURIComponent(dsn.database)}${q}`;
}
