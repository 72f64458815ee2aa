import { chmodSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { jsonSafe } from './text.js';
import { makePrivate } from './system/private-file.js';

/**
 * Logs are JSON lines (pino). By default they go nowhere a person looks: a CLI
 * prints one plain line per problem, and the detail lives in the log file
 * (--log-file) or on stderr with --verbose. stdout is kept for data (--json).
 * Anything that might be secret is redacted by key name as a second line of
 * defence; the first is never to log secrets at all.
 */
export const REDACT_PATHS = [
  'password', '*.password', 'passwordFile', '*.passwordFile', 'key', '*.key', 'fileKey', '*.fileKey',
  'privateKey', '*.privateKey', 'sealedPrivateKey', '*.sealedPrivateKey', 'dsn', '*.dsn', 'source', '*.source',
  'target', '*.target', 'secret', '*.secret', 'row', '*.row',
];

let root: Logger = pino({ enabled: false });

export interface LogOptions {
  verbose?: boolean;
  file?: string;
  level?: string;
}

export function configureLog(opts: LogOptions): Logger {
  const streams: { stream: NodeJS.WritableStream | pino.DestinationStream; level: pino.Level }[] = [];
  const level = (opts.level ?? (opts.verbose ? 'debug' : 'info')) as pino.Level;
  if (opts.verbose) streams.push({ stream: inert(pino.destination({ fd: 2, sync: true })), level });
  if (opts.file) {
    streams.push({ stream: inert(pino.destination({ dest: opts.file, mkdir: true, sync: true, mode: 0o600 } as never)), level });
    privateMode(opts.file);
  }
  root = streams.length === 0
    ? pino({ enabled: false })
    : pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } }, pino.multistream(streams));
  return root;
}

/**
 * pino leaves C1 controls (and bidi overrides) raw in its JSON lines; a log
 * read on a terminal (--verbose, or `cat`/`tail` of the file) must not obey
 * the ones a file's table names carry.
 */
export function inert(stream: { write(line: string): unknown }): { write(line: string): void } {
  return { write: (line) => void stream.write(jsonSafe(line)) };
}

/** An existing log file keeps its old mode when appended to: make it 0600 (a file this account does not own stays as it is). */
function privateMode(path: string): void {
  try {
    chmodSync(path, 0o600);
    makePrivate(path);
  } catch {
    // not ours to change; the log is still written
  }
}

/** A child logger for one component: log('restore').info({...}, 'msg'). */
export function log(component: string): Logger {
  return root.child({ component });
}

export function setRootLogger(logger: Logger): void {
  root = logger;
}
