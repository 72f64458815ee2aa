/**
 * What the report says about the target server itself, beside the tables:
 * differences between the server the backup came from and this one that
 * matter to Open Dental, each as one line a person can act on.
 */
import type { Connection } from '../db/connect.js';
import type { Catalog } from '../archive/layout.js';
import { selectOne } from '../db/query.js';

/** The producer's own table (InnoDB whatever the practice uses): not one of the practice's. */
const OWN_TABLES = new Set(['lastresort_keyring']);

export interface EngineNote {
  /** The engine (nearly) every table of the backup has, kept as it was. */
  tablesEngine: string;
  /** The target server's default_storage_engine. */
  serverDefault: string;
  line: string;
}

/** The engine most of the practice's tables have, or null when the catalog names none. */
export function tablesEngine(catalog: Catalog | null): string | null {
  const counts = new Map<string, number>();
  for (const t of catalog?.tables ?? []) if (t.engine && !OWN_TABLES.has(t.name)) counts.set(t.engine, (counts.get(t.engine) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
}

/**
 * Open Dental's upgrade refuses a database whose tables' engine is not the
 * server's default (it converts nothing, and checks): the restore keeps
 * every table's engine, so where the target's default differs the report
 * says which setting the upgrade will need.
 */
export async function engineNote(admin: Connection, catalog: Catalog | null): Promise<EngineNote | null> {
  const engine = tablesEngine(catalog);
  if (!engine) return null;
  const row = await selectOne<{ e: string }>(admin, 'SELECT @@GLOBAL.default_storage_engine AS e');
  const serverDefault = row?.e ?? '';
  if (!serverDefault || serverDefault.toLowerCase() === engine.toLowerCase()) return null;
  return {
    tablesEngine: engine,
    serverDefault,
    line: `The tables are ${engine} (kept as in the backup) but this server's default_storage_engine is ${serverDefault}: before Open Dental's upgrade, set default_storage_engine=${engine} in the server's settings ([mysqld] in my.cnf) and restart it.`,
  };
}
