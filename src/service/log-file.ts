/**
 * The service's log: pino JSON lines appended to logDir/lastresort.log,
 * rotated when the file passes maxBytes or a new local day begins, keeping
 * the newest `keepFiles` rotated files. Written synchronously, one line per
 * write, so a crash loses nothing already logged. (A small hand-made rotator
 * rather than a dependency: it is forty lines and needs no worker thread.)
 */
import { closeSync, fchmodSync, fstatSync, mkdirSync, openSync, readdirSync, renameSync, unlinkSync, writeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { inert, REDACT_PATHS } from '../log.js';
import { localDate } from './window.js';
import { makePrivate } from '../system/private-file.js';

export const LOG_FILE_NAME = 'lastresort.log';

export interface RotationOptions {
  maxBytes?: number;
  keepFiles?: number;
  now?: () => Date;
}

export class RotatingLogFile {
  readonly path: string;
  private fd = -1;
  private size = 0;
  private day = '';
  /** Names the rotated file: it holds lines up to this moment. */
  private lastWrite = new Date(0);
  private readonly maxBytes: number;
  private readonly keepFiles: number;
  private readonly now: () => Date;
  private stream = false;

  constructor(readonly dir: string, opts: RotationOptions = {}) {
    this.path = join(dir, LOG_FILE_NAME);
    this.maxBytes = opts.maxBytes ?? 10 * 1024 * 1024;
    this.keepFiles = opts.keepFiles ?? 30;
    this.now = opts.now ?? (() => new Date());
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.openCurrent();
  }

  private openCurrent(): void {
    this.fd = openSync(this.path, 'a', 0o600);
    const s = fstatSync(this.fd);
    // A device or FIFO put in the log's place (/dev/null) is written into: its mode is not ours, and it is never rotated.
    this.stream = !s.isFile();
    if (!this.stream) {
      try {
        fchmodSync(this.fd, 0o600); // a file left from before keeps its old mode otherwise
      } catch {
        // not ours to change; the log is still written
      }
      makePrivate(this.path);
    }
    this.size = s.size;
    // A file left from an earlier day (the service was restarted) belongs to that day.
    this.lastWrite = s.size > 0 ? s.mtime : this.now();
    this.day = localDate(this.lastWrite);
  }

  write(line: string): void {
    if (this.fd < 0) this.openCurrent(); // written after close (e.g. the CLI's final error line): reopen
    const bytes = Buffer.byteLength(line);
    const today = localDate(this.now());
    if (!this.stream && this.size > 0 && (this.size + bytes > this.maxBytes || today !== this.day)) this.rotate();
    writeSync(this.fd, line);
    this.size += bytes;
    this.lastWrite = this.now();
  }

  private rotate(): void {
    closeSync(this.fd);
    const stamp = `${localDate(this.lastWrite)}T${localTime(this.lastWrite)}`;
    let target = join(this.dir, `${LOG_FILE_NAME}.${stamp}`);
    for (let n = 1; existsSync(target); n++) target = join(this.dir, `${LOG_FILE_NAME}.${stamp}.${n}`);
    renameSync(this.path, target);
    const rotated = readdirSync(this.dir).filter((n) => n.startsWith(`${LOG_FILE_NAME}.`)).sort();
    for (const old of rotated.slice(0, Math.max(0, rotated.length - this.keepFiles))) unlinkSync(join(this.dir, old));
    this.openCurrent();
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

function localTime(d: Date): string {
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join('');
}

/** The service's root logger: the rotating file, plus stderr with --verbose. Same redaction as the CLI's. */
export function serviceLogger(file: RotatingLogFile, opts: { verbose?: boolean } = {}): Logger {
  const streams: pino.StreamEntry[] = [{ stream: inert(file), level: 'info' }];
  if (opts.verbose) streams.push({ stream: inert(pino.destination({ fd: 2, sync: true })), level: 'debug' });
  return pino({ level: opts.verbose ? 'debug' : 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } }, pino.multistream(streams));
}
