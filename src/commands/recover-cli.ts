import { InvalidArgumentError, type Command } from 'commander';

function port(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('a port is a whole number from 1 to 65535');
  return n;
}

/** `recover`: the recovery wizard; every question also has a flag, so scripts can run it with --yes. */
export function registerRecoverCommand(program: Command): void {
  program
    .command('recover')
    .argument('[file]', 'the .lrb backup (else: choose among the .lrb files here, or type a path)')
    .description('the recovery wizard: from a backup file to a restored and verified database, step by step')
    .option('--target <target>', 'where to restore: mysql://user@host:port[/database] (no password in it), or sandbox[:DIR] for a private server')
    .option('--host <host>', 'database server address (default 127.0.0.1)')
    .option('--port <port>', 'database server port (default 3306)', port)
    .option('--user <user>', 'user on the database server (default root)')
    .option('--ssl', 'encrypt the connection to the server (TLS); in --target write ?ssl=required instead')
    .option('--ssl-ca <file>', "encrypt and check the server's certificate against this CA (PEM file); in --target write ?ssl-ca=FILE")
    .option('--db-password-file <file>', "file holding the database server's password (else LASTRESORT_DB_PASSWORD, else asked; none with --yes)")
    .option('--database <name>', 'database to restore into (default <original>_restored_<backup date>); one that has tables is never overwritten')
    .option('--password-file <file>', "file holding the admin's backup password (else LASTRESORT_PASSWORD, else asked)")
    .option('--recovery-code-file <file>', 'file holding the practice recovery code, instead of the admin password')
    .option('--report-dir <dir>', 'folder for the reports (JSON, HTML, Markdown); default: the current folder')
    .option('--yes', 'take the defaults and do not ask for confirmation (for scripts)')
    .option('--resume', 'continue an interrupted restore into the same database')
    .option('--json', 'print the final report as JSON on stdout')
    .action(async (file: string | undefined, o) => (await import('../recover/command.js')).recoverCommand(file, o));
}
