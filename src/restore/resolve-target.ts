import { parseTarget, startSandbox, type SandboxInfo } from '../sandbox/index.js';
import type { Dsn } from '../db/dsn.js';
import { formatDsn } from '../db/dsn.js';
import { LrError } from '../errors.js';

export interface ResolvedTarget {
  dsn: Dsn;
  /** How to name this target again on a command line, without any password. */
  argument: string;
  sandbox?: SandboxInfo;
}

/** `sandbox[:DIR]` starts (or reuses) a private server; anything else is a server address naming the database. */
export async function resolveTarget(text: string, backupDatabase: string): Promise<ResolvedTarget> {
  const t = parseTarget(text, { requireDatabase: false });
  if (t.kind === 'sandbox') {
    const sandbox = await startSandbox({ dir: t.dir });
    return { dsn: { ...sandbox.dsn, database: backupDatabase }, argument: `sandbox:${sandbox.dir}`, sandbox };
  }
  if (!t.dsn.database) {
    throw new LrError('LR_BAD_DSN', `Name the database to restore into at the end of the address, e.g. mysql://root@127.0.0.1:3306/${backupDatabase}_restored.`);
  }
  return { dsn: t.dsn, argument: formatDsn(t.dsn) };
}
