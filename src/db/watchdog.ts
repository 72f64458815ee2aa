/**
 * A hung server (frozen, not dead) answers nothing and closes nothing: a
 * query waits forever. Every connection the tool makes is watched: when a
 * statement has been waiting with no byte in either direction for the set
 * time (default 60 s, --db-timeout / config dbTimeout), a second, short
 * connection asks the server a trivial question. A server that answers it is
 * only busy (a long index build is silent for minutes): keep waiting. One
 * that does not has stopped answering: the waiting connection is ended with
 * LR_SERVER_STOPPED, which every caller treats as a lost connection (retried
 * like one, then a plain line). Waiting for our own reader (a paused result
 * set) is not the server's silence and never counts.
 */
import type { Connection } from 'mysql2/promise';
import type { Socket } from 'node:net';
import { describeDsn, type Dsn } from './dsn.js';
import { log } from '../log.js';

export const DEFAULT_DB_TIMEOUT_S = 60;
/** The code of the error a stalled connection is ended with. */
export const SERVER_STOPPED = 'LR_SERVER_STOPPED';

let timeoutMs = DEFAULT_DB_TIMEOUT_S * 1000;
let notice: ((line: string) => void) | null = null;
const lastNotice = new Map<string, number>();

export function setDbTimeout(seconds: number): void {
  timeoutMs = Math.max(1, seconds) * 1000;
}

export function dbTimeoutSeconds(): number {
  return timeoutMs / 1000;
}

/** Where a person is told, as it happens, that the server stopped answering (stderr for the CLI). */
export function setStallNotice(say: ((line: string) => void) | null): void {
  notice = say;
}

/** A line for the person while the tool waits on a server (nothing when no one listens). */
export function tellPerson(line: string): void {
  notice?.(line);
}

/** The parts of mysql2's connection the watch reads (internal; checked at start). */
interface CoreConnection {
  stream: Socket;
  _command: unknown;
  _paused?: boolean;
}

/** Opens a short connection to the same server, with the tool's own settings (TLS and all). */
export type OpenProbe = (connectTimeoutMs: number) => Promise<Connection>;

async function serverAnswers(open: OpenProbe, ms: number): Promise<boolean> {
  let probe: Connection | null = null;
  const ask = (async () => {
    probe = await open(ms);
    await probe.query({ sql: 'SELECT 1', timeout: ms });
    return true;
  })().catch(() => false);
  const late = new Promise<false>((r) => setTimeout(() => r(false), ms + 1000).unref());
  const answered = await Promise.race([ask, late]);
  void ask.finally(() => (probe as Connection | null)?.destroy());
  return answered;
}

/** Starts watching `conn` (made to `dsn`); the watch ends with the connection. */
export function watchConnection(conn: Connection, dsn: Dsn, openProbe: OpenProbe): void {
  const core = (conn as unknown as { connection?: CoreConnection }).connection;
  const socket = core?.stream;
  if (!core || !socket || typeof socket.bytesRead !== 'number' || !('_command' in core)) {
    log('db').warn({}, 'cannot watch this connection for a hung server (driver internals changed)');
    return;
  }
  // A connection lost while idle must not end the process ('error' with no listener).
  conn.on('error', (err: Error & { code?: string }) => log('db').warn({ code: err.code }, 'database connection closed'));
  let lastBytes = -1;
  let quietSince = Date.now();
  let probing = false;
  const check = async () => {
    const bytes = socket.bytesRead + socket.bytesWritten;
    const waitingOnServer = core._command !== null && core._command !== undefined && !core._paused;
    if (bytes !== lastBytes || !waitingOnServer) {
      lastBytes = bytes;
      quietSince = Date.now();
      return;
    }
    if (probing || Date.now() - quietSince < timeoutMs) return;
    probing = true;
    const alive = await serverAnswers(openProbe, Math.min(timeoutMs, 10_000));
    probing = false;
    const quietS = Math.round((Date.now() - quietSince) / 1000);
    if (alive) {
      log('db').info({ quietS }, 'the server is busy with a long statement; still waiting');
      quietSince = Date.now();
      return;
    }
    if (socket.destroyed) return;
    const where = describeDsn({ ...dsn, database: '' });
    log('db').error({ quietS, where }, 'the database server stopped answering');
    // Several connections to one server stall together: say it once.
    if (Date.now() - (lastNotice.get(where) ?? 0) > 2 * timeoutMs) notice?.(`The database server at ${where} stopped answering (nothing for ${quietS} s).`);
    lastNotice.set(where, Date.now());
    const err = Object.assign(new Error(`the database server stopped answering (nothing for ${quietS} s)`), { code: SERVER_STOPPED, quietS });
    socket.destroy(err);
  };
  const timer = setInterval(() => void check(), Math.min(1000, timeoutMs / 4));
  timer.unref();
  socket.once('close', () => clearInterval(timer));
}
