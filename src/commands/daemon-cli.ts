import type { Command } from 'commander';

const CONFIG_HELP = 'the settings file (default /etc/lastresort/config.json as root, else ~/.config/lastresort/config.json; on Windows %ProgramData%\\lastresort\\config.json)';

/** `config`, `daemon` and `status`: the nightly producer as a service. Actions load only when they run. */
export function registerServiceCommands(program: Command): void {
  const config = program.command('config').description('the nightly service settings');
  config
    .command('show')
    .description('show every setting, marking defaults (the database password is never shown)')
    .option('--config <path>', CONFIG_HELP)
    .option('--json', 'print as JSON')
    .action(async (o) => (await import('./service-config.js')).configShowCommand(o));
  config
    .command('set')
    .argument('<key>', 'enabled, source, sourcePasswordFile, outDir, copyTo, window, keep, exclude, logDir, stateFile, maxRate, offsite, offsiteEndpoint, offsiteRegion, offsiteCredentialsFile, practiceId, dbTimeout')
    .argument('<value>', 'the new value; an empty string puts the default back')
    .description('change one setting; a bad value is refused with the reason')
    .option('--config <path>', CONFIG_HELP)
    .action(async (key, value, o) => (await import('./service-config.js')).configSetCommand(key, value, o));

  program
    .command('daemon')
    .description('run the nightly backup service: one backup per night at a random time inside the window')
    .option('--config <path>', CONFIG_HELP)
    .option('--once', 'run one backup cycle now and exit (for cron and tests)')
    .option('--json', 'with --once, print the cycle result as JSON')
    .action(async (_o, cmd: Command) => (await import('./service-daemon.js')).daemonCommand(cmd.optsWithGlobals()));

  program
    .command('status')
    .description('is the nightly backup working? last backup and copy, next window, alerts, disk space')
    .option('--config <path>', CONFIG_HELP)
    .option('--json', 'print as JSON')
    .action(async (o) => (await import('./service-status.js')).statusCommand(o));
}
