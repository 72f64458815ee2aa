/**
 * `check` on damaged backups: without the password it lists the damaged
 * chunk ranges (frame checksums only); with it, it also names the tables
 * each range falls in. The truth is computed here from the good file's
 * plaintext: every entry whose bytes (header to padded end) meet the range.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkFile } from '../../src/identify/check.js';
import { isLrError } from '../../src/errors.js';
import { dropTempDatabases } from '../helpers/db.js';
import { passwordFile } from '../helpers/backup.js';
import { runCli } from '../helpers/cli.js';
import { injectDamage, type Damage, type DamageKind } from './inject.js';
import { DAMAGE_VERSIONS, damageRun, makeGoodBackup, PASSWORD, type GoodBackup } from './good-backup.js';
import { toRanges } from './verify.js';

let good: GoodBackup;
let pwFile: string;

// Every version a reader opens: version 2 (chunks stored as they are) and 3 (each chunk's span a zstd frame, sealed).
for (const version of DAMAGE_VERSIONS) describe(damageRun(version), () => {
  before(async () => {
    good = await makeGoodBackup({ prefix: 'lrchk_src', patients: 120, formatVersion: version });
    pwFile = await passwordFile(good.dir);
  });
  after(async () => {
    await good?.cleanup();
    await dropTempDatabases();
  });

  async function damaged(kind: DamageKind, seed: number): Promise<{ damage: Damage; file: string }> {
    const damage = injectDamage(good.bytes, good.layout, kind, seed);
    const file = join(good.dir, `${kind}-${seed}.lrb`);
    await writeFile(file, damage.bytes);
    return { damage, file };
  }

  /** Table names whose entries meet plaintext [start, end), from the good file's own map. */
  function tablesMeeting(start: number, end: number): string[] {
    const out = new Set<string>();
    for (const e of good.map.entries) {
      const paddedEnd = e.dataStart + Math.ceil((e.dataEnd - e.dataStart) / 512) * 512;
      if (!(e.headerStart < end && start < paddedEnd)) continue;
      if (e.pax['LR.table'] !== undefined) out.add(e.pax['LR.table']);
      else if (/^tables\/\d{5}\/summary\.json$/.test(e.path)) out.add((JSON.parse(good.plaintext.toString('utf8', e.dataStart, e.dataEnd)) as { name: string }).name);
    }
    return [...out].sort();
  }

  for (const [kind, seed] of [['flip-5', 1], ['flip-20', 2], ['zero-1mib', 1], ['delete-1000', 3], ['insert-1000', 1]] as [DamageKind, number][]) {
    test(`${kind} (seed ${seed}): check lists the damaged chunks, and with the password the tables they fall in`, async () => {
      const { damage, file } = await damaged(kind, seed);
      const plain = await checkFile(file);
      assert.deepEqual(plain.damagedRanges, toRanges(damage.lostChunks), damage.note);
      assert.equal(plain.intact, false);
      assert.equal(plain.places, undefined, 'no tables without the password');

      const keyed = await checkFile(file, { password: PASSWORD });
      assert.deepEqual(keyed.damagedRanges, plain.damagedRanges, 'authentication agrees with the checksums');
      assert.equal(keyed.places!.length, plain.damagedRanges.length);
      for (const p of keyed.places!) {
        const expected = tablesMeeting(p.from * good.chunkSize, (p.to! + 1) * good.chunkSize);
        assert.deepEqual([...p.tables].sort(), expected, `chunks ${p.from}-${p.to}`);
      }
    });
  }

  test('a truncated file: the last place runs to the end and names every table from the cut on', async () => {
    const { damage, file } = await damaged('truncate-random', 4);
    const r = await checkFile(file, { password: PASSWORD });
    assert.equal(r.truncated, true);
    const last = r.places![r.places!.length - 1]!;
    assert.equal(last.to, null);
    assert.equal(last.from, damage.lostChunks[0]);
    assert.deepEqual([...last.tables].sort(), tablesMeeting(last.from * good.chunkSize, Infinity), damage.note);
    assert.ok(last.other.includes('manifest'));
  });

  test('an intact file checks out with and without the password', async () => {
    for (const password of [undefined, PASSWORD]) {
      const r = await checkFile(good.file, { password });
      assert.equal(r.intact, true);
      assert.equal(r.chunks, good.layout.frames.length);
      assert.deepEqual(r.places ?? [], []);
    }
  });

  test('check with the wrong password is LR_WRONG_PASSWORD', async () => {
    await assert.rejects(checkFile(good.file, { password: 'not it' }), (err: unknown) => isLrError(err, 'LR_WRONG_PASSWORD'));
  });

  test('the CLI: check exits 3 and lists chunks; with --password-file it names the tables; wrong password exits 4', async () => {
    const { damage, file } = await damaged('flip-5', 5);
    const plain = await runCli(['check', file, '--json']);
    assert.equal(plain.code, 3, plain.stderr);
    const pj = JSON.parse(plain.stdout);
    assert.deepEqual(pj.damagedRanges, toRanges(damage.lostChunks));
    assert.equal(pj.places, undefined);

    const keyed = await runCli(['check', file, '--json', '--password-file', pwFile]);
    assert.equal(keyed.code, 3, keyed.stderr);
    const kj = JSON.parse(keyed.stdout);
    assert.equal(kj.places.length, pj.damagedRanges.length);
    const human = await runCli(['check', file, '--password-file', pwFile]);
    assert.equal(human.code, 3);
    for (const p of kj.places) for (const t of p.tables) assert.ok(human.stdout.includes(t), `${t} named in the human output`);
    assert.ok(!human.stdout.includes(PASSWORD) && !human.stderr.includes(PASSWORD), 'the password is never printed');

    const wrong = join(good.dir, 'wrong.txt');
    await writeFile(wrong, 'not the password\n');
    const w = await runCli(['check', file, '--password-file', wrong]);
    assert.equal(w.code, 4, w.stderr);
    const whole = await runCli(['check', good.file, '--password-file', pwFile]);
    assert.equal(whole.code, 0, whole.stderr);
  });
});
