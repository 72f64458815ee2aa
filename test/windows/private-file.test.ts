/**
 * Files only administrators can read on Windows: the icacls command the tool
 * runs, checked as built (Wine's icacls accepts it and does nothing, so the
 * ACL itself is proven only on Windows), and the judge of an ACL as icacls
 * /save writes it (SDDL). On Linux the mode check stays as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { icaclsPath, judgeSddl, openToOthers, privateAclArgs, privateFix, PRIVATE_SIDS } from '../../src/system/private-file.js';
import { tempDir } from '../helpers/files.js';

test('the icacls command: full path, inheritance removed, only SYSTEM, Administrators and the owner, by SID', () => {
  assert.equal(icaclsPath({ SystemRoot: 'C:\\Windows' }), 'C:\\Windows\\System32\\icacls.exe');
  assert.equal(icaclsPath({ SystemRoot: 'D:\\WINNT' }), 'D:\\WINNT\\System32\\icacls.exe');
  assert.equal(icaclsPath({}), 'C:\\Windows\\System32\\icacls.exe');
  const file = 'C:\\ProgramData\\lastresort\\backups\\opendental 2026.lrb';
  assert.deepEqual(privateAclArgs(file), [file, '/inheritance:r', '/grant:r', '*S-1-5-18:(F)', '*S-1-5-32-544:(F)', '*S-1-3-4:(F)', '/Q']);
  // A folder's grant carries to what is made in it later.
  assert.deepEqual(privateAclArgs('C:\\ProgramData\\lastresort', { folder: true }).slice(3, 6), ['*S-1-5-18:(OI)(CI)(F)', '*S-1-5-32-544:(OI)(CI)(F)', '*S-1-3-4:(OI)(CI)(F)']);
  // No account names: they are translated on a German Windows ("VORDEFINIERT\\Administratoren").
  assert.deepEqual([...PRIVATE_SIDS], ['S-1-5-18', 'S-1-5-32-544', 'S-1-3-4']);
});

test('an ACL as icacls /save writes it: private only when protected and granted to the three accounts alone', () => {
  // What the command above leaves (icacls prints the well-known SIDs' short forms).
  assert.deepEqual(judgeSddl('D:PAI(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;OW)'), { state: 'private', problems: [] });
  assert.deepEqual(judgeSddl('D:P(A;;FA;;;S-1-5-18)(A;;FA;;;S-1-5-32-544)'), { state: 'private', problems: [] });
  // A new file under C:\ProgramData as Windows makes it: inherited, and Users may read.
  const fresh = judgeSddl('D:AI(A;ID;FA;;;SY)(A;ID;FA;;;BA)(A;ID;0x1200a9;;;BU)');
  assert.equal(fresh.state, 'open');
  assert.deepEqual(fresh.problems, ['inherits from its folder', 'SY (inherited)', 'BA (inherited)', 'BU (inherited)']);
  assert.deepEqual(judgeSddl('D:P(A;;FA;;;SY)(A;;FR;;;WD)').problems, ['WD']);
  assert.deepEqual(judgeSddl('D:P(A;;FA;;;BA)(A;;FA;;;S-1-5-21-1004336348-1177238915-682003330-1001)').problems, ['S-1-5-21-1004336348-1177238915-682003330-1001']);
  // A deny entry takes nothing away from privacy.
  assert.equal(judgeSddl('D:P(D;;FA;;;WD)(A;;FA;;;SY)').state, 'private');
  // Nothing readable (Wine's icacls writes no file; a torn one): not known, never "private".
  assert.equal(judgeSddl('').state, 'unknown');
  assert.equal(judgeSddl('C:\\x\\file.txt').state, 'unknown');
});

test('on Linux, openToOthers reads the mode as before, and the fix is chmod 600', async () => {
  const dir = await tempDir();
  const f = join(dir, 'secret.json');
  await writeFile(f, '{}', { mode: 0o600 });
  assert.deepEqual(openToOthers(f), { open: false, how: 'mode 600' });
  await chmod(f, 0o644);
  assert.deepEqual(openToOthers(f), { open: true, how: 'mode 644' });
  assert.deepEqual(openToOthers(f, { padMode: true }), { open: true, how: 'mode 0644' });
  assert.equal(privateFix(f), `chmod 600 ${f}`);
});
