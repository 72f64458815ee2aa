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
import { registerRecoverCommand } from './commands/recover-cli.js';
import { registerServiceCommands } from './commands/daemon-cli.js';
import { registerVendorCommands } from './commands/vendor-cli.js';

const program = new Command('lastresort')
  .description('Encrypted supplemental backups of an Open Dental database, and the tools to bring them back.')
  .version(VERSION)
  .option('--verbose', 'write detailed log lines (JSON) to stderr')
  .option('--log-file <path>', 'append detailed log lines (JSON) to this file')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);

program.hook('preAction', (cmd) => {
  const o = cmd.optsWithGlobals();
  configureLog({ verbose: o.verbose, file: o.logFile });
});

program
  .command('backup')
  .description('dump the database from one consistent snapshot, encrypted for the last admin to log on')
  .requiredOption('--source <dsn>', 'the practice database: mysql://user:password@host:port/database')
  .requiredOption('--out <dir>', 'folder to write the .lrb file into')
  .option('--exclude <tables>', 'comma-separated tables to leave out', list)
  .option('--max-rate <bytesPerSec>', 'pace reading to stay light on the server', Number)
  .option('--json', 'print the result as JSON')
  .action(async (o) => (await import('./commands/backup.js')).backupCommand(o));

const keys = program.command('keys').description('admin keys that open the backups');
keys
  .command('enroll')
  .description("set up (or renew) an admin's backup key; run when the admin sets or confirms their password")
  .requiredOption('--source <dsn>', 'the practice database')
  .requiredOption('--user <username>', 'the Open Dental admin user name')
  .option('--password-file <file>', "file holding the admin's password (else LASTRESORT_PASSWORD, else a prompt)")
  .addOption(new Option('--test-kdf', 'cheap key derivation: ONLY for tests and demos, never for real backups').hideHelp())
  .option('--json', 'print the result as JSON')
  .action(async (o) => (await import('./commands/keys.js')).enrollCommand(o));

program
  .command('identify')
  .argument('<file>', 'a .lrb backup (a path, s3://bucket/key, or a link from vendor share)')
  .description('say whose password opens a backup and what it holds (no password needed)')
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
  .option('--password-file <file>', 'file holding the password (else LASTRESORT_PASSWORD, else a prompt)')
  .option('--json', 'print the result as JSON (not with --out -)')
  .action(async (file, o) => (await import('./commands/decrypt.js')).decryptCommand(file, o));

program
  .command('restore')
  .argument('<file>', 'a .lrb backup')
  .description('decrypt a backup straight into a MySQL/MariaDB server and report every table')
  .requiredOption('--target <target>', 'mysql://user:password@host:port/database, or sandbox[:DIR] for a private scratch server')
  .option('--password-file <file>', 'file holding the password (else LASTRESORT_PASSWORD, else a prompt)')
  .option('--tables <tables>', 'restore only these tables (comma-separated)', list)
  .option('--exclude <tables>', 'leave these tables out (comma-separated)', list)
  .option('--force', 'allow restoring into a database that already has tables')
  .option('--resume', 'continue an interrupted restore into the same database')
  .option('--report <path>', 'also write the report (JSON, plus .md beside it)')
  .option('--json', 'print only the final JSON report on stdout')
  .action(async (file, o) => (await import('./commands/restore.js')).restoreCommand(file, o));

program
  .command('validate')
  .argument('<file>', 'the .lrb backup the database was restored from')
  .description('prove a restored database matches the backup: row counts, content checksums, schema objects')
  .requiredOption('--target <target>', 'mysql://user:password@host:port/database, or sandbox[:DIR]')
  .option('--password-file <file>', 'file holding the password (else LASTRESORT_PASSWORD, else a prompt)')
  .option('--json', 'print the result as JSON')
  .action(async (file, o) => (await import('./commands/validate.js')).validateCommand(file, o));

const sandbox = program.command('sandbox').description('a private scratch MariaDB/MySQL server for restoring without touching a real one');
sandbox
  .command('start')
  .argument('[dir]', 'its folder', 'lastresort-sandbox')
  .action(async (dir) => (await import('./commands/sandbox.js')).sandboxStart(dir));
sandbox
  .command('stop')
  .argument('[dir]', 'its folder', 'lastresort-sandbox')
  .action(async (dir) => (await import('./commands/sandbox.js')).sandboxStop(dir));
sandbox
  .command('status')
  .argument('[dir]', 'its folder', 'lastresort-sandbox')
  .option('--json', 'print as JSON')
  .action(async (dir, o) => (await import('./commands/sandbox.js')).sandboxStatusCommand(dir, o));

registerRecoverCommand(program);
registerServiceCommands(program);
registerVendorCommands(program);

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
    process.stderr.write(`lastresort: ${err.message}\n`);
    return err.exitCode;
  }
  logger.error({ err: describeCause(err) }, 'unexpected failure');
  process.stderr.write(`lastresort: something unexpected went wrong (${(err as Error)?.message?.split('\n')[0]?.slice(0, 120) ?? 'unknown'}). Run again with --verbose or --log-file for detail.\n`);
  return exitCodeOf(err);
}

/** Server messages can quote row values ("Duplicate entry 'Smith' ..."): the log keeps their shape, not the data. */
const scrub = (text: string | undefined) => text?.replace(/'(?:[^'\\]|\\.)*'/g, "'…'");

function describeCause(cause: unknown): unknown {
  if (!(cause instanceof Error)) return undefined;
  const e = cause as Error & { code?: string; errno?: number; sqlMessage?: string };
  return { name: e.name, message: scrub(e.message), code: e.code, errno: e.errno, sqlMessage: scrub(e.sqlMessage), stack: scrub(e.stack) };
}

await main();
