/**
 * The service log: JSON lines in logDir, mode 0600, rotated by size and by
 * local day with an injected clock, old files pruned, secrets redacted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/files.js';
import { LOG_FILE_NAME, RotatingLogFile, serviceLogger } from '../../src/service/log-file.js';

const line = (i: number) => JSON.stringify({ i, pad: 'x'.repeat(80) }) + '\n';

test('rotates past maxBytes and keeps only the newest keepFiles', async () => {
  const dir = await tempDir('lrsvc-log-');
  let now = new Date(2025, 5, 2, 10, 0, 0).getTime();
  const file = new RotatingLogFile(dir, { maxBytes: 1000, keepFiles: 3, now: () => new Date((now += 1000)) });
  for (let i = 0; i < 60; i++) file.write(line(i));
  file.close();
  const names = (await readdir(dir)).sort();
  assert.equal(names.length, 4, names.join(' ')); // the current file and three rotated ones
  assert.ok(names.includes(LOG_FILE_NAME));
  for (const n of names) {
    const s = await stat(join(dir, n));
    assert.ok(s.size <= 1000, `${n} ${s.size}`);
    assert.equal(s.mode & 0o777, 0o600);
  }
  // Nothing is lost from the newest files: the last line written is in the current file, whole.
  const current = (await readFile(join(dir, LOG_FILE_NAME), 'utf8')).trim().split('\n');
  assert.equal(JSON.parse(current.at(-1)!).i, 59);
});

test('a new local day starts a new file, also when the service restarts on a later day', async () => {
  const dir = await tempDir('lrsvc-logday-');
  let now = new Date(2025, 5, 2, 23, 59, 0);
  const file = new RotatingLogFile(dir, { now: () => now });
  file.write(line(1));
  now = new Date(2025, 5, 3, 0, 0, 30);
  file.write(line(2));
  file.close();
  let names = (await readdir(dir)).sort();
  assert.deepEqual(names, [LOG_FILE_NAME, `${LOG_FILE_NAME}.2025-06-02T235900`]);
  assert.equal(JSON.parse(await readFile(join(dir, LOG_FILE_NAME), 'utf8')).i, 2);

  // Restart two days later: the file from 3 June belongs to that day and is rotated first.
  await utimes(join(dir, LOG_FILE_NAME), new Date(2025, 5, 3, 0, 0, 30), new Date(2025, 5, 3, 0, 0, 30));
  now = new Date(2025, 5, 5, 9, 0, 0);
  const again = new RotatingLogFile(dir, { now: () => now });
  again.write(line(3));
  again.close();
  names = (await readdir(dir)).sort();
  assert.equal(names.length, 3, names.join(' '));
  assert.ok(names.includes(`${LOG_FILE_NAME}.2025-06-03T000030`));
});

test('the service logger writes JSON lines with the component and redacts secrets by key', async () => {
  const dir = await tempDir('lrsvc-logredact-');
  const file = new RotatingLogFile(dir);
  const logger = serviceLogger(file).child({ component: 'service' });
  logger.info({ outcome: 'ok', bytes: 42, password: 'hunter2', source: 'mysql://u:pw@h/db', key: 'k3y' }, 'backup cycle finished');
  file.close();
  const text = await readFile(join(dir, LOG_FILE_NAME), 'utf8');
  const entry = JSON.parse(text);
  assert.equal(entry.component, 'service');
  assert.equal(entry.outcome, 'ok');
  assert.equal(entry.bytes, 42);
  assert.doesNotMatch(text, /hunter2|pw@h|k3y/);
});
