/**
 * `lastresort service install|uninstall|start|stop|status`: the nightly producer as a Windows
 * scheduled task (src/service/windows-task.ts). On Linux the service is the systemd unit.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LrError } from '../errors.js';
import { note, printJson, say } from '../cli/output.js';
import { loadConfig } from '../service/config.js';
import { stopRequestPath } from '../service/stop-request.js';
import { SCHTASKS, TASK_NAME, parseQuery, schtasksPath, taskXml, taskXmlBytes } from '../service/windows-task.js';
import { defaultConfigPath } from '../system/paths.js';
import { isWindows, makePrivate, openToOthers } from '../system/private-file.js';

export interface ServiceCliOptions {
  config?: string;
  json?: boolean;
}

function windowsOnly(): void {
  if (isWindows()) return;
  throw new LrError('LR_USAGE', 'On Linux the nightly service is the systemd unit: copy packaging/lastresort.service to /etc/systemd/system/ and run systemctl enable --now lastresort.');
}

function schtasks(args: string[]): string {
  try {
    return execFileSync(schtasksPath(), args, { encoding: 'utf8', windowsHide: true, timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new LrError('LR_IO', `Task Scheduler refused: schtasks ${args[0]} failed. Run this from an administrator's command prompt.`, { cause: err });
  }
}

export async function serviceInstallCommand(o: ServiceCliOptions): Promise<void> {
  windowsOnly();
  const configPath = o.config ?? defaultConfigPath();
  const { config } = await loadConfig(configPath);
  const home = dirname(configPath);
  mkdirSync(home, { recursive: true });
  makePrivate(home, { folder: true });
  // The single executable is its own program; under a node.exe the script comes first.
  const leading = globalThis.__LASTRESORT_SEA__ ? [] : [process.argv[1]!];
  const xmlFile = join(home, 'task.xml');
  writeFileSync(xmlFile, taskXmlBytes(taskXml({ command: process.execPath, leading, configPath })));
  makePrivate(xmlFile);
  schtasks(SCHTASKS.create(xmlFile));
  schtasks(SCHTASKS.run());
  say(`Installed the scheduled task "${TASK_NAME}": it starts at boot as SYSTEM and runs lastresort daemon, which backs up inside ${config.window}. Started now. Log: ${config.logDir}. Check: lastresort status`);
}

/** Asks the daemon to stop cleanly and waits for it (up to `waitMs`); Task Scheduler ends it only if it does not. */
export async function serviceStopCommand(o: ServiceCliOptions, waitMs = 90_000): Promise<void> {
  windowsOnly();
  const { config } = await loadConfig(o.config ?? defaultConfigPath());
  const request = stopRequestPath(config.stateFile);
  mkdirSync(dirname(request), { recursive: true });
  writeFileSync(request, `${new Date().toISOString()}\n`);
  const deadline = Date.now() + waitMs;
  while (existsSync(request) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
  if (existsSync(request)) {
    schtasks(SCHTASKS.end());
    note(`The daemon did not stop within ${waitMs / 1000} s; Task Scheduler ended it.`);
  } else say('The nightly backup service stopped cleanly.');
}

export async function serviceStartCommand(): Promise<void> {
  windowsOnly();
  schtasks(SCHTASKS.run());
  say(`Started the scheduled task "${TASK_NAME}".`);
}

export async function serviceUninstallCommand(o: ServiceCliOptions): Promise<void> {
  windowsOnly();
  await serviceStopCommand(o);
  schtasks(SCHTASKS.remove());
  say(`Removed the scheduled task "${TASK_NAME}". Backups, settings and logs stay where they are.`);
}

/** Files under the service's folders that others may read (administrators-only is the rule). */
function openFiles(dirs: string[]): string[] {
  const open: string[] = [];
  for (const dir of dirs) {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) if (openToOthers(join(dir, name)).open) open.push(join(dir, name));
  }
  return open;
}

export async function serviceStatusCommand(o: ServiceCliOptions): Promise<void> {
  windowsOnly();
  const configPath = o.config ?? defaultConfigPath();
  const { config } = await loadConfig(configPath);
  let query = '';
  try {
    query = execFileSync(schtasksPath(), SCHTASKS.query(), { encoding: 'utf8', windowsHide: true, timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    // not installed: schtasks /Query exits 1
  }
  const task = parseQuery(query);
  const open = openFiles([config.outDir, config.logDir, dirname(config.stateFile), dirname(configPath)]);
  if (o.json) return printJson({ task: TASK_NAME, installed: task.found, state: task.state, filesOpenToOthers: open });
  say(task.found ? `The scheduled task "${TASK_NAME}" is installed (${task.state ?? 'state unknown'}).` : `The scheduled task "${TASK_NAME}" is not installed. Install it: lastresort service install`);
  for (const f of open) note(`ALERT: ${f} may be read by other accounts than SYSTEM and Administrators.`);
}
