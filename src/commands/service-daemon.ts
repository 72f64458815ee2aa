/**
 * `daemon` and `daemon --once`. Exit codes of --once (README "The nightly
 * service"): 0 backup made, verified, copied and no alerts; 1 no backup was
 * made (the message says why); 2 the settings are missing or wrong; 3 the
 * local backup was made but the copy failed or other alerts stand.
 */
import { EXIT, LrError } from '../errors.js';
import { setRootLogger } from '../log.js';
import { note, printJson, say, setResultCode } from '../cli/output.js';
import { humanBytes } from '../text.js';
import { onInterrupt } from '../cli/interrupt.js';
import { systemClock } from '../system/clock.js';
import { loadConfig, resolveSource, type LoadedConfig } from '../service/config.js';
import { runCycle, type CycleResult } from '../service/cycle.js';
import { runDaemon } from '../service/daemon.js';
import { RotatingLogFile, serviceLogger } from '../service/log-file.js';
import { defaultConfigPath } from '../system/paths.js';
import { stopRequestPath, watchStopRequest } from '../service/stop-request.js';

export interface DaemonCliOptions {
  config?: string;
  once?: boolean;
  json?: boolean;
  verbose?: boolean;
}

async function loadForService(path: string): Promise<LoadedConfig> {
  const loaded = await loadConfig(path);
  if (!loaded.exists) throw new LrError('LR_BAD_CONFIG', `There are no settings at ${path} yet. Set the database first: lastresort config set source mysql://user@host:3306/opendental${path === defaultConfigPath() ? '' : ` --config ${path}`}`);
  await resolveSource(loaded.config); // a missing database or password file is a settings problem: say so now
  return loaded;
}

function openLog(logDir: string, verbose?: boolean): RotatingLogFile {
  try {
    const file = new RotatingLogFile(logDir);
    setRootLogger(serviceLogger(file, { verbose }));
    return file;
  } catch (err) {
    throw new LrError('LR_IO', `Cannot write the log in ${logDir} (${(err as NodeJS.ErrnoException).code ?? 'error'}). Choose a folder this account may write to: lastresort config set logDir /path`, { cause: err });
  }
}

function summary(r: CycleResult): Record<string, unknown> {
  return { outcome: r.outcome, backup: r.backup ?? null, copy: r.copy ?? null, offsite: r.offsite ?? null, removed: r.removed, alerts: r.alerts, error: r.error ? { code: r.error.code, message: r.error.message } : null };
}

function describeNight(r: CycleResult): string {
  if (!r.backup) return `No backup was made: ${r.error?.message ?? r.outcome}`;
  const copy = r.copy ? (r.copy.ok ? `; copied and verified to ${r.copy.file}` : '; the copy FAILED') : '';
  const offsite = r.offsite ? (r.offsite.ok ? `; sent offsite to ${r.offsite.url}` : '; the offsite copy FAILED') : '';
  return `Backed up to ${r.backup.file} (${humanBytes(r.backup.bytes)}, ${r.backup.rows} rows)${copy}${offsite}; it opens with ${r.backup.admin}'s password.`;
}

export async function daemonCommand(o: DaemonCliOptions): Promise<void> {
  const path = o.config ?? defaultConfigPath();
  const loaded = await loadForService(path);
  const logFile = openLog(loaded.config.logDir, o.verbose);
  const stop = new AbortController();
  const release = onInterrupt(() => stop.abort());
  // Windows has no SIGTERM: `lastresort service stop` asks through a file instead.
  const unwatch = watchStopRequest(stopRequestPath(loaded.config.stateFile), () => {
    note('Stopping cleanly (service stop).');
    stop.abort();
  });
  try {
    if (o.once) await once(loaded, stop.signal, o.json);
    else {
      note(`lastresort daemon: backing up nightly inside ${loaded.config.window}; log in ${logFile.path}.`);
      await runDaemon({ configPath: path, clock: systemClock, signal: stop.signal, onNight: (night, r) => note(`${night}: ${describeNight(r)}`) });
    }
  } finally {
    // The log stays open: the CLI writes its final error line there too.
    release();
    unwatch();
  }
}

async function once(loaded: LoadedConfig, signal: AbortSignal, json?: boolean): Promise<void> {
  const r = await runCycle({ config: loaded.config, clock: systemClock, signal });
  if (json) printJson(summary(r));
  if (r.outcome === 'disabled') throw new LrError('LR_BACKUPS_DISABLED', 'Nightly backups are turned off, so none was made. Turn them on with: lastresort config set enabled on');
  if (r.error) throw r.error;
  if (!json) say(describeNight(r));
  if (r.backup?.keyStale) note(`Note: ${r.backup.admin} changed their password after enrolling; this backup opens with the password they had then. Ask them to run: lastresort keys enroll --user ${r.backup.admin}`);
  for (const a of r.alerts) note(`ALERT (${a.code}): ${a.message}`);
  if (r.alerts.length > 0) setResultCode(EXIT.damaged);
}
