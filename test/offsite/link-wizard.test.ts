/**
 * The office on the worst day: no backup file on its disk, only the link
 * support sent. `recover` in a real terminal (tmux) takes the pasted link,
 * reads the backup in place from the store, once (the header copies are
 * checked before the password, every part as it is restored), and restores a database identical to the source through SQL,
 * with radosgw killed and restarted once during the restore. The office has
 * no store key at all.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { type S3Client } from '@aws-sdk/client-s3';
import { defaultDatabaseName } from '../../src/recover/database.js';
import { locateHeader } from '../../src/format/reader.js';
import { uploadFile } from '../../src/offsite/upload.js';
import { systemClock } from '../../src/system/clock.js';
import { compareDatabases, describeDifferences } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { PASSWORD, scratchDir, sourceWithBackup, willCreate, type SourceBackup } from '../recover/helpers/setup.js';
import { requireTool, Terminal } from '../recover/helpers/terminal.js';
import { cuttingRelay, daemonPid, lockedBucket, restartGateway, useGateway, vendorClient, vendorEnv, type CuttingRelay, type Gateway } from './gateway.js';

const gateway = useGateway();
let gw: Gateway;
let vendor: S3Client;
let backup: SourceBackup;
let bucket: string;
let terminal: Terminal | undefined;
let relay: CuttingRelay;
let fileBytes: number;

before(async () => {
  requireTool('tmux');
  gw = gateway();
  vendor = vendorClient(gw);
  bucket = await lockedBucket(vendor, 'wizard', 1);
  // Big enough that the table map (a frame of 256 KiB of payload per tar header, in version 3) stays a small part of the reads.
  backup = await sourceWithBackup({ patients: 1500, prefix: 'lroff_wiz' });
  await uploadFile({ client: vendor, bucket, key: `practices/p-wiz/${basename(backup.file)}`, file: backup.file, clock: systemClock, deadline: new Date(Date.now() + 60_000) });
  fileBytes = (await stat(backup.file)).size;
  // The file crosses the link once (the wizard checks only the header copies before the
  // password; the restore checks every part it reads): a third of the way in, the store dies and comes back.
  relay = await cuttingRelay(gw, fileBytes * 0.33);
});
after(async () => {
  await terminal?.close();
  relay?.close();
  if (!daemonPid('client.rgw.gw')) await restartGateway().catch(() => {});
  vendor?.destroy();
});

test('recover takes a pasted link from vendor share and restores identical to the source, the gateway restarted once mid-restore', { timeout: 180_000 }, async () => {
  const share = await runCli(['vendor', 'share', '--store', `s3://${bucket}`, '--practice', 'p-wiz', '--latest'], { env: { ...vendorEnv(gw), AWS_ENDPOINT_URL: `http://127.0.0.1:${relay.port}` } });
  assert.equal(share.code, 0, share.stderr);
  const link = share.stdout.trim();
  relay.fromStore = 0;
  const expectedName = willCreate(defaultDatabaseName((await locateHeader(backup.file)).header));
  const cwd = await scratchDir('lroff-wiz-');
  terminal = await Terminal.start({ cwd, args: ['recover'], env: { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_ENDPOINT_URL: '' } });
  const t = terminal;
  await t.waitFor('There is no backup file (.lrb) in this folder');
  await t.answer('Where is the backup file?', link);
  await t.waitFor('Reading the backup straight from the link');
  await t.waitFor('Both copies of its header check out; every part is checked as it is restored');
  await t.answer('Password of jsmith', PASSWORD);
  await t.choose('Restore where?', 1); // the sandbox is the default; the test server is one arrow away
  await t.answer('Server address');
  await t.answer('Port');
  await t.answer('User name on that server');
  await t.answer('Password of root on that server');
  await t.answer('Name for the restored database');
  await t.answer('Start the restore?');
  const { code, text } = await t.exit(120_000);
  await relay.cut;
  assert.equal(code, 0, text);
  assert.ok(relay.cut, 'the gateway was killed during the restore');
  assert.match(text, /restored and verified: every row matches the backup\./);
  // Not read twice: the file once, plus the table map and what was in flight at the cut.
  assert.ok(relay.fromStore < 1.9 * fileBytes, `${relay.fromStore} bytes from the store for a file of ${fileBytes}`);
  const diffs = await compareDatabases(backup.database, expectedName);
  assert.deepEqual(diffs, [], describeDifferences(diffs));
});
