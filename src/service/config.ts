/**
 * The service settings: a JSON file holding only what was set explicitly;
 * everything else takes its default, so a later version can improve a
 * default without rewriting anyone's file. Every value is checked the same
 * way whether it comes from the file or from `config set`.
 */
import { readFile, stat } from 'node:fs/promises';
import { LrError } from '../errors.js';
import { parseDsn, type Dsn } from '../db/dsn.js';
import { writeFileAtomic } from '../system/atomic-file.js';
import { DB_PASSWORD_ENV } from '../cli/password.js';
import { defaultPlaces } from '../system/paths.js';
import { absoluteHint, expandEnvVars, isAbsoluteFor } from '../system/win-path.js';
import { parseWindow } from './window.js';
import { DEFAULT_DB_TIMEOUT_S } from '../db/watchdog.js';
import { OFFSITE_CHECKS } from '../offsite/settings.js';
import { openToOthers, privateFix } from '../system/private-file.js';

export interface ServiceConfig {
  /** Make the nightly backup at all. */
  enabled: boolean;
  /** The practice database, mysql://user@host:port/database. */
  source: string | null;
  /** A file holding the database password, so it need not sit in the DSN. */
  sourcePasswordFile: string | null;
  outDir: string;
  /** A second place (a mounted network share) that receives a verified full copy. */
  copyTo: string | null;
  /** Local time, HH:MM-HH:MM; may cross midnight. */
  window: string;
  /** How many backups to keep in each place. */
  keep: number;
  exclude: string[];
  logDir: string;
  stateFile: string;
  /** Pace reading the database (bytes per second); null = as fast as it goes. */
  maxRate: number | null;
  /** Seconds a database server may stay silent while a statement waits before it is taken as stopped. */
  dbTimeout: number;
  /** Offsite copy (docs/offsite.md): s3://bucket/prefix, or null for none. */
  offsite: string | null;
  /** The store's URL; null for AWS itself. */
  offsiteEndpoint: string | null;
  offsiteRegion: string | null;
  /** The practice's store key, AWS shared-credentials format, mode 0600. */
  offsiteCredentialsFile: string | null;
  /** This practice's id at the vendor: its folder in the store. */
  practiceId: string | null;
}

export type ConfigKey = keyof ServiceConfig;

export function defaultConfig(): ServiceConfig {
  return { enabled: true, source: null, sourcePasswordFile: null, ...defaultPlaces(), copyTo: null, window: '22:00-04:00', keep: 7, exclude: [], maxRate: null, dbTimeout: DEFAULT_DB_TIMEOUT_S, ...OFFSITE_DEFAULTS };
}

const OFFSITE_DEFAULTS = { offsite: null, offsiteEndpoint: null, offsiteRegion: null, offsiteCredentialsFile: null, practiceId: null };

const bad = (key: string, why: string) => new LrError('LR_BAD_CONFIG', `The setting ${key} ${why}`);

/** Kept as written (%VAR% and all); checked, and used, expanded (expandPaths). */
function absolutePath(key: string, v: unknown): string {
  if (typeof v !== 'string' || v.trim() === '') throw bad(key, 'must be a folder path.');
  // A service starts in / (C:\Windows\System32 on Windows), so a relative path would mean something else there.
  if (!isAbsoluteFor(expandEnvVars(v))) throw bad(key, `must be an absolute path (${absoluteHint()}), not ${JSON.stringify(v)}.`);
  return v;
}

const PATH_KEYS = ['sourcePasswordFile', 'outDir', 'copyTo', 'logDir', 'stateFile', 'offsiteCredentialsFile'] as const;

/** The settings with %VAR% in their paths expanded (Windows), as the service uses them. */
export function expandPaths(config: ServiceConfig): ServiceConfig {
  const out: ServiceConfig = { ...config };
  for (const key of PATH_KEYS) if (typeof out[key] === 'string') (out as unknown as Record<string, string>)[key] = expandEnvVars(out[key]);
  return out;
}

/** Checks one value (from the file or already converted from text); returns it normalised. */
const CHECKS: { [K in ConfigKey]: (v: unknown) => ServiceConfig[K] } = {
  enabled: (v) => {
    if (typeof v !== 'boolean') throw bad('enabled', 'must be on or off (true or false).');
    return v;
  },
  source: (v) => {
    if (v === null) return null;
    if (typeof v !== 'string') throw bad('source', 'must be a database address like mysql://user@host:3306/opendental.');
    parseDsn(v); // throws its own plain message
    return v;
  },
  sourcePasswordFile: (v) => (v === null ? null : absolutePath('sourcePasswordFile', v)),
  outDir: (v) => absolutePath('outDir', v),
  copyTo: (v) => (v === null ? null : absolutePath('copyTo', v)),
  window: (v) => {
    if (typeof v !== 'string') throw bad('window', 'must look like 22:00-04:00.');
    parseWindow(v);
    return v;
  },
  keep: (v) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 1000) throw bad('keep', 'must be a whole number from 1 to 1000 (how many backups to keep in each place).');
    return v;
  },
  exclude: (v) => {
    if (!Array.isArray(v) || !v.every((t) => typeof t === 'string' && t.length > 0 && t.length <= 64)) throw bad('exclude', 'must be a list of table names, separated by commas.');
    return v as string[];
  },
  logDir: (v) => absolutePath('logDir', v),
  stateFile: (v) => absolutePath('stateFile', v),
  maxRate: (v) => {
    if (v === null) return null;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1024) throw bad('maxRate', 'must be a whole number of bytes per second, at least 1024 (or empty for no limit).');
    return v;
  },
  dbTimeout: (v) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 86_400) throw bad('dbTimeout', 'must be a whole number of seconds from 1 to 86400.');
    return v;
  },
  ...OFFSITE_CHECKS,
};

export const CONFIG_KEYS = Object.keys(CHECKS) as ConfigKey[];

function isKey(key: string): key is ConfigKey {
  return (CONFIG_KEYS as string[]).includes(key);
}

/** `config set KEY VALUE`: text to a checked value; an empty VALUE means "back to the default". */
export function valueFromText(key: string, text: string): { key: ConfigKey; value: unknown } {
  if (!isKey(key)) throw new LrError('LR_USAGE', `There is no setting called ${JSON.stringify(key)}. Settings: ${CONFIG_KEYS.join(', ')}.`);
  const t = text.trim();
  if (t === '') return { key, value: undefined };
  let value: unknown = t;
  if (key === 'enabled') {
    const on = ['on', 'true', 'yes', '1'].includes(t.toLowerCase());
    const off = ['off', 'false', 'no', '0'].includes(t.toLowerCase());
    if (!on && !off) throw bad('enabled', 'must be on or off.');
    value = on;
  } else if (key === 'keep' || key === 'maxRate' || key === 'dbTimeout') {
    value = /^\d+$/.test(t) ? Number(t) : NaN;
  } else if (key === 'exclude') {
    value = t.split(',').map((s) => s.trim()).filter(Boolean);
  } else if (key === 'source' && parseDsn(t).password) {
    // Anything on a command line can be read by other users (ps, shell history).
    throw bad('source', 'must not contain the database password on the command line. Put the password in a file (mode 0600) and run: lastresort config set sourcePasswordFile /path/to/file');
  }
  return { key, value: CHECKS[key](value) };
}

export interface LoadedConfig {
  path: string;
  exists: boolean;
  config: ServiceConfig;
  /** The keys set in the file; the rest are defaults. */
  explicit: Partial<ServiceConfig>;
}

export async function loadConfig(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { path, exists: false, config: defaultConfig(), explicit: {} };
    throw new LrError('LR_BAD_CONFIG', `Cannot read the settings file ${path} (${code ?? 'unreadable'}). Check its permissions.`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new LrError('LR_BAD_CONFIG', `The settings file ${path} is not valid JSON. Fix it by hand, or delete it and set the values again with lastresort config set.`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new LrError('LR_BAD_CONFIG', `The settings file ${path} must hold a JSON object. Fix it, or delete it and use lastresort config set.`);
  const explicit: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!isKey(key)) throw new LrError('LR_BAD_CONFIG', `The settings file ${path} has an unknown setting ${JSON.stringify(key)}. Remove it; settings are: ${CONFIG_KEYS.join(', ')}.`);
    try {
      explicit[key] = CHECKS[key](value);
    } catch (err) {
      if (err instanceof LrError) throw new LrError('LR_BAD_CONFIG', `In ${path}: ${err.message}`);
      throw err;
    }
  }
  if (typeof explicit.source === 'string' && parseDsn(explicit.source).password) await refuseReadablePassword(path);
  return { path, exists: true, config: expandPaths({ ...defaultConfig(), ...explicit }), explicit: explicit as Partial<ServiceConfig> };
}

/** A password kept inside the settings' DSN is accepted only while no one else may read the file. */
async function refuseReadablePassword(path: string): Promise<void> {
  await stat(path);
  const seen = openToOthers(path, { padMode: true });
  if (!seen.open) return;
  throw new LrError('LR_BAD_CONFIG', `The settings file ${path} holds the database password but other users may read it (${seen.how}). Run ${privateFix(path)}, or move the password to a file: lastresort config set sourcePasswordFile /path/to/file`);
}

/** Sets (or with value undefined, clears) one key and saves the file atomically, mode 0600. */
export async function setConfigValue(path: string, key: ConfigKey, value: unknown): Promise<LoadedConfig> {
  const loaded = await loadConfig(path);
  const explicit: Record<string, unknown> = { ...loaded.explicit };
  if (value === undefined) delete explicit[key];
  else explicit[key] = value;
  await writeFileAtomic(path, JSON.stringify(explicit, null, 2) + '\n', { intoStream: false });
  return loadConfig(path);
}

/** The DSN as it may be shown: the password replaced. */
export function redactSource(source: string | null): string | null {
  if (!source) return source;
  try {
    const url = new URL(source);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(not a valid address)';
  }
}

/**
 * The database to back up. Its password: sourcePasswordFile when set, else the
 * one in the (0600) settings' DSN, else LASTRESORT_DB_PASSWORD.
 */
export async function resolveSource(config: ServiceConfig): Promise<Dsn> {
  if (!config.source) throw new LrError('LR_BAD_CONFIG', 'No database is set for the nightly backup. Run: lastresort config set source mysql://user@host:3306/opendental');
  const dsn = parseDsn(config.source);
  if (config.sourcePasswordFile) {
    try {
      dsn.password = (await readFile(config.sourcePasswordFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new LrError('LR_BAD_CONFIG', `Cannot read the database password file ${config.sourcePasswordFile}. Check that it exists and this account may read it.`, { cause: err });
    }
  } else if (!dsn.password) dsn.password = process.env[DB_PASSWORD_ENV] ?? '';
  return dsn;
}
