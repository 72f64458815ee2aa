/**
 * Set-up for the service tests: a settings file in a fresh folder pointing at
 * a real database, a fake clock for the loop, tmpfs mounts for full and
 * read-only disks, and a port nothing listens on.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { passwordFile, tempDir } from '../helpers/backup.js';
import { compareDatabases, connectServer, createTempDatabase, describeDifferences, dsnFor } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import type { Clock } from '../../src/system/clock.js';
import { loadConfig, type ServiceConfig } from '../../src/service/config.js';

export interface ServiceDir {
  dir: string;
  configPath: string;
  outDir: string;
  logDir: string;
  stateFile: string;
}

/** A settings file for `database` in a new folder; `settings` override the test defaults. */
export async function serviceDir(database: string | null, settings: Partial<ServiceConfig> = {}): Promise<ServiceDir> {
  const dir = await tempDir('lrsvc-');
  const paths = { outDir: join(dir, 'out'), logDir: join(dir, 'log'), stateFile: join(dir, 'state.json') };
  const configPath = join(dir, 'config.json');
  await writeFile(configPath, JSON.stringify({ source: database ? dsnFor(database) : null, ...paths, ...settings }, null, 2), { mode: 0o600 });
  return { dir, configPath, ...paths };
}

export async function configOf(sd: ServiceDir): Promise<ServiceConfig> {
  return (await loadConfig(sd.configPath)).config;
}

/** Time that moves only when someone sleeps: a night passes in milliseconds. */
export class FakeClock implements Clock {
  sleeps = 0;
  constructor(public ms: number, private readonly limitMs = Infinity) {}
  now(): Date {
    return new Date(this.ms);
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps++;
    this.ms += Math.max(ms, 1);
    if (this.ms > this.limitMs) throw new Error('fake clock ran past its limit: the loop did not stop');
    await new Promise((r) => setImmediate(r));
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** Mounts a tmpfs at `dir` (root only); returns an error line when this machine does not allow it. */
export async function mountTmpfs(dir: string, options: string): Promise<string | null> {
  await mkdir(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  return r.status === 0 ? null : `cannot mount a tmpfs here: ${(r.stderr || r.error?.message || '').trim()}`;
}

export function unmount(dir: string): void {
  spawnSync('umount', [dir]);
}

/** Backups and temporaries in a folder, by kind. */
export async function filesIn(dir: string): Promise<{ backups: string[]; temporaries: string[]; all: string[] }> {
  const all = await readdir(dir).catch(() => [] as string[]);
  return { backups: all.filter((n) => n.endsWith('.lrb')), temporaries: all.filter((n) => n.endsWith('.tmp')), all };
}

/**
 * Restores a file the service made (through the CLI, with the test password)
 * into a new database and asserts it equals `source` through SQL. The
 * preference table is left out: the service records the backup's time in it
 * after the snapshot. Returns the restored database's name.
 */
export async function assertRestoresLikeSource(file: string, source: string, prefix: string): Promise<string> {
  const target = await createTempDatabase(prefix, { create: false });
  const pw = await passwordFile(await tempDir());
  const r = await runCli(['restore', file, '--target', dsnFor(target), '--password-file', pw, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const conn = await connectServer();
  let tables: string[];
  try {
    const [rows] = await conn.query(`SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME <> 'preference'`, [source]);
    tables = (rows as { t: string }[]).map((x) => x.t);
  } finally {
    await conn.end();
  }
  assert.ok(tables.length > 10);
  const diffs = await compareDatabases(source, target, { tables });
  assert.deepEqual(diffs, [], describeDifferences(diffs));
  return target;
}
