/** The `vendor` commands' definitions; their actions load only when run. */
import type { Command } from 'commander';

export function registerVendorCommands(program: Command): void {
  const vendor = program.command('vendor').description("support's side of the offsite copies (the vendor's own store key, from the standard AWS environment or files)");
  const store = (c: Command) =>
    c
      .requiredOption('--store <s3url>', 'the bucket (and prefix): s3://bucket[/prefix]')
      .option('--endpoint <url>', 'the store, when not AWS (else AWS_ENDPOINT_URL)')
      .option('--region <name>', 'the region (else AWS_REGION, else us-east-1)')
      .option('--json', 'print as JSON');
  const pick = (c: Command) => c.requiredOption('--practice <id>', "the practice's id").option('--latest', 'the newest backup (the default)').option('--at <date>', 'the newest backup stored at or before this date/time');

  store(vendor.command('init').description('prepare a bucket: versioning, Object Lock (COMPLIANCE) by default, lifecycle'))
    .option('--retain-days <days>', 'how long each night is locked and kept', '35')
    .action(async (o) => (await import('./vendor.js')).vendorInit(o));
  store(vendor.command('policy').description("print (or --apply) the bucket policy that makes a practice's key write-only on its folder"))
    .requiredOption('--practice <id>', "the practice's id")
    .requiredOption('--user <arn>', "the practice key's user ARN")
    .option('--apply', 'merge it into the bucket policy')
    .action(async (o) => (await import('./vendor.js')).vendorPolicy(o));
  store(vendor.command('status').description('one line per practice: last upload, size, whose password opens it; stale ones first'))
    .option('--stale-days <days>', 'flag practices with nothing newer', '2')
    .action(async (o) => (await import('./vendor.js')).vendorStatus(o));
  pick(store(vendor.command('fetch').description("download a practice's backup, checked on the way, to a folder (mode 0600)")))
    .requiredOption('--out <dir>', 'folder to write it into')
    .action(async (o) => (await import('./vendor.js')).vendorFetch(o));
  pick(store(vendor.command('share').description("print a time-limited link to a practice's backup, for the office to restore from")))
    .option('--expires <time>', 'how long the link works, e.g. 24h (at most 7d)', '24h')
    .action(async (o) => (await import('./vendor.js')).vendorShare(o));
}
