/**
 * The codebase's own shape, checked as a test so a change cannot quietly
 * break it: no function in src/ over 100 lines, and no two folders of src/
 * importing each other (README, "Development").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const run = (script: string) => spawnSync(process.execPath, [join(ROOT, 'scripts', script)], { encoding: 'utf8' });

test('no function in src/ is over 100 lines', () => {
  const r = run('function-lengths.mjs');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /functions, none over 100 lines/);
});

test('no two folders of src/ import each other, and no longer cycle closes', () => {
  const r = run('folder-imports.mjs');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /no two folders import each other, no longer cycle/);
});
