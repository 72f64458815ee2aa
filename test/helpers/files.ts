/**
 * Test set-up that needs no server: temporary folders and the demo admin's
 * password. Kept apart from backup.ts (which reaches the database) so the
 * tests that use only these stay in `npm run test:unit`.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_ADMIN } from '../../fixtures/opendental.js';

export const PASSWORD = DEMO_ADMIN.password;
export const ADMIN = DEMO_ADMIN.userName;

export async function tempDir(prefix = 'lrtest-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A file holding the admin's password, for --password-file. */
export async function passwordFile(dir: string, password = PASSWORD): Promise<string> {
  const path = join(dir, 'password.txt');
  await writeFile(path, password + '\n', { mode: 0o600 });
  return path;
}
