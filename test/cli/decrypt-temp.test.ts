/**
 * The decrypted plaintext of a `decrypt --out` that is stopped never stays
 * on disk (issue #23, point 4): SIGTERM, SIGINT or SIGHUP remove the
 * half-written temporary before the process exits, and what SIGKILL leaves is
 * removed by the next decrypt to the same name, leaving other files alone.
 * The backup holds 40 MB of random bytes (MyISAM), so a decrypt runs long
 * enough to be caught midway.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backupOf, makeSource, passwordFile, tempDir } from '../helpers/backup.js';
import { dropTempDatabases, queryIn } from '../helpers/db.js';
import { CLI, runCli } from '../helpers/cli.js';

let dir: string;
let file: string;
let pwFile: string;

before(async () => {
  const source = await makeSource({ patients: 5, prefix: 'lr_dectmp' });
  // Random bytes do not compress: the payload stays about 40 MB whatever the format does.
  await queryIn(source, 'CREATE TABLE noise (id INT PRIMARY KEY, b BLOB) ENGINE=MyISAM');
  await queryIn(source, 'INSERT INTO noise SELECT seq, RANDOM_BYTES(1024) FROM seq_1_to_40000');
  dir = await tempDir('lr-dectmp-');
  file = (await backupOf(source, dir)).file;
  pwFile = await passwordFile(dir);
}, { timeout: 300_000 });
after(dropTempDatabases);

const temporaries = async (name: string) => (await readdir(dir)).filter((n) => n.startsWith(`.${name}.`) && n.endsWith('.tmp'));
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** Starts a decrypt to `name`, waits until its temporary holds data, sends `signal`; returns the exit and the temporary's name. */
async function stopMidway(name: string, signal: NodeJS.Signals): Promise<{ code: number | null; killedBy: NodeJS.Signals | null; stderr: string; tmp: string }> {
  const child = spawn(process.execPath, [CLI, 'decrypt', file, '--out', join(dir, name), '--password-file', pwFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; killedBy: NodeJS.Signals | null }>((ok) => child.on('close', (code, sig) => ok({ code, killedBy: sig })));
  let tmp: string | undefined;
  for (let i = 0; i < 2000 && !tmp; i++) {
    const [t] = await temporaries(name);
    if (t && (await stat(join(dir, t)).then((s) => s.size, () => 0)) > 1 << 20) tmp = t;
    else await sleep(5);
  }
  assert.ok(tmp, 'the decrypt was caught with a temporary of more than 1 MiB');
  child.kill(signal);
  return { ...(await exited), stderr, tmp };
}

for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  test(`${signal} midway: the partly decrypted file is removed, exit 1, one plain line`, async () => {
    const r = await stopMidway(`out-${signal}.tar`, signal);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`lastresort: stopped \\(${signal}\\); the partly decrypted file was removed\\.`));
    assert.deepEqual(await temporaries(`out-${signal}.tar`), []);
    assert.ok(!(await readdir(dir)).includes(`out-${signal}.tar`));
  });
}

test('SIGKILL leaves the temporary; the next decrypt to that name removes it and finishes, other files untouched', async () => {
  const r = await stopMidway('out.tar', 'SIGKILL');
  assert.equal(r.killedBy, 'SIGKILL');
  assert.deepEqual(await temporaries('out.tar'), [r.tmp], 'SIGKILL cannot be caught: the temporary is still there');
  // Not ours to remove: another name's temporary, a live writer's (this test process), and an unrelated file.
  const others = [`.other.tar.0123abcd.${r.tmp.split('.').at(-2)}.tmp`, `.out.tar.89abcdef.${process.pid}.tmp`, 'notes.tmp'];
  for (const n of others) await writeFile(join(dir, n), 'x');
  const again = await runCli(['decrypt', file, '--out', join(dir, 'out.tar'), '--password-file', pwFile]);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual((await temporaries('out.tar')).sort(), [`.out.tar.89abcdef.${process.pid}.tmp`]);
  for (const n of others) assert.ok((await readdir(dir)).includes(n), `${n} kept`);
  assert.ok((await stat(join(dir, 'out.tar'))).size > 40_000_000);
});
