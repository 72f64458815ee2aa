/**
 * Every failure the tool reports carries a code; the process exit code follows
 * from the code alone (see README "Exit codes"). Only src/cli.ts calls process.exit.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  damaged: 3,
  noKey: 4,
  notBackup: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Error codes and the exit code each maps to. */
export const ERROR_CODES = {
  LR_USAGE: EXIT.usage,
  LR_BAD_DSN: EXIT.usage,
  LR_BAD_CONFIG: EXIT.usage,
  LR_NO_FILE: EXIT.failure,
  LR_IO: EXIT.failure,
  LR_DB_UNREACHABLE: EXIT.failure,
  LR_DB_ACCESS: EXIT.failure,
  LR_DB: EXIT.failure,
  LR_TARGET_NOT_EMPTY: EXIT.failure,
  LR_SANDBOX: EXIT.failure,
  LR_NO_ADMIN: EXIT.failure,
  LR_ADMIN_NO_PASSWORD: EXIT.failure,
  LR_ADMIN_NOT_ENROLLED: EXIT.failure,
  LR_BACKUPS_DISABLED: EXIT.failure,
  LR_INTERRUPTED: EXIT.failure,
  /** A bug in lastresort itself (any error that is neither ours nor the server's). */
  LR_INTERNAL: EXIT.failure,
  LR_BUSY: EXIT.failure,
  LR_DAMAGED: EXIT.damaged,
  LR_PARTIAL: EXIT.damaged,
  LR_HEADER_DAMAGED: EXIT.damaged,
  LR_WRONG_PASSWORD: EXIT.noKey,
  LR_WRONG_RECOVERY_CODE: EXIT.noKey,
  LR_RECOVERY_CODE_TYPO: EXIT.noKey,
  LR_WEAK_KDF: EXIT.usage,
  LR_WEAK_PASSWORD: EXIT.usage,
  LR_NO_PASSWORD: EXIT.usage,
  LR_NOT_ADMIN: EXIT.noKey,
  LR_NOT_BACKUP: EXIT.notBackup,
  LR_UNSUPPORTED_VERSION: EXIT.notBackup,
  LR_HOSTILE_HEADER: EXIT.notBackup,
  LR_NOT_AUTHENTIC: EXIT.notBackup,
} as const satisfies Record<string, ExitCode>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * An error meant for a person: `message` is one plain line that says what went
 * wrong and what to do next. `detail` goes to the log only and must never hold
 * a secret.
 */
export class LrError extends Error {
  readonly code: ErrorCode;
  readonly detail?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; detail?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LrError';
    this.code = code;
    this.detail = options?.detail;
  }
  get exitCode(): ExitCode {
    return ERROR_CODES[this.code];
  }
}

export function isLrError(err: unknown, code?: ErrorCode): err is LrError {
  return err instanceof LrError && (code === undefined || err.code === code);
}

export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof LrError ? err.exitCode : EXIT.failure;
}
