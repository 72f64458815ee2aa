/**
 * The offsite step of the nightly cycle and its alerts. A failure here never
 * touches the local backup: it is recorded and raised as OFFSITE_FAILED.
 */
import { LrError } from '../errors.js';
import { log } from '../log.js';
import type { Alert } from './alerts.js';
import type { Clock } from '../system/clock.js';
import type { ServiceConfig } from './config.js';
import type { BackupRecord, ServiceState } from './state.js';
import { currentOrNextWindow, isInside, parseWindow } from './window.js';
import { sendOffsite } from '../offsite/send.js';

export interface OffsiteRecord {
  at: string;
  ok: boolean;
  /** The backup (its lastSuccess.at) this record is about. */
  backupAt: string;
  url?: string;
  bytes?: number;
  sha256?: string;
  retries?: number;
  code?: string;
  message?: string;
}

/** Outside the window (a manual `daemon --once`) retries get this long. */
export const OFFSITE_RETRY_OUTSIDE_WINDOW_MS = 60 * 60_000;

export function uploadDeadline(config: ServiceConfig, now: Date): Date {
  const span = currentOrNextWindow(now, parseWindow(config.window));
  return isInside(now, span) ? span.end : new Date(now.getTime() + OFFSITE_RETRY_OUTSIDE_WINDOW_MS);
}

export async function runOffsiteLeg(config: ServiceConfig, backup: BackupRecord & { database: string }, clock: Clock, signal?: AbortSignal): Promise<OffsiteRecord> {
  const logger = log('offsite');
  const started = clock.now();
  try {
    const sent = await sendOffsite({ config, backup, clock, signal, deadline: uploadDeadline(config, started) });
    logger.info({ url: sent.url, bytes: sent.bytes, retries: sent.retries, durationMs: clock.now().getTime() - started.getTime() }, 'offsite copy stored');
    return { at: clock.now().toISOString(), ok: true, backupAt: backup.at, url: sent.url, bytes: sent.bytes, sha256: sent.sha256, retries: sent.retries };
  } catch (err) {
    const e = err instanceof LrError ? err : new LrError('LR_IO', `The offsite upload failed unexpectedly (${(err as Error)?.message?.slice(0, 100) ?? 'unknown'}).`, { cause: err });
    logger.error({ step: 'offsite', code: e.code, detail: e.detail }, e.message);
    return { at: clock.now().toISOString(), ok: false, backupAt: backup.at, code: e.code, message: e.message };
  }
}

/** OFFSITE_FAILED for a failed or missing upload of the latest backup; staleness goes to NO_RECENT_BACKUP. */
export function offsiteAlerts(config: ServiceConfig, state: ServiceState, now: Date, staleDays: number): Alert[] {
  if (!config.offsite) return [];
  const alerts: Alert[] = [];
  const last = state.lastOffsite;
  if (last && !last.ok) {
    alerts.push({ code: 'OFFSITE_FAILED', message: `The last offsite copy, at ${last.at}, failed: ${last.message ?? last.code ?? 'unknown reason'} The local backup is not affected.` });
  } else if (state.lastSuccess && last?.backupAt !== state.lastSuccess.at) {
    alerts.push({ code: 'OFFSITE_FAILED', message: `The latest backup (${state.lastSuccess.at}) has no offsite copy. Check the log in ${config.logDir}; it is sent with the next backup (or now: lastresort daemon --once).` });
  }
  const since = state.lastOffsiteSuccess?.at ?? state.offsiteSince;
  const days = since ? Math.floor((now.getTime() - Date.parse(since)) / 86_400_000) : 0;
  if (since && days > staleDays) {
    alerts.push({
      code: 'NO_RECENT_BACKUP',
      message: state.lastOffsiteSuccess ? `No offsite copy has succeeded for ${days} days (the last was ${state.lastOffsiteSuccess.at}). See the log in ${config.logDir}.` : `No offsite copy has succeeded in the ${days} days since it was turned on. See the log in ${config.logDir}.`,
    });
  }
  return alerts;
}
