/**
 * The password questions after the admin changed their Open Dental password
 * since setting up the backup key, driven in a real terminal at 100, 80 and
 * 60 columns: every retry line and the final advice name the same day as the
 * first screen (the day the key was set up), never the backup's own time,
 * which would name the one password that cannot work. A password with a
 * space at either end gets a hint. Neither the password nor its length is
 * ever on the screen.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { locateHeader } from '../../src/format/reader.js';
import { adminRecipients } from '../../src/format/header.js';
import { shortDate } from '../../src/keys/choose.js';
import { hashOpenDentalPassword } from '../../src/opendental/password.js';
import { humanDate } from '../../src/text.js';
import { backupOf, makeSource } from '../helpers/backup.js';
import { createTempDatabase, queryIn } from '../helpers/db.js';
import { PASSWORD, scratchDir, tableNames, willCreate } from './helpers/setup.js';
import { requireTool, Terminal } from './helpers/terminal.js';

const SERVER = 'mysql://root@127.0.0.1:3306';
const NEW_PASSWORD = 'Spring Flowers 2026';
const terminals: Terminal[] = [];
const flat = (text: string) => text.replace(/\/\n +/g, '/').replace(/\s+/g, ' ');

describe('recover after a password change, in a terminal', { timeout: 180_000 }, () => {
  let file = '';
  let keyDay = '';
  let backupTime = '';

  before(async () => {
    requireTool('tmux');
    // MyISAM and InnoDB tables both (userod InnoDB, the rest MyISAM).
    const source = await makeSource({ patients: 20, prefix: 'lr_pwchg', engine: { '*': 'MyISAM', userod: 'InnoDB' } });
    await queryIn(source, 'UPDATE userod SET Password = ? WHERE UserName = ?', [hashOpenDentalPassword(NEW_PASSWORD), 'jsmith']);
    const dir = await scratchDir('lr-pwchg-');
    const r = await backupOf(source, dir, { now: new Date(Date.now() + 12_000) });
    assert.ok(r.problems.some((p) => p.code === 'KEY_STALE'), 'the backup must know the password changed');
    file = r.file;
    const header = (await locateHeader(file)).header;
    assert.equal(adminRecipients(header)[0]?.passwordChangedSince, true);
    keyDay = shortDate(adminRecipients(header)[0]!.enrolledAt);
    backupTime = humanDate(header.createdAt);
  });
  after(async () => {
    for (const t of terminals) await t.close();
  });

  for (const columns of [100, 80, 60]) {
    it(`at ${columns} columns: the same date sentence on every line, the space hint, no password shown`, async () => {
      const cwd = await scratchDir('lr-pwchg-tty-');
      const name = willCreate(await createTempDatabase(`lr_pwchg_${columns}`, { create: false }));
      const t = await Terminal.start({ cwd, args: ['recover', file, '--target', `${SERVER}/${name}`], columns });
      terminals.push(t);
      const guesses = [`${NEW_PASSWORD} `, NEW_PASSWORD, ` ${PASSWORD}`];
      for (const [i, guess] of guesses.entries()) {
        await t.waitFor('? Password of jsmith');
        await t.type(guess);
        await t.press('Enter');
        await t.waitFor(new RegExp(`try\\s+${i + 1}\\s+of\\s+3`));
      }
      const { code, text } = await t.exit();
      assert.equal(code, 4, text);
      const screen = flat(text);
      const sentence = `as it was on ${keyDay}, when jsmith set up the backup key`;
      // The first screen, both retry lines and the advice: four times the same sentence.
      assert.equal(screen.split(sentence).length - 1, 4, screen);
      assert.ok(!screen.includes('when the backup was made'), screen);
      // The first line names when the backup was made; from the first question on, nothing does.
      const asked = screen.slice(screen.indexOf('Password of jsmith'));
      assert.ok(!asked.includes(backupTime), `the backup's time (${backupTime}) must not be named:\n${asked}`);
      assert.match(screen, /try 1 of 3\)\. It starts or ends with a space: Open Dental passwords rarely do; try it without\./);
      assert.match(screen, /try 3 of 3\)\. It starts or ends with a space/);
      assert.doesNotMatch(screen, /try 2 of 3\)\. It starts or ends with a space/, 'no hint for a password without spaces at its ends');
      assert.match(screen, /jsmith has changed it since: the older password is the one needed, not the one jsmith uses today\./);
      for (const g of guesses) assert.ok(!text.includes(g.trim()), 'a password appeared on the screen');
      assert.doesNotMatch(text, /\*{3,}/, 'masking stars would show the password\'s length');
      assert.deepEqual(t.tooWide(), [], `lines wider than ${columns} columns`);
      assert.deepEqual(await tableNames(name), [], 'nothing may be created after wrong passwords');
    });
  }
});
