/**
 * A link from `vendor share` given without quotes: the shell keeps only what
 * comes before its first `&`, so the signature parts are gone. lastresort
 * must say the link is cut (not "expired or changed"), the wizard must then
 * take the whole link pasted at its question, and the screen must never show
 * the link whole. `vendor share` prints the quoted command, which a real
 * shell parses back into exactly the link. Real gateway, real terminal
 * (tmux) at 100, 80 and 60 columns, restored data compared through SQL.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { type S3Client } from '@aws-sdk/client-s3';
import { uploadFile } from '../../src/offsite/upload.js';
import { CUT_LINK } from '../../src/offsite/remote.js';
import { systemClock } from '../../src/system/clock.js';
import { compareDatabases, createTempDatabase, describeDifferences } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { PASSWORD, scratchDir, sourceWithBackup, willCreate, type SourceBackup } from '../recover/helpers/setup.js';
import { requireTool, Terminal } from '../recover/helpers/terminal.js';
import { lockedBucket, useGateway, vendorClient, vendorEnv, type Gateway } from './gateway.js';

const run = promisify(execFile);
const gateway = useGateway();
let gw: Gateway;
let vendor: S3Client;
let backup: SourceBackup;
let bucket: string;
let link: string;
let shareErr: string;
const terminals: Terminal[] = [];
const noKeys = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_ENDPOINT_URL: '' };
const flat = (text: string) => text.replace(/\s+/g, ' ');
/** What a shell leaves of an unquoted link: everything before the first `&`. */
/**
 * Too-wide lines, but for the question's own input line while the person pastes
 * (a screen read between the paste and Enter): what they typed, not what lastresort wrote.
 */
const wideLines = (t: Terminal) => t.tooWide().filter((l) => !l.startsWith('? Where is the backup file? › '));
const cutAtAmpersand = (url: string) => url.slice(0, url.indexOf('&'));

before(async () => {
  requireTool('tmux');
  gw = gateway();
  vendor = vendorClient(gw);
  bucket = await lockedBucket(vendor, 'cutlink', 1);
  backup = await sourceWithBackup({ patients: 100, prefix: 'lroff_cutlink' });
  await uploadFile({ client: vendor, bucket, key: `practices/p-cut/${basename(backup.file)}`, file: backup.file, clock: systemClock, deadline: new Date(Date.now() + 60_000) });
  const share = await runCli(['vendor', 'share', '--store', `s3://${bucket}`, '--practice', 'p-cut', '--latest'], { env: vendorEnv(gw) });
  assert.equal(share.code, 0, share.stderr);
  link = share.stdout.trim();
  shareErr = share.stderr;
});
after(async () => {
  for (const t of terminals) await t.close();
  vendor?.destroy();
});

describe('a link cut by the shell', { timeout: 240_000 }, () => {
  it('vendor share prints a ready command, quoted, that a shell parses back into the whole link (and --json gives it too)', async () => {
    assert.ok(link.includes('&') && /X-Amz-Signature=/.test(link), 'a presigned link with its signature after an &');
    const line = shareErr.split('\n').find((l) => l.trim().startsWith('lastresort recover '));
    assert.ok(line, `no command on stderr:\n${shareErr}`);
    assert.equal(line.trim(), `lastresort recover "${link}"`);
    assert.match(shareErr, /quotes included \(without them a shell cuts the link at its first &\)/);
    // The shell itself: the command splits into exactly three words, the third the whole link.
    const { stdout } = await run('bash', ['-c', 'eval "set -- $1"; printf "%s\\n" "$@"', 'sh', line.trim()]);
    assert.deepEqual(stdout.split('\n').filter(Boolean), ['lastresort', 'recover', link]);
    const json = await runCli(['vendor', 'share', '--store', `s3://${bucket}`, '--practice', 'p-cut', '--latest', '--json'], { env: vendorEnv(gw) });
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as { url: string; command: string };
    assert.equal(parsed.command, `lastresort recover "${parsed.url}"`);
  });

  it('restore, check and identify with the cut link: exit 2 and the one line, the store is not blamed', async () => {
    const cut = cutAtAmpersand(link);
    const target = await createTempDatabase('lroff_cutlink_r', { create: false });
    for (const args of [['restore', cut, '--target', `mysql://root@127.0.0.1:3306/${target}`, '--password-file', backup.passwordFile], ['check', cut], ['identify', cut]]) {
      const r = await runCli(args, { env: noKeys });
      assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert.ok(flat(r.stderr).includes(CUT_LINK), `${args[0]}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /expired or was changed/);
    }
  });

  for (const columns of [100, 80, 60]) {
    it(`${columns} columns: recover with the cut link says so, takes the whole link pasted, never shows the signature${columns === 100 ? ', and restores identical to the source' : ''}`, async () => {
      const cwd = await scratchDir('lroff-cutlink-');
      const t = await Terminal.start({ cwd, args: ['recover', cutAtAmpersand(link)], env: noKeys, columns });
      terminals.push(t);
      await t.waitFor('The link is cut');
      await t.answer('Where is the backup file?', link);
      await t.waitFor('Reading the backup straight from the link');
      await t.waitFor('? Password of jsmith');
      const signature = new URL(link).searchParams.get('X-Amz-Signature')!;
      const credential = new URL(link).searchParams.get('X-Amz-Credential')!;
      const shown = await t.text();
      assert.ok(flat(shown).includes(CUT_LINK), shown);
      // Where the link points, its middle shortened to fit the line, and nothing after its "?".
      const answered = shown.split('\n').find((l) => l.startsWith('✔ Where is the backup file? … '));
      assert.ok(answered?.trimEnd().endsWith('.lrb?…') && answered.includes(' … http://'), shown);
      if (columns < 100) {
        await t.press('C-c');
        const { code, text } = await t.exit();
        assert.equal(code, 1, text);
        for (const secret of [signature, credential, encodeURIComponent(credential)]) assert.ok(!text.replace(/\n/g, '').includes(secret), 'a part of the signature is on the screen');
        assert.deepEqual(wideLines(t), [], `lines wider than the ${columns}-column terminal`);
        return;
      }
      const name = willCreate(await createTempDatabase('lroff_cutlink_w', { create: false }));
      await t.type(PASSWORD);
      await t.press('Enter');
      await t.choose('Restore where?', 1);
      await t.answer('Server address');
      await t.answer('Port');
      await t.answer('User name on that server');
      await t.answer('Password of root on that server');
      await t.answer('Name for the restored database', name);
      await t.answer('Start the restore?');
      const { code, text } = await t.exit(120_000);
      assert.equal(code, 0, text);
      for (const secret of [signature, credential, encodeURIComponent(credential)]) assert.ok(!text.replace(/\n/g, '').includes(secret), 'a part of the signature is on the screen');
      const diffs = await compareDatabases(backup.database, name);
      assert.deepEqual(diffs, [], describeDifferences(diffs));
      assert.deepEqual(wideLines(t), [], 'lines wider than the 100-column terminal');
    });
  }
});
