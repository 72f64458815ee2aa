/**
 * Where the service keeps things by default. A service account (root) uses
 * the system folders; anyone else uses the XDG folders in their home, so a
 * trial run never needs root.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function runsAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function xdg(variable: string, fallback: string): string {
  const v = process.env[variable];
  return v && v.startsWith('/') ? v : join(homedir(), fallback);
}

export function defaultConfigPath(): string {
  return runsAsRoot() ? '/etc/lastresort/config.json' : join(xdg('XDG_CONFIG_HOME', '.config'), 'lastresort', 'config.json');
}

export interface DefaultPlaces {
  outDir: string;
  logDir: string;
  stateFile: string;
}

export function defaultPlaces(): DefaultPlaces {
  if (runsAsRoot()) return { outDir: '/var/backups/lastresort', logDir: '/var/log/lastresort', stateFile: '/var/lib/lastresort/state.json' };
  const state = join(xdg('XDG_STATE_HOME', '.local/state'), 'lastresort');
  return { outDir: join(xdg('XDG_DATA_HOME', '.local/share'), 'lastresort', 'backups'), logDir: join(state, 'log'), stateFile: join(state, 'state.json') };
}
