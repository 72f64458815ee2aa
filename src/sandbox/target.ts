import { parseDsn, type Dsn } from '../db/dsn.js';

export type Target = { kind: 'sandbox'; dir?: string } | { kind: 'dsn'; dsn: Dsn };

/**
 * The CLI's `--target`: `sandbox` (the default folder), `sandbox:DIR`, or a
 * server address for parseDsn. `sandbox:` must be followed by a path, not `//`,
 * so a URL-looking `sandbox://...` is reported by parseDsn instead of becoming
 * a folder named `//...`.
 */
export function parseTarget(text: string, opts: { requireDatabase?: boolean } = {}): Target {
  const t = text;
  if (t === 'sandbox') return { kind: 'sandbox' };
  if (t.startsWith('sandbox:') && !t.startsWith('sandbox://')) {
    const dir = t.slice('sandbox:'.length);
    return dir ? { kind: 'sandbox', dir } : { kind: 'sandbox' };
  }
  return { kind: 'dsn', dsn: parseDsn(t, opts) };
}
