import type { Dsn } from '../db/dsn.js';

export interface SandboxOptions {
  /** Folder for the sandbox; default ./lastresort-sandbox. */
  dir?: string;
  /** Server program; found on this machine when left out (tests inject a missing one). */
  binary?: string;
  /** How long to wait for the server to accept connections. */
  timeoutMs?: number;
}

export interface SandboxInfo {
  dir: string;
  /**
   * Connects through the socket (`socketPath`); the server has no TCP port.
   * host 'localhost' and port 0 are placeholders that mysql2 ignores when
   * socketPath is set, and a port 0 that lost its socket fails instead of
   * reaching some other server.
   */
  dsn: Dsn;
  socket: string;
  pid: number;
  /** Shell command that opens a client on the sandbox. */
  connectCommand: string;
  stopCommand: string;
  version: string;
  binary: string;
  /** True when a sandbox was already running in `dir` and we only attached to it. */
  reused: boolean;
}

export interface SandboxStatus {
  dir: string;
  running: boolean;
  pid?: number;
  socket?: string;
  startedAt?: string;
  version?: string;
}
