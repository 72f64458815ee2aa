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

  registerWindowsService(program);

  program
    .command('status')
    .description('is the nightly backup working? last backup and copy, next window, alerts, disk space')
    .option('--config <path>', CONFIG_HELP)
    .option('--json', 'print as JSON')
    .action(async (o) => (await import('./service-status.js')).statusCommand(o));
}

/** `service ...`: Windows' scheduled task for the nightly producer (Linux keeps its systemd unit). */
function registerWindowsService(program: Command): void {
  const service = program.command('service').description('Windows: the nightly backup as a scheduled task that starts at boot as SYSTEM');
  const load = () => import('./service-windows.js');
  service.command('install').description('register and start the task (run as an administrator)').option('--config <path>', CONFIG_HELP).action(async (o) => (await load()).serviceInstallCommand(o));
  service.command('uninstall').description('stop the daemon cleanly and remove the task; backups and settings stay').option('--config <path>', CONFIG_HELP).action(async (o) => (await load()).serviceUninstallCommand(o));
  service.command('start').description('start the task now').action(async () => (await load()).serviceStartCommand());
  service.command('stop').description('ask the daemon to stop cleanly (a running backup leaves no partial file)').option('--config <path>', CONFIG_HELP).action(async (o) => (await load()).serviceStopCommand(o));
  service.command('status').description('is the task installed and running; files others may read').option('--config <path>', CONFIG_HELP).option('--json', 'print as JSON').action(async (o) => (await load()).serviceStatusCommand(o));
}
