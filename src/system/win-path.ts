/**
 * Paths in the settings as a Windows server writes them: drive letters
 * (C:\...), network shares (\\server\share\...), spaces, and %VAR% (for
 * example %ProgramData%), expanded from the environment when the settings
 * are read. On Linux a path is absolute when it starts with /, and % means
 * nothing.
 */
import { LrError } from '../errors.js';

/** C:\... or C:/... (a drive and its root), or \\server\share\... */
export function isAbsoluteFor(path: string, platform: string = process.platform): boolean {
  if (platform !== 'win32') return path.startsWith('/');
  return /^[A-Za-z]:[\\/]/.test(path) || /^[\\/]{2}[^\\/]+[\\/]+[^\\/]+/.test(path);
}

export function absoluteHint(platform: string = process.platform): string {
  return platform === 'win32' ? 'starting with a drive, C:\\..., or a share, \\\\server\\share\\...' : 'starting with /';
}

/** %NAME% replaced by its value (names are case-insensitive on Windows); a name that is not set is an error. */
export function expandEnvVars(text: string, env: NodeJS.ProcessEnv = process.env, platform: string = process.platform): string {
  if (platform !== 'win32') return text;
  const lower = new Map(Object.entries(env).map(([k, v]) => [k.toLowerCase(), v]));
  return text.replace(/%([^%\\/:*?"<>|]+)%/g, (_all, name: string) => {
    const value = lower.get(name.toLowerCase());
    if (value === undefined || value === '') throw new LrError('LR_BAD_CONFIG', `The path ${text} names %${name}%, which is not set on this computer.`);
    return value;
  });
}
