/**
 * Test set-up shared by the suites: a generated source database with its
 * admin enrolled (cheap KDF, explicitly), and backups made by the real producer.
 */
import { quoteId } from '../../src/db/connect.js';
import { parseDsn } from '../../src/db/dsn.js';
import { enrollAdmin } from '../../src/keys/enroll.js';
import { FAST_TEST_KDF } from '../../src/keys/crypto.js';
import { runBackup, type BackupOptions, type BackupResult } from '../../src/backup/index.js';
import { generateOpenDental } from '../../fixtures/opendental.js';
import { generateExotic } from '../../fixtures/exotic.js';
import type { EngineChoice } from '../../fixtures/lib/engine.js';
import { generateOpenDental2025 } from '../../fixtures/opendental-2025.js';
import { openBackup, payloadOf } from '../../src/decrypt/open.js';
import { readTar, readWhole } from '../../src/archive/tar-reader.js';
import { MANIFEST_PATH, type Manifest } from '../../src/archive/layout.js';
import { connectServer, createTempDatabase, dsnFor } from './db.js';
import './producer-env.js';

import { ADMIN, PASSWORD } from './files.js';

export { ADMIN, PASSWORD, passwordFile, tempDir } from './files.js';

const ADMIN_TABLES = ['userod', 'usergroup', 'usergroupattach', 'grouppermission', 'securitylog'];

/**
 * An Open Dental-shaped source with jsmith enrolled: `opendental` (MyISAM, as real practices run, unless `engine` says otherwise),
 * `opendental2025` (the real 2025 schema, MyISAM unless `engine` says otherwise), or `exotic` plus Open Dental's user tables.
 */
export async function makeSource(opts: { kind?: 'opendental' | 'opendental2025' | 'exotic'; patients?: number; prefix?: string; engine?: EngineChoice } = {}): Promise<string> {
  const kind = opts.kind ?? 'opendental';
  const database = await createTempDatabase(opts.prefix ?? `lr_src_${kind}`);
  const conn = await connectServer(database);
  try {
    if (kind === 'opendental') {
      await generateOpenDental(conn, { database, patients: opts.patients ?? 60, seed: 7, engine: opts.engine ?? 'MyISAM' });
    } else if (kind === 'opendental2025') {
      await generateOpenDental2025(conn, { database, patients: opts.patients ?? 60, seed: 7, engine: opts.engine });
    } else {
      await generateExotic(conn, { database });
      // Borrow Open Dental's user tables so the producer finds an admin.
      const users = await createTempDatabase('lr_users');
      const c2 = await connectServer(users);
      await generateOpenDental(c2, { database: users, patients: 1, seed: 7 });
      await c2.end();
      for (const t of ADMIN_TABLES) {
        await conn.query(`CREATE TABLE ${quoteId(t)} LIKE ${quoteId(users)}.${quoteId(t)}`);
        await conn.query(`INSERT INTO ${quoteId(t)} SELECT * FROM ${quoteId(users)}.${quoteId(t)}`);
      }
    }
  } finally {
    await conn.end();
  }
  await enrollAdmin({ source: parseDsn(dsnFor(database)), userName: ADMIN, password: PASSWORD, kdf: FAST_TEST_KDF });
  return database;
}

export async function backupOf(database: string, outDir: string, extra: Partial<BackupOptions> = {}): Promise<BackupResult> {
  return runBackup({ source: parseDsn(dsnFor(database)), outDir, ...extra });
}

/** The manifest of a backup made with the test password, read through the whole payload. */
export async function manifestOf(file: string): Promise<Manifest> {
  const opened = await openBackup(file, PASSWORD);
  let manifest: Manifest | null = null;
  for await (const { entry, body } of readTar(payloadOf(opened).segments)) {
    if (entry.path === MANIFEST_PATH) manifest = JSON.parse(String(await readWhole(body, entry.size))) as Manifest;
    else for await (const _ of body); // drain
  }
  if (!manifest) throw new Error(`${file} has no manifest`);
  return manifest;
}
