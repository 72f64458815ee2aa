/**
 * Alerts: conditions a person must act on, shown by `status`, written to the
 * log, and turned into the exit code of `daemon --once`. Each message says
 * what to do next.
 */
import type { ServiceConfig } from './config.js';
import type { AdminProbe } from './probe.js';
import type { ServiceState } from './state.js';
import { offsiteAlerts } from './offsite-leg.js';

export type AlertCode = 'BACKUPS_DISABLED' | 'ADMIN_NO_PASSWORD' | 'ADMIN_NOT_ENROLLED' | 'KEY_STALE' | 'KEY_MISMATCH' | 'PRODUCER_KEY_REPLACED' | 'WEAK_PASSWORD' | 'NO_RECENT_BACKUP' | 'BACKUP_FAILED' | 'COPY_FAILED' | 'OFFSITE_FAILED' | 'NOT_ONE_MOMENT';

export interface Alert {
  code: AlertCode;
  message: string;
}

export const NO_BACKUP_ALERT_DAYS = 30;
const DAY_MS = 86_400_000;

/** Which alert an attempt's error code already explains, so it is not said twice. */
const EXPLAINED_BY: Record<string, AlertCode> = { LR_ADMIN_NO_PASSWORD: 'ADMIN_NO_PASSWORD', LR_ADMIN_NOT_ENROLLED: 'ADMIN_NOT_ENROLLED', LR_BACKUPS_DISABLED: 'BACKUPS_DISABLED' };

export function noPasswordMessage(userName: string): string {
  return `The last admin to log on, ${userName}, has no Open Dental password, so no backup can be protected. Set a password for ${userName} in Open Dental, then ${userName} must run: lastresort keys enroll --user ${userName}`;
}

export function notEnrolledMessage(userName: string): string {
  return `The last admin to log on, ${userName}, has not set up a backup key, so no backup can be made for them. ${userName} must run: lastresort keys enroll --user ${userName}`;
}

/**
 * `probe` is a live look at the database when one was possible; without it
 * the admin alerts come from the last attempt's failure.
 */
export function computeAlerts(config: ServiceConfig, state: ServiceState, now: Date, probe?: AdminProbe): Alert[] {
  const alerts: Alert[] = [];
  if (!config.enabled) alerts.push({ code: 'BACKUPS_DISABLED', message: 'Nightly backups are turned off. Turn them on with: lastresort config set enabled on' });

  const failed = state.lastAttempt?.outcome === 'failed' ? state.lastAttempt : undefined;
  if (probe?.reachable && probe.problems) {
    // The backup's own choice of admin (keys/choose.ts) says what must be done, naming the admin.
    for (const p of probe.problems) alerts.push({ code: p.code, message: p.message });
  } else if (probe?.reachable && probe.admin) {
    if (!probe.admin.hasPassword) alerts.push({ code: 'ADMIN_NO_PASSWORD', message: noPasswordMessage(probe.admin.userName) });
    else if (!probe.admin.enrolled) alerts.push({ code: 'ADMIN_NOT_ENROLLED', message: notEnrolledMessage(probe.admin.userName) });
  } else if (!probe?.reachable && failed && (failed.code === 'LR_ADMIN_NO_PASSWORD' || failed.code === 'LR_ADMIN_NOT_ENROLLED')) {
    alerts.push({ code: EXPLAINED_BY[failed.code]!, message: failed.message ?? '' });
  }

  const since = state.lastSuccess?.at ?? state.firstRunAt;
  if (since && now.getTime() - Date.parse(since) > NO_BACKUP_ALERT_DAYS * DAY_MS) {
    const days = Math.floor((now.getTime() - Date.parse(since)) / DAY_MS);
    alerts.push({
      code: 'NO_RECENT_BACKUP',
      message: state.lastSuccess
        ? `No backup has succeeded for ${days} days (the last was ${state.lastSuccess.at}). See the alerts above and the log in ${config.logDir}.`
        : `No backup has succeeded in the ${days} days since this service started. See the alerts above and the log in ${config.logDir}.`,
    });
  }

  if (failed && !alerts.some((a) => a.code === EXPLAINED_BY[failed.code ?? ''])) {
    alerts.push({ code: 'BACKUP_FAILED', message: `The last backup, at ${failed.at}, failed: ${failed.message ?? failed.code ?? 'unknown reason'}` });
  }
  const last = state.lastSuccess;
  if (last?.oneMoment === false) {
    alerts.push({ code: 'NOT_ONE_MOMENT', message: `The last backup, at ${last.at}, is not one moment of the database: ${last.notOneMoment ?? 'see the log'}. It restores, but its tables may not agree with each other; fix that before the next backup.` });
  }
  if (config.copyTo && state.lastCopy && !state.lastCopy.ok) {
    alerts.push({ code: 'COPY_FAILED', message: `The last copy to ${config.copyTo ?? 'the copy folder'}, at ${state.lastCopy.at}, failed: ${state.lastCopy.message ?? state.lastCopy.code ?? 'unknown reason'}` });
  }
  for (const a of offsiteAlerts(config, state, now, NO_BACKUP_ALERT_DAYS)) {
    if (!alerts.some((b) => b.code === a.code)) alerts.push(a);
  }
  return alerts;
}
