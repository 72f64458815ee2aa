/**
 * What the new server must know for a backup: the source server's version
 * (in the cleartext header) and the collations and character sets the
 * file's tables use (in its catalog, the first entry of the encrypted
 * payload: so only with the password, and only that entry is read). Each
 * collation that not every server knows is given the servers that do, so
 * support can tell before the restore what the practice's server lacks
 * (a restore still maps what the target lacks to the nearest it has:
 * docs/collations.md).
 */
import { readPrefix, readTar } from '../archive/tar-reader.js';
import { CATALOG_PATH, type Catalog } from '../archive/layout.js';
import { payloadOf, type OpenedBackup } from '../decrypt/open.js';
import { namesIn } from '../sql/collations.js';

export interface CollationUse {
  name: string;
  /** The servers that know it, when not every one does. */
  knownBy: string | null;
  /** How many of the file's tables use it (the database's default counts as none). */
  tables: number;
}

export interface CollationsUsed {
  /** The source server's version as the catalog gives it. */
  serverVersion: string;
  databaseCollation: string;
  collations: CollationUse[];
  charsets: string[];
}

/** The servers that know a collation, when not all of them do. */
export function knownBy(collation: string): string | null {
  const c = collation.toLowerCase();
  if (c.includes('_uca1400_')) return 'MariaDB 10.10 or later';
  if (c.includes('_0900_')) return 'MySQL 8, or MariaDB 11.4.5 or later';
  if (c.includes('nopad')) return 'MariaDB 10.2 or later (not MySQL)';
  if (c.startsWith('utf8mb3_')) return 'MariaDB 10.6 or later, or MySQL 8 (older servers name it utf8_…)';
  return null;
}

/** The collations and charsets of the backup's catalog; null when the catalog is damaged or missing. */
export async function collationsUsed(opened: OpenedBackup): Promise<CollationsUsed | null> {
  const catalog = await readCatalog(opened);
  if (!catalog) return null;
  const counts = new Map<string, number>();
  const charsets = new Set<string>([catalog.charset.toLowerCase()]);
  for (const t of catalog.tables) {
    const names = namesIn(t.create);
    for (const c of names.collations) counts.set(c, (counts.get(c) ?? 0) + 1);
    for (const cs of names.charsets) charsets.add(cs);
  }
  const db = catalog.collation.toLowerCase();
  if (!counts.has(db)) counts.set(db, 0);
  const collations = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([name, tables]) => ({ name, knownBy: knownBy(name), tables }));
  return { serverVersion: catalog.serverVersion, databaseCollation: db, collations, charsets: [...charsets].sort() };
}

async function readCatalog(opened: OpenedBackup): Promise<Catalog | null> {
  for await (const { entry, body } of readTar(payloadOf(opened).segments)) {
    if (entry.path !== CATALOG_PATH) return null;
    const buf = await readPrefix(body);
    if (buf.length !== entry.size) return null;
    try {
      return JSON.parse(buf.toString('utf8')) as Catalog;
    } catch {
      return null;
    }
  }
  return null;
}
