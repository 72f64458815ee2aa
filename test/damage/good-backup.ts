/**
 * A good backup to damage: a fresh Open Dental-shaped (or exotic) source
 * database with jsmith enrolled, backed up with small chunks and pieces so
 * that a small database spans many of both; plus its whole plaintext and the
 * row map that damage is measured against.
 */
import { readFile, rm } from 'node:fs/promises';
import { backupOf, makeSource, PASSWORD, tempDir } from '../helpers/backup.js';
import { MAGIC_PREFIX } from '../../src/format/limits.js';
import { layoutOf, type FileLayout } from './inject.js';
import { decryptWhole, mapRows, type RowMap } from './row-map.js';
import type { Engine } from '../../fixtures/lib/engine.js';

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
  formatVersion: number;
  cleanup: () => Promise<void>;
}

export interface GoodBackupOptions {
  prefix: string;
  kind?: 'opendental' | 'exotic';
  patients?: number;
  chunkSize?: number;
  pieceBytes?: number;
  /** The format version to write (the writer's default when not given). */
  formatVersion?: number;
  /** The source's engine (default: ENGINE_OF_VERSION). */
  engine?: Engine;
}

/** Runs `fn` with the backup writer's default version set to `version` (LASTRESORT_FORMAT_VERSION), then puts it back. */
export async function withWriteVersion<T>(version: number | undefined, fn: () => Promise<T>): Promise<T> {
  if (version === undefined) return fn();
  const before = process.env.LASTRESORT_FORMAT_VERSION;
  process.env.LASTRESORT_FORMAT_VERSION = String(version);
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.LASTRESORT_FORMAT_VERSION;
    else process.env.LASTRESORT_FORMAT_VERSION = before;
  }
}

/** The versions the damage suite runs on: every version a reader opens (version 2 files open forever). */
export const DAMAGE_VERSIONS = [2, 3] as const;

/**
 * Each version's run on one engine, so the suite covers both engines at no
 * extra cost: version 3 (what is written today) on MyISAM (what practices
 * run), version 2 on InnoDB.
 */
export const ENGINE_OF_VERSION: Record<(typeof DAMAGE_VERSIONS)[number], Engine> = { 2: 'InnoDB', 3: 'MyISAM' };

/** The describe() name of a version's run. */
export const damageRun = (version: (typeof DAMAGE_VERSIONS)[number]) => `format version ${version}, ${ENGINE_OF_VERSION[version]} source`;

export async function makeGoodBackup(o: GoodBackupOptions): Promise<GoodBackup> {
  const engine = o.engine ?? (o.formatVersion === 2 || o.formatVersion === 3 ? ENGINE_OF_VERSION[o.formatVersion] : 'MyISAM');
  const source = await makeSource({ kind: o.kind, patients: o.patients, prefix: o.prefix, engine: o.kind === 'exotic' ? undefined : engine });
  const dir = await tempDir('lr-damage-');
  const chunkSize = o.chunkSize ?? 4096;
  const file = await withWriteVersion(o.formatVersion, async () => (await backupOf(source, dir, { chunkSize, pieceBytes: o.pieceBytes ?? 64 * 1024 })).file);
  const bytes = await readFile(file);
  const plaintext = await decryptWhole(file, PASSWORD);
  const layout = layoutOf(bytes);
  const formatVersion = Number(bytes.toString('latin1', MAGIC_PREFIX.length, MAGIC_PREFIX.length + 1));
  if (o.formatVersion !== undefined && formatVersion !== o.formatVersion) throw new Error(`asked for a version ${o.formatVersion} backup, got ${formatVersion}`);
  return { source, dir, file, bytes, layout, plaintext, map: mapRows(plaintext), chunkSize, formatVersion, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
