/**
 * A payload built entry by entry with the project's tar writer, and encrypted
 * with the project's own writer, the vectors' password and cheap KDF, signed
 * by a producer key made for the run: shared by the hostile-vector makers
 * (make-hostile.ts here, ../objects/make-objects.ts).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createSealedKey, FAST_TEST_KDF, newSigningKey } from '../../../src/keys/crypto.js';
import { createEncryptingWriter } from '../../../src/format/writer.js';
import { TarWriter } from '../../../src/archive/tar-writer.js';
import { TableHasher } from '../../../src/archive/checksum.js';
import { CATALOG_PATH, MANIFEST_PATH, PAX_FIRST_ROW, PAX_ROWS, PAX_TABLE, dataPath, objectPath, schemaPath, summaryPath, type Catalog, type CatalogTable, type ObjectDefinition, type TableSummary } from '../../../src/archive/layout.js';
import { VECTOR_PASSWORD } from '../plaintext.js';

/** The producer key these files are signed with (a real producer keeps its own in a root-only file). */
const SIGNING_KEY = newSigningKey();

export interface Payload {
  /** The database the catalog names (default clinic). */
  database?: string;
  /** The database's default character set and collation, and the source server's version, as the catalog gives them. */
  charset?: string;
  collation?: string;
  serverVersion?: string;
  tables: (CatalogTable & { rows: string })[];
  objects: ObjectDefinition[];
}

export async function payloadBytes(p: Payload): Promise<Buffer> {
  const tar = new TarWriter();
  const parts: Buffer[] = [];
  const collected = (async () => {
    for await (const b of tar.stream) parts.push(b as Buffer);
  })();
  const catalog: Catalog = { database: p.database ?? 'clinic', charset: p.charset ?? 'utf8mb4', collation: p.collation ?? 'utf8mb4_general_ci', serverVersion: p.serverVersion ?? 'make-hostile', createdAt: '2026-01-01T00:00:00.000Z', tables: p.tables.map(({ rows: _rows, ...t }) => t), objects: p.objects.map((o) => ({ kind: o.kind, name: o.name, type: o.type })) };
  await tar.json(CATALOG_PATH, catalog);
  const summaries: TableSummary[] = [];
  for (const t of p.tables) {
    await tar.entry(schemaPath(t.index), Buffer.from(t.create), { [PAX_TABLE]: t.name });
    const rows = Buffer.from(t.rows);
    const count = t.rows.split('\n').length - 1;
    await tar.entry(dataPath(t.index, 0), rows, { [PAX_TABLE]: t.name, [PAX_ROWS]: String(count), [PAX_FIRST_ROW]: '0' });
    const hasher = new TableHasher('sha256-ordered');
    hasher.update(rows);
    const summary: TableSummary = { index: t.index, name: t.name, rows: count, bytes: rows.length, pieces: 1, checksum: hasher.digest() };
    summaries.push(summary);
    await tar.json(summaryPath(t.index), summary);
  }
  let n = 0;
  for (const o of p.objects) await tar.json(objectPath(o.kind, ++n), o);
  await tar.json(MANIFEST_PATH, { completedAt: '2026-01-01T00:00:01.000Z', tables: summaries, objects: p.objects.map((o) => ({ kind: o.kind, name: o.name })) });
  tar.finish();
  await collected;
  return Buffer.concat(parts);
}

export async function encrypt(plaintext: Buffer, database = 'clinic', serverVersion = 'make-hostile'): Promise<Buffer> {
  const key = await createSealedKey(VECTOR_PASSWORD, SIGNING_KEY.publicKey, FAST_TEST_KDF);
  const w = createEncryptingWriter({ database, serverVersion, producerVersion: 'make-hostile', admin: { userNum: 1, userName: 'jsmith', lastLoginAt: null }, key, signingKey: SIGNING_KEY, chunkSize: 64 << 10, createdAt: new Date('2026-01-01T00:00:00Z') });
  const out: Buffer[] = [];
  await pipeline(Readable.from([plaintext]), w.stream, async function* (src: AsyncIterable<Buffer>) {
    for await (const b of src) out.push(b);
  });
  return Buffer.concat(out);
}

