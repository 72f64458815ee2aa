/**
 * README, "Set up": the documented step that puts `lastresort` on the PATH
 * (`npm install -g .` in the project folder) is run as written, into a
 * temporary npm prefix (npm_config_prefix, so nothing on this machine's PATH
 * changes), and `lastresort --help` then runs from another folder by its
 * bare name. The project is copied (sources and package files; node_modules
 * linked) so the build npm runs writes into the copy, not under the tests
 * that are running this project's dist/ at the same time.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, lstat, readFile, realpath, rm, symlink } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '../helpers/files.js';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const made: string[] = [];
after(async () => {
  for (const dir of made) await rm(dir, { recursive: true, force: true });
});

/** The command the README's set-up block gives for the PATH, exactly as a person would copy it. */
async function documentedStep(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const setUp = readme.slice(readme.indexOf('## Set up'), readme.indexOf('## Commands'));
  const block = /```sh\n([\s\S]*?)```/.exec(setUp)?.[1] ?? '';
  const line = block.split('\n').find((l) => /\bon the PATH\b/.test(l));
  assert.ok(line, `the README's set-up block has no step that puts lastresort on the PATH:\n${block}`);
  return line.replace(/\s+#.*$/, '').trim();
}

test("the README's set-up step puts lastresort on the PATH: `lastresort --help` runs from another folder", { timeout: 300_000 }, async () => {
  const step = await documentedStep();
  assert.equal(step, 'npm install -g .');
  const project = await tempDir('lr-onpath-project-');
  const prefix = await tempDir('lr-onpath-prefix-');
  const elsewhere = await tempDir('lr-onpath-cwd-');
  made.push(project, prefix, elsewhere);
  for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src']) await cp(join(ROOT, f), join(project, f), { recursive: true });
  await symlink(join(ROOT, 'node_modules'), join(project, 'node_modules'));

  const env = { ...process.env, npm_config_prefix: prefix, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
  await run('sh', ['-c', step], { cwd: project, env, timeout: 280_000 });

  const bin = process.platform === 'win32' ? prefix : join(prefix, 'bin');
  const linked = join(bin, 'lastresort');
  assert.ok((await lstat(linked)).isSymbolicLink(), `${linked} should link to the project`);
  assert.equal(await realpath(linked), await realpath(join(project, 'dist', 'cli.js')));

  // From another folder, by its bare name, as every command the tool prints is written.
  const onPath = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` };
  const help = await run('sh', ['-c', 'lastresort --help'], { cwd: elsewhere, env: onPath });
  assert.match(help.stdout, /Usage: lastresort/);
  assert.match(help.stdout, /recover/);
  const which = await run('sh', ['-c', 'command -v lastresort'], { cwd: elsewhere, env: onPath });
  assert.equal(which.stdout.trim(), linked);
});
