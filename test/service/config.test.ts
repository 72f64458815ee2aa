/**
 * `config show` and `config set` through the real CLI: defaults, a file
 * written 0600 holding only what was set, every bad value refused with its
 * reason (exit 2), no password accepted on the command line or ever shown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir } from '../helpers/files.js';
import { runCli } from '../helpers/cli.js';
import { defaultConfig, loadConfig, resolveSource, setConfigValue, valueFromText } from '../../src/service/config.js';
import { LrError } from '../../src/errors.js';
import { defaultConfigPath, runsAsRoot } from '../../src/system/paths.js';

async function freshConfigPath(): Promise<string> {
  return join(await tempDir('lrsvc-cfg-'), 'etc', 'config.json');
}

test('a missing file shows the defaults; the default location depends on the account', async () => {
  const path = await freshConfigPath();
  const r = await runCli(['config', 'show', '--json', '--config', path]);
  assert.equal(r.code, 0, r.stderr);
  const shown = JSON.parse(r.stdout);
  assert.equal(shown.exists, false);
  assert.deepEqual(shown.settings, defaultConfig());
  assert.equal(shown.settings.window, '22:00-04:00');
  assert.equal(shown.settings.enabled, true);
  assert.equal(defaultConfigPath(), runsAsRoot() ? '/etc/lastresort/config.json' : defaultConfigPath());
  if (runsAsRoot()) assert.equal(shown.settings.outDir, '/var/backups/lastresort');
});

test('config set saves only what was set, mode 0600, and show marks the rest as defaults', async () => {
  const path = await freshConfigPath();
  // Two through the CLI, the rest through the same functions it calls (each spawn costs half a second).
  for (const [k, v] of [['source', 'mysql://backup@10.0.0.5:3306/opendental'], ['enabled', 'off']]) {
    const r = await runCli(['config', 'set', k!, v!, '--config', path]);
    assert.equal(r.code, 0, `${k}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^${k} = .* saved in ${path}`));
  }
  for (const [k, v] of [['copyTo', '/mnt/nas/lastresort'], ['window', '23:30-05:00'], ['keep', '14'], ['exclude', 'etransmessagetext, securityloghash'], ['maxRate', '5000000']]) {
    const { key, value } = valueFromText(k!, v!);
    await setConfigValue(path, key, value);
  }
  const file = JSON.parse(await readFile(path, 'utf8'));
  assert.deepEqual(Object.keys(file).sort(), ['copyTo', 'enabled', 'exclude', 'keep', 'maxRate', 'source', 'window']);
  assert.deepEqual(file.exclude, ['etransmessagetext', 'securityloghash']);
  assert.equal(file.enabled, false);
  assert.equal(file.keep, 14);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  const human = await runCli(['config', 'show', '--config', path]);
  assert.match(human.stdout, /keep\s+14\n/);
  assert.match(human.stdout, /logDir\s+\S+\s+\(default\)/);
  assert.match(human.stdout, /enabled\s+off\n/);
  // An empty value puts the default back.
  const reset = await runCli(['config', 'set', 'keep', '', '--config', path]);
  assert.equal(reset.code, 0, reset.stderr);
  assert.equal((await loadConfig(path)).config.keep, 7);
  assert.equal('keep' in JSON.parse(await readFile(path, 'utf8')), false);
});

test('bad values are refused with the reason and exit 2; the file is unchanged', async () => {
  const cases: [string, string, RegExp][] = [
    ['keep', '0', /keep must be a whole number from 1 to 1000/],
    ['keep', 'many', /keep must be a whole number/],
    ['window', '22:00', /window must be two local times like 22:00-04:00/],
    ['window', '04:00-04:00', /must not start and end at the same time/],
    ['enabled', 'maybe', /enabled must be on or off/],
    ['outDir', 'backups', /outDir must be an absolute path/],
    ['copyTo', 'nas/share', /copyTo must be an absolute path/],
    ['source', 'postgres://x/y', /start with mysql:\/\//],
    ['source', 'mysql://10.0.0.5:3306', /names no database/],
    ['maxRate', '10', /maxRate must be a whole number of bytes per second, at least 1024/],
    ['colour', 'blue', /There is no setting called "colour"/],
  ];
  for (const [key, value, reason] of cases) {
    assert.throws(() => valueFromText(key, value), (e: unknown) => e instanceof LrError && e.exitCode === 2 && reason.test(e.message), `${key}=${value}`);
  }
  // And through the CLI: exit 2, one line, the file untouched.
  const path = await freshConfigPath();
  await runCli(['config', 'set', 'keep', '3', '--config', path]);
  const before = await readFile(path, 'utf8');
  for (const [key, value, reason] of [cases[0]!, cases[2]!]) {
    const r = await runCli(['config', 'set', key, value, '--config', path]);
    assert.equal(r.code, 2, `${key}=${value}: ${r.stderr}`);
    assert.match(r.stderr, reason);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  assert.equal(await readFile(path, 'utf8'), before);
});

test('a database password is refused on the command line, read from sourcePasswordFile, and never shown', async () => {
  const path = await freshConfigPath();
  const r = await runCli(['config', 'set', 'source', 'mysql://backup:S3cret-pw@db/opendental', '--config', path]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /must not contain the database password on the command line.*sourcePasswordFile/);
  assert.doesNotMatch(r.stderr, /S3cret-pw/);

  const dir = await tempDir('lrsvc-pw-');
  const pwFile = join(dir, 'db-password');
  await writeFile(pwFile, 'S3cret-pw\n', { mode: 0o600 });
  assert.equal((await runCli(['config', 'set', 'source', 'mysql://backup@db/opendental', '--config', path])).code, 0);
  assert.equal((await runCli(['config', 'set', 'sourcePasswordFile', pwFile, '--config', path])).code, 0);
  assert.equal((await resolveSource((await loadConfig(path)).config)).password, 'S3cret-pw');

  // A password written into the file by hand is accepted, but show hides it.
  const handWritten = await freshConfigPath();
  await runCli(['config', 'set', 'keep', '2', '--config', handWritten]);
  // 127.0.0.1:1 refuses at once, so status does not wait on a name lookup.
  await writeFile(handWritten, JSON.stringify({ source: 'mysql://backup:S3cret-pw@127.0.0.1:1/opendental' }));
  for (const args of [['config', 'show'], ['config', 'show', '--json'], ['status', '--json']]) {
    const shown = await runCli([...args, '--config', handWritten]);
    assert.doesNotMatch(shown.stdout + shown.stderr, /S3cret-pw/, args.join(' '));
  }
  assert.match((await runCli(['config', 'show', '--config', handWritten])).stdout, /mysql:\/\/backup:\*\*\*@127\.0\.0\.1:1\/opendental/);
});

test('a damaged or unknown settings file stops the service with a plain line (exit 2)', async () => {
  const path = await freshConfigPath();
  const missing = await runCli(['daemon', '--once', '--config', path]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /There are no settings at .* yet\. Set the database first: lastresort config set source/);

  await runCli(['config', 'set', 'keep', '2', '--config', path]);
  await writeFile(path, '{ "keep": 2, ');
  const broken = await runCli(['daemon', '--once', '--config', path]);
  assert.equal(broken.code, 2);
  assert.match(broken.stderr, /is not valid JSON/);

  await writeFile(path, JSON.stringify({ keep: 2, colour: 'blue' }));
  const unknown = await runCli(['status', '--config', path]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown setting "colour"/);

  await writeFile(path, JSON.stringify({ keep: 2 }));
  const noSource = await runCli(['daemon', '--once', '--config', path]);
  assert.equal(noSource.code, 2);
  assert.match(noSource.stderr, /No database is set for the nightly backup/);
});
