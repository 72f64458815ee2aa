/**
 * A good backup to damage: a fresh Open Dental-shaped (or exotic) source
 * database with jsmith enrolled, backed up with small chunks and pieces so
 * that a small database spans many of both; plus its whole plaintext and the
 * row map that damage is measured against.
 */
import { readFile, rm } from 'node:fs/promises';
import { backupOf, makeSource, PASSWORD, tempDir } from '../helpers/backup.js';
import { layoutOf, type FileLayout } from './inject.js';
import { decryptWhole, mapRows, type RowMap } from './row-map.js';

export { PASSWORD };

export interface GoodBackup {
  source: string;
  dir: string;
  file: string;
  bytes: Buffer;
  layout: FileLayout;
  plaintext: Buffer;
  map: RowMap;
  chunkSize: number;
  cleanup: () => Promise<void>;
}

export interface GoodBackupOptions {
  prefix: string;
  kind?: 'opendental' | 'exotic';
  patients?: number;
  chunkSize?: number;
  pieceBytes?: number;
}

export async function makeGoodBackup(o: GoodBackupOptions): Promise<GoodBackup> {
  const source = await makeSource({ kind: o.kind, patients: o.patients, prefix: o.prefix });
  const dir = await tempDir('lr-damage-');
  const chunkSize = o.chunkSize ?? 4096;
  const { file } = await backupOf(source, dir, { chunkSize, pieceBytes: o.pieceBytes ?? 64 * 1024 });
  const bytes = await readFile(file);
  const plaintext = await decryptWhole(file, PASSWORD);
  return { source, dir, file, bytes, layout: layoutOf(bytes), plaintext, map: mapRows(plaintext), chunkSize, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
