import { parseTarget, startSandbox, type SandboxInfo } from '../sandbox/index.js';
import type { Dsn } from '../db/dsn.js';
import { formatDsn } from '../db/dsn.js';
import { LrError } from '../errors.js';
import { obtainDbPassword, refusePasswordInDsn } from '../cli/password.js';

export interface ResolvedTarget {
  dsn: Dsn;
  /** How to name this target again on a command line, without any password. */
  argument: string;
  sandbox?: SandboxInfo;
}

/** Refuses a password inside --target at once, before anything slow (the key derivation) happens. */
export function checkTargetArgument(text: string): void {
  const t = parseTarget(text, { requireDatabase: false });
  if (t.kind === 'dsn') refusePasswordInDsn(t.dsn, '--target');
}

/**
 * `sandbox[:DIR]` starts (or reuses) a private server; anything else is a server
 * address naming the database, whose password comes from --db-password-file or
 * LASTRESORT_DB_PASSWORD, never from the address itself.
 */
export async function resolveTarget(text: string, backupDatabase: string, opts: { dbPasswordFile?: string } = {}): Promise<ResolvedTarget> {
  const t = parseTarget(text, { requireDatabase: false });
  if (t.kind === 'sandbox') {
    const sandbox = await startSandbox({ dir: t.dir });
    return { dsn: { ...sandbox.dsn, database: backupDatabase }, argument: `sandbox:${sandbox.dir}`, sandbox };
  }
  if (!t.dsn.database) {
    throw new LrError('LR_BAD_DSN', `Name the database to restore into at the end of the address, e.g. mysql://root@127.0.0.1:3306/${backupDatabase}_restored.`);
  }
  refusePasswordInDsn(t.dsn, '--target');
  const dsn = { ...t.dsn, password: (await obtainDbPassword(opts.dbPasswordFile)) ?? '' };
  return { dsn, argument: formatDsn(dsn) };
}
