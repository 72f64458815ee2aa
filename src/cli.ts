#!/usr/bin/env node
/**
 * The command line: thin definitions that load each command's action only
 * when it runs. This is the only place that calls process.exit; the exit
 * code follows from the error's code (src/errors.ts).
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT, LrError, exitCodeOf } from './errors.js';
import { configureLog, log } from './log.js';
import { VERSION } from './version.js';
import { getResultCode } from './cli/output.js';
import { neutralise } from './text.js';
import { liveWidth, wrapText } from './cli/progress.js';
import { describeCause, internalErrorLine } from './cli/internal-error.js';
import { registerRecoverCommand } from './commands/recover-cli.js';
import { registerServiceCommands } from './commands/daemon-cli.js';
import { applyDbTimeout } from './cli/db-timeout.js';
import { registerVendorCommands } from './commands/vendor-cli.js';

const program = new Command('lastresort')
  .description('Encrypted supplemental backups of an Open Dental database, and the tools to bring them back.')
  .version(VERSION)
  .option('--verbose', 'write detailed log lines (JSON) to stderr')
  .option('--log-file <path>', 'append detailed log lines (JSON) to this file')
  .option('--db-timeout <seconds>', 'a database server silent this long while a statement waits is taken as stopped (default 60)', Number)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

program.hook('preAction', (cmd) => {
  const o = cmd.optsWithGlobals();
  configureLog({ verbose: o.verbose, file: o.logFile });
  applyDbTimeout(o.dbTimeout);
});

program
  .command('backup')
  .description('dump the database from one consistent snapshot, encrypted for the last admin to log on')
  .requiredOption('--source <dsn>', 'the practice database: mysql://user@host:port/database (no password in it)')
  .option('--db-password-file <file>', "file holding the database server's password (else LASTRESORT_DB_PASSWORD); never put it in the address")
  .requiredOption('--out <dir>', 'folder to write the .lrb file into')
  .option('--exclude <tables>', 'comma-separated tables to leave out', list)
  .option('--max-rate <bytesPerSec>', 'pace reading to stay light on the server', Number)
  .option('--lock-wait <seconds>', "longest a lock request may wait before it lets go so the office's writes go on (default 5)", Number)
  .option('--lock-window <seconds>', 'how long to keep trying for one moment before writing a file marked not one moment (default 600)', Number)
  .option('--producer-key <file>', "this server's producer key file (made on first use; default beside the service settings)")
  .option('--json', 'print the result as JSON')
  .action(async (o) => (await import('./commands/backup.js')).backupCommand(o));

const keys = program.command('keys').description('admin keys that open the backups');
keys
  .command('enroll')
  .description("set up (or renew) an admin's backup key; run when the admin sets or confirms their password")
  .requiredOption('--source <dsn>', 'the practice database: mysql://user@host:port/database (no password in it)')
  .option('--db-password-file <file>', "file holding the database server's password (else LASTRESORT_DB_PASSWORD); never put it in the address")
  .requiredOption('--user <username>', 'the Open Dental admin user name')
  .option('--password-file <file>', "file holding the admin's password (else LASTRESORT_PASSWORD, else a prompt)")
  .option('--accept-weak-password', "enroll even if the password is weak against Open Dental's own hash (recorded, and reported every night)")
  .addOption(new Option('--test-kdf', 'cheap key derivation: ONLY for tests and demos, never for real backups').hideHelp())
  .option('--producer-key <file>', "this server's producer key file (made on first use; default beside the service settings)")
  .option('--json', 'print the result as JSON')
  .action(async (o) => (await import('./commands/keys.js')).enrollCommand(o));
keys
  .command('list')
  .description('who is enrolled, since when, stale or not, pinned or mismatched, and whether a recovery key exists')
  .requiredOption('--source <dsn>', 'the practice database')
  .option('--db-password-file <file>', "file holding the database server's password (else LASTRESORT_DB_PASSWORD); never put it in the address")
  .option('--producer-key <file>', "this server's producer key file")
  .option('--json', 'print as JSON')
  .action(async (o) => (await import('./commands/keys.js')).listCommand(o));
keys
  .command('remove')
  .description('remove the backup key of an admin who left; backups from now on are not made for them')
  .requiredOption('--source <dsn>', 'the practice database')
  .option('--db-password-file <file>', "file holding the database server's password (else LASTRESORT_DB_PASSWORD); never put it in the address")
  .requiredOption('--user <username>', 'the Open Dental user name')
  .option('--producer-key <file>', "this server's producer key file")
  .option('--json', 'print as JSON')
  .action(async (o) => (await import('./commands/keys.js')).removeCommand(o));
const recovery = keys.command('recovery').description('the practice recovery key (opt-in): a code on paper that opens every backup');
recovery
  .command('create')
  .description('make a recovery code (shown once) and a printable page; every backup from now on also opens with it')
  .requiredOption('--source <dsn>', 'the practice database')
  .option('--db-password-file <file>', "file holding the database server's password (else LASTRESORT_DB_PASSWORD); never put it in the address")
  .option('--page <file>', 'where to write the printable page (default: lastresort-recovery-DATABASE.html here)')
  .option('--producer-key <file>', "this server's producer key file")
  .option('--json', 'print {code, createdAt, fingerprint} as JSON (the page is still written)')
  .action(async (o) => (await import('./commands/keys.js')).recoveryCreateCommand(o));
recovery
  .command('remove')
  .description('end the recovery key: backups from now on no longer open with its code')
  .requiredOption('--source <dsn>', 'the practice database')
  .option('--db-password-file <file>', "file holding the database server's password (else LASTRESORT_DB_PASSWORD); never put it in the address")
  .option('--producer-key <file>', "this server's producer key file")
  .option('--json', 'print as JSON')
  .action(async (o) => (await import('./commands/keys.js')).recoveryRemoveCommand(o));

program
  .command('identify')
  .argument('<file>', 'a .lrb backup (a path, s3://bucket/key, or a link from vendor share)')
  .description('say whose password opens a backup and what it holds (no password needed)')
  .option('--password-file <file>', 'with the password: also list the collations its tables use (what the new server must know)')
  .option('--recovery-code-file <file>', 'the same with the practice recovery code')
  .option('--json', 'print as JSON')
  .action(async (file, o) => (await import('./commands/identify.js')).identifyCommand(file, o));

program
  .command('check')
  .argument('<file>', 'a .lrb backup (a path, s3://bucket/key, or a link from vendor share)')
  .description('verify that a backup is whole, without the password')
  .option('--password-file <file>', 'with the password: authenticate every chunk and name the tables the damage falls in')
  .option('--json', 'print as JSON')
  .action(async (file, o) => (await import('./commands/identify.js')).checkCommand(file, o));

program
  .command('decrypt')
  .argument('<file>', 'a .lrb backup')
  .description('write the decrypted contents (a tar archive) to a file or stdout')
  .requiredOption('--out <path>', 'where to write, or - for stdout')
  .option('--force', 'replace --out if it already exists')
  .option('--password-file <file>', 'file holding the password (else LASTRESORT_PASSWORD, else a prompt)')
  .option('--recovery-code-file <file>', 'file holding the practice recovery code, instead of the admin password')
  .option('--json', 'print the result as JSON (not with --out -)')
  .action(async (file, o) => (await import('./commands/decrypt.js')).decryptCommand(file, o));

program
  .command('restore')
  .argument('<file>', 'a .lrb backup')
  .description('decrypt a backup straight into a MySQL/MariaDB server and report every table')
  .requiredOption('--target <target>', 'mysql://user@host:port/database (no password in it), or sandbox[:DIR] for a private scratch server')
  .option('--db-password-file <file>', "file holding the database server's password (else LASTRESORT_DB_PASSWORD); never put it in the address")
  .option('--password-file <file>', 'file holding the password (else LASTRESORT_PASSWORD, else a prompt)')
  .option('--recovery-code-file <file>', 'file holding the practice recovery code, instead of the admin password')
  .option('--tables <tables>', 'restore only these tables (comma-separated)', list)
  .option('--exclude <tables>', 'leave these tables out (comma-separated)', list)
  .option('--force', 'allow restoring into a database that already has tables')
  .option('--resume', 'continue an interrupted restore into the same database')
  .option('--keep-definers', "keep the backup's DEFINER on views, routines, triggers and events where that account has rights on the target database only (default: lr_objects_<database>, which has)")
  .option('--report <path>', 'also write the report (JSON, plus .md beside it)')
  .option('--json', 'print only the final JSON report on stdout')
  .action(async (file, o) => (await import('./commands/restore.js')).restoreCommand(file, o));

program
  .command('validate')
  .argument('<file>', 'the .lrb backup the database was restored from (a path, s3://bucket/key, or a link from support)')
  .description('prove a restored database matches the backup: row counts, content checksums, schema objects')
  .requiredOption('--target <target>', 'mysql://user@host:port/database (no password in it), or sandbox[:DIR]')
  .option('--db-password-file <file>', "file holding the database server's password (else LASTRESORT_DB_PASSWORD); never put it in the address")
  .option('--password-file <file>', 'file holding the password (else LASTRESORT_PASSWORD, else a prompt)')
  .option('--recovery-code-file <file>', 'file holding the practice recovery code, instead of the admin password')
  .option('--json', 'print the result as JSON')
  .action(async (file, o) => (await import('./commands/validate.js')).validateCommand(file, o));

program
  .command('definers')
  .description("after a restore, let its views, routines, triggers and events run as another account, once you have checked them")
  .requiredOption('--target <target>', 'mysql://user@host:port/database the backup was restored into (no password in it), or sandbox[:DIR] with --database')
  .requiredOption('--to <account>', 'the account they run as from now on, user@host (it must exist)')
  .option('--database <name>', 'the database, for a sandbox target')
  .option('--db-password-file <file>', "file holding the database server's password (else LASTRESORT_DB_PASSWORD)")
  .option('--json', 'print the result as JSON')
  .action(async (o) => (await import('./commands/definers.js')).definersCommand(o));

const sandbox = program.command('sandbox').description('a private scratch MariaDB/MySQL server for restoring without touching a real one');
sandbox
  .command('start')
  .argument('[dir]', 'its folder (default ./lastresort-sandbox; for root in a folder other accounts cannot enter, /var/lib/lastresort-sandbox/sandbox)')
  .action(async (dir) => (await import('./commands/sandbox.js')).sandboxStart(dir));
sandbox
  .command('stop')
  .argument('[dir]', 'its folder (default ./lastresort-sandbox; for root in a folder other accounts cannot enter, /var/lib/lastresort-sandbox/sandbox)')
  .action(async (dir) => (await import('./commands/sandbox.js')).sandboxStop(dir));
sandbox
  .command('status')
  .argument('[dir]', 'its folder (default ./lastresort-sandbox; for root in a folder other accounts cannot enter, /var/lib/lastresort-sandbox/sandbox)')
  .option('--json', 'print as JSON')
  .action(async (dir, o) => (await import('./commands/sandbox.js')).sandboxStatusCommand(dir, o));

registerRecoverCommand(program);
registerServiceCommands(program);
registerVendorCommands(program);

// Help for whoever runs it on the worst day: the one command to start with, then commands by who uses them.
const HELP_GROUPS: [heading: string, commands: string[]][] = [
  ['For the office (start here):', ['recover', 'status']],
  ['For support:', ['identify', 'check', 'decrypt']],
  ['For IT:', ['restore', 'validate', 'definers', 'sandbox']],
  ['For the nightly service:', ['backup', 'keys', 'config', 'daemon']],
];
const groupOf = (name: string) => HELP_GROUPS.findIndex(([, names]) => names.includes(name));
for (const cmd of program.commands) if (groupOf(cmd.name()) >= 0) cmd.helpGroup(HELP_GROUPS[groupOf(cmd.name())][0]);
(program.commands as Command[]).sort((a: Command, b: Command) => (groupOf(a.name()) + 1 || 99) - (groupOf(b.name()) + 1 || 99)); // stable: order within a group kept
program.addHelpText('before', 'Lost your data? Run: lastresort recover\n');

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
    process.exitCode = getResultCode();
  } catch (err) {
    process.exitCode = report(err);
  }
}

function report(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
    return EXIT.usage; // commander already printed its one line
  }
  const logger = log('cli');
  if (err instanceof LrError) {
    logger.error({ code: err.code, detail: err.detail, cause: describeCause(err.cause) }, err.message);
    // The message may quote a file's text (a table name, a header field): never raw.
    // On a terminal the line breaks at spaces within its width; in a pipe or a log it stays one line.
    const line = `lastresort: ${neutralise(err.message)}`;
    process.stderr.write(`${(process.stderr.isTTY ? wrapText(line, liveWidth(process.stderr)) : [line]).join('\n')}\n`);
    return err.exitCode;
  }
  logger.error({ code: 'LR_INTERNAL', err: describeCause(err) }, 'internal error');
  process.stderr.write(`${internalErrorLine(err, program.opts().logFile as string | undefined)}\n`);
  return exitCodeOf(err);
}

// Not a top-level await: the Windows executable is one CommonJS bundle (scripts/package-windows.mjs).
void main();
