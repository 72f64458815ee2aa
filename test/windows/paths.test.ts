/**
 * Paths as a Windows server's settings hold them (path.win32 rules, tested on
 * Linux by passing the platform): drive letters, shares, spaces, %VAR%, and
 * the defaults under %ProgramData%\lastresort.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { win32 } from 'node:path';
import { absoluteHint, expandEnvVars, isAbsoluteFor } from '../../src/system/win-path.js';
import { defaultConfigPath, defaultPlaces, windowsHome } from '../../src/system/paths.js';
import { backupFileName } from '../../src/backup/names.js';
import { isLrError } from '../../src/errors.js';

test('absolute on Windows: a drive and its root, or a share; not a bare name, a drive-relative or a rooted path without a drive', () => {
  for (const p of ['C:\\ProgramData\\lastresort', 'd:/backups', 'E:\\Open Dental Backups\\nightly', '\\\\nas\\backups\\lastresort', '//nas/backups']) assert.equal(isAbsoluteFor(p, 'win32'), true, p);
  for (const p of ['backups', 'C:backups', '\\backups', '/var/backups', '\\\\nas', '']) assert.equal(isAbsoluteFor(p, 'win32'), false, p);
  assert.equal(isAbsoluteFor('/var/backups', 'linux'), true);
  assert.equal(isAbsoluteFor('C:\\x', 'linux'), false);
  assert.match(absoluteHint('win32'), /C:\\.*\\\\server\\share/);
});

test('%VAR% in a Windows path comes from the environment, names in any case; one that is not set is refused in one line', () => {
  const env = { ProgramData: 'C:\\ProgramData', USERPROFILE: 'C:\\Users\\Front Desk' };
  assert.equal(expandEnvVars('%ProgramData%\\lastresort\\backups', env, 'win32'), 'C:\\ProgramData\\lastresort\\backups');
  assert.equal(expandEnvVars('%PROGRAMDATA%\\x', env, 'win32'), 'C:\\ProgramData\\x');
  assert.equal(expandEnvVars('%userprofile%\\Desktop\\restore report', env, 'win32'), 'C:\\Users\\Front Desk\\Desktop\\restore report');
  assert.equal(expandEnvVars('\\\\nas\\share 100%\\x', env, 'win32'), '\\\\nas\\share 100%\\x', 'a lone % stays');
  assert.throws(() => expandEnvVars('%NOPE%\\x', env, 'win32'), (e) => isLrError(e, 'LR_BAD_CONFIG') && /%NOPE%/.test((e as Error).message) && !(e as Error).message.includes('\n'));
  assert.equal(expandEnvVars('/srv/%ProgramData%', env, 'linux'), '/srv/%ProgramData%', 'on Linux % means nothing');
});

test('Windows defaults: settings, backups, log and state under %ProgramData%\\lastresort', () => {
  const saved = process.env.ProgramData;
  process.env.ProgramData = 'D:\\ProgramData';
  try {
    assert.equal(windowsHome(), 'D:\\ProgramData\\lastresort');
    assert.equal(defaultConfigPath('win32'), 'D:\\ProgramData\\lastresort\\config.json');
    assert.deepEqual(defaultPlaces('win32'), { outDir: 'D:\\ProgramData\\lastresort\\backups', logDir: 'D:\\ProgramData\\lastresort\\log', stateFile: 'D:\\ProgramData\\lastresort\\state.json' });
  } finally {
    if (saved === undefined) delete process.env.ProgramData;
    else process.env.ProgramData = saved;
  }
  assert.equal(windowsHome({}), 'C:\\ProgramData\\lastresort');
});

test('a backup file name is a valid Windows file name, joined under a path with spaces and a share', () => {
  const name = backupFileName('opendental', new Date(2026, 11, 7, 2, 15, 0));
  assert.doesNotMatch(name, /[<>:"/\\|?*]/, 'no character Windows refuses in a name');
  assert.equal(win32.basename(win32.join('\\\\nas\\Open Dental Backups', name)), name);
  assert.equal(win32.dirname(win32.join('C:\\Backups Here', name)), 'C:\\Backups Here');
});
