/**
 * The service loop. Each turn re-reads the settings and the state and asks
 * one question: what should happen now? It never sleeps more than a minute
 * at a time, so a changed setting, a clock that jumps, a DST change or a
 * machine that slept is noticed within a minute. A night's backup starts at
 * a random time inside the window (kept in the state, so a restart does not
 * roll again); while the database is down it retries with growing pauses
 * until the window closes, then gives up for the night and alerts.
 */
import type { LrError } from '../errors.js';
import { log } from '../log.js';
import type { Clock } from '../system/clock.js';
import { loadConfig, type ServiceConfig } from './config.js';
import { runCycle, TRANSIENT_CODES, type CycleResult } from './cycle.js';
import { loadState, updateState } from './state.js';
import { currentOrNextWindow, isInside, parseWindow, pickRunTime, type WindowSpan } from './window.js';

export const MAX_NAP_MS = 60_000;
/** Pauses between tries while the database is down, then the last one repeats. */
export const RETRY_PAUSES_MS = [60_000, 2 * 60_000, 5 * 60_000, 10 * 60_000, 15 * 60_000];

export interface DaemonOptions {
  configPath: string;
  clock: Clock;
  signal: AbortSignal;
  random?: () => number;
  retryPausesMs?: number[];
  /** Told after every finished night (for a person watching, and for tests). */
  onNight?: (night: string, result: CycleResult) => void;
}

async function napUntil(clock: Clock, target: Date, signal: AbortSignal): Promise<void> {
  const ms = target.getTime() - clock.now().getTime();
  await clock.sleep(Math.min(Math.max(ms, 0), MAX_NAP_MS), signal);
}

/** Keeps the last good settings when the file turns bad while running; a person sees it in the log. */
async function currentConfig(path: string, lastGood: ServiceConfig): Promise<ServiceConfig> {
  try {
    return (await loadConfig(path)).config;
  } catch (err) {
    log('service').error({ code: (err as LrError).code }, `${(err as Error).message} Keeping the previous settings.`);
    return lastGood;
  }
}

/** Tonight's backup with retries inside the window; returns the last try's result. */
async function backUpTonight(config: ServiceConfig, span: WindowSpan, opts: DaemonOptions): Promise<CycleResult> {
  const pauses = opts.retryPausesMs ?? RETRY_PAUSES_MS;
  const logger = log('service');
  for (let attempt = 0; ; attempt++) {
    // Re-read before each try: a person may have fixed the address (or turned backups off) meanwhile.
    if (attempt > 0) config = await currentConfig(opts.configPath, config);
    const result = await runCycle({ config, clock: opts.clock, signal: opts.signal });
    if (result.outcome !== 'failed' || !TRANSIENT_CODES.has(result.error!.code) || opts.signal.aborted) return result;
    const pause = pauses[Math.min(attempt, pauses.length - 1)]!;
    const retryAt = new Date(opts.clock.now().getTime() + pause);
    if (retryAt.getTime() >= span.end.getTime()) {
      logger.error({ night: span.night, attempts: attempt + 1, code: result.error!.code }, 'giving up for tonight: the window closed');
      return result;
    }
    logger.warn({ night: span.night, attempt: attempt + 1, retryInMs: pause, code: result.error!.code }, 'backup failed; will try again inside the window');
    while (!opts.signal.aborted && opts.clock.now().getTime() < retryAt.getTime()) await napUntil(opts.clock, retryAt, opts.signal);
    if (opts.signal.aborted) return result;
  }
}

/** Runs until `signal` aborts (SIGTERM). Returns only then. */
export async function runDaemon(opts: DaemonOptions): Promise<void> {
  const logger = log('service');
  const config = (await loadConfig(opts.configPath)).config; // bad settings at start: the caller reports them
  logger.info({ window: config.window, outDir: config.outDir, copyTo: config.copyTo, enabled: config.enabled }, 'service started');
  const run: RunContext = { opts, random: opts.random ?? Math.random, config, saidDisabled: false };
  while (!opts.signal.aborted) {
    try {
      await turn(run);
    } catch (err) {
      // Say it and carry on: a service that dies at 3 a.m. makes no backup the night after either.
      logger.error({ code: (err as LrError).code, cause: (err as Error).message?.slice(0, 200) }, (err as Error).message);
      await opts.clock.sleep(MAX_NAP_MS, opts.signal);
    }
  }
  logger.info({}, 'service stopped');
}

interface RunContext {
  opts: DaemonOptions;
  random: () => number;
  /** The settings in force (the last good ones if the file turns bad). */
  config: ServiceConfig;
  saidDisabled: boolean;
}

/** One turn of the loop: decide what now calls for, then do it or nap. */
async function turn(run: RunContext): Promise<void> {
  const { clock, signal } = run.opts;
  const logger = log('service');
  const config = (run.config = await currentConfig(run.opts.configPath, run.config));
  const now = clock.now();
  if (!config.enabled) {
    if (!run.saidDisabled) logger.warn({ alert: 'BACKUPS_DISABLED' }, 'Nightly backups are turned off; waiting until they are turned on.');
    run.saidDisabled = true;
    await clock.sleep(MAX_NAP_MS, signal);
    return;
  }
  run.saidDisabled = false;
  const span = currentOrNextWindow(now, parseWindow(config.window));
  const state = await loadState(config.stateFile);
  if (state.nightDone === span.night || !isInside(now, span)) {
    // Tonight is done (or the window has not opened): wait for the next opening.
    await napUntil(clock, state.nightDone === span.night ? span.end : span.start, signal);
    return;
  }
  let plannedAt = state.plan?.night === span.night ? new Date(state.plan.at) : null;
  if (!plannedAt) {
    plannedAt = pickRunTime(span, now, run.random);
    const at = plannedAt.toISOString();
    await updateState(config.stateFile, (s) => {
      s.plan = { night: span.night, at };
    });
    logger.info({ night: span.night, plannedAt: at }, "tonight's backup is planned");
  }
  if (now.getTime() < plannedAt.getTime()) {
    await napUntil(clock, plannedAt, signal);
    return;
  }
  const result = await backUpTonight(config, span, run.opts);
  if (result.outcome === 'interrupted') return; // SIGTERM: this night is not done; a restart tries again
  await updateState(config.stateFile, (s) => {
    s.nightDone = span.night;
  });
  run.opts.onNight?.(span.night, result);
}
