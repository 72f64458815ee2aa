/**
 * Set-up for the recover tests: a real source database and its real backup,
 * damaged copies made the way a bad disk would (bytes overwritten in the
 * middle), and restored databases dropped when the test file ends.
 */
import { chmod, copyFile, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after } from 'node:test';
import { backupOf, makeSource, passwordFile, tempDir } from '../../helpers/backup.js';
import { connectServer, dropDatabase } from '../../helpers/db.js';
import { quoteId } from '../../../src/db/connect.js';

export { PASSWORD } from '../../helpers/backup.js';

export interface SourceBackup {
  database: string;
  file: string;
  dir: string;
  passwordFile: string;
}

const scratch = new Set<string>();

/** A temporary folder, removed with everything in it when the test file ends. */
export async function scratchDir(prefix: string): Promise<string> {
  const dir = await tempDir(prefix);
  scratch.add(dir);
  // As root a sandbox in here runs as the lastresort-sandbox account, which must pass through (not list) mkdtemp's 0700.
  if (process.getuid?.() === 0) await chmod(dir, 0o711);
  return dir;
}

export async function sourceWithBackup(opts: { patients: number; prefix: string }): Promise<SourceBackup> {
  const database = await makeSource({ patients: opts.patients, prefix: opts.prefix });
  const dir = await scratchDir('lr-recover-');
  const result = await backupOf(database, dir);
  return { database, file: result.file, dir, passwordFile: await passwordFile(dir) };
}

/**
 * A copy of `file` with 16 bytes overwritten at each fraction of its size,
 * all well past the header (the first 100 KB), as a failing disk would.
 */
export async function damagedCopy(file: string, dest: string, fractions = [0.05, 0.22, 0.41]): Promise<number[]> {
  await copyFile(file, dest);
  const size = (await stat(dest)).size;
  const offsets = fractions.map((f) => Math.floor(size * f));
  if (offsets.some((o) => o < 100_000)) throw new Error(`the backup (${size} bytes) is too small to damage past its first 100 KB`);
  const fh = await open(dest, 'r+');
  try {
    for (const o of offsets) await fh.write(Buffer.alloc(16, 0xaa), 0, 16, o);
  } finally {
    await fh.close();
  }
  return offsets;
}

const restored = new Set<string>();

/** A database the recovery will create: dropped when the test file ends. */
export function willCreate(name: string): string {
  restored.add(name);
  return name;
}

after(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
  if (process.env.LASTRESORT_KEEP_DBS === '1') return;
  for (const name of restored) await dropDatabase(name).catch(() => {});
});

export async function tableNames(database: string): Promise<string[]> {
  const conn = await connectServer();
  try {
    const [rows] = (await conn.query('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME', [database])) as unknown as [{ t: string }[]];
    return rows.map((r) => r.t);
  } finally {
    await conn.end();
  }
}

export async function rowCount(database: string, table: string): Promise<number> {
  const conn = await connectServer();
  try {
    const [[r]] = (await conn.query(`SELECT COUNT(*) AS n FROM ${quoteId(database)}.${quoteId(table)}`)) as unknown as [{ n: number | string }[]];
    return Number(r.n);
  } finally {
    await conn.end();
  }
}

/** The report files the recovery wrote into `dir` (by extension). */
export async function reportsIn(dir: string): Promise<{ json: string[]; html: string[]; md: string[] }> {
  const names = await readdir(dir);
  const pick = (ext: string) => names.filter((n) => n.endsWith(ext)).map((n) => join(dir, n));
  return { json: pick('.json'), html: pick('.html'), md: pick('.md') };
}
