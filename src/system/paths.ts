/**
 * Where the service keeps things by default. A service account (root) uses
 * the system folders; anyone else uses the XDG folders in their home, so a
 * trial run never needs root.
 */
import { homedir } from 'node:os';
import { join, win32 } from 'node:path';

/** Windows: everything under %ProgramData%\lastresort (the service runs as SYSTEM; administrators read it). */
export function windowsHome(env: NodeJS.ProcessEnv = process.env): string {
  return win32.join(env.ProgramData ?? env.ALLUSERSPROFILE ?? 'C:\\ProgramData', 'lastresort');
}

export function runsAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function xdg(variable: string, fallback: string): string {
  const v = process.env[variable];
  return v && v.startsWith('/') ? v : join(homedir(), fallback);
}

export function defaultConfigPath(platform: string = process.platform): string {
  if (platform === 'win32') return win32.join(windowsHome(), 'config.json');
  return runsAsRoot() ? '/etc/lastresort/config.json' : join(xdg('XDG_CONFIG_HOME', '.config'), 'lastresort', 'config.json');
}

export interface DefaultPlaces {
  outDir: string;
  logDir: string;
  stateFile: string;
}

export function defaultPlaces(platform: string = process.platform): DefaultPlaces {
  if (platform === 'win32') {
    const home = windowsHome();
    return { outDir: win32.join(home, 'backups'), logDir: win32.join(home, 'log'), stateFile: win32.join(home, 'state.json') };
  }
  if (runsAsRoot()) return { outDir: '/var/backups/lastresort', logDir: '/var/log/lastresort', stateFile: '/var/lib/lastresort/state.json' };
  const state = join(xdg('XDG_STATE_HOME', '.local/state'), 'lastresort');
  return { outDir: join(xdg('XDG_DATA_HOME', '.local/share'), 'lastresort', 'backups'), logDir: join(state, 'log'), stateFile: join(state, 'state.json') };
}
