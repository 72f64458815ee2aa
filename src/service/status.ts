/**
 * `status`: everything a person (or a monitoring script) needs to know
 * whether the backups are working, gathered without changing anything.
 */
import { statfs } from 'node:fs/promises';
import { computeAlerts, type Alert } from './alerts.js';
import type { LoadedConfig } from './config.js';
import { redactSource, resolveSource } from './config.js';
import { probeAdmin, type AdminProbe } from './probe.js';
import { loadState, type BackupRecord, type CopyRecord, type AttemptRecord } from './state.js';
import { currentOrNextWindow, parseWindow } from './window.js';
import type { LrError } from '../errors.js';
import type { OffsiteRecord } from './offsite-leg.js';

export interface DiskSpace {
  path: string;
  freeBytes: number | null;
  totalBytes: number | null;
  problem?: string;
}

export interface ServiceStatus {
  configFile: string;
  configExists: boolean;
  enabled: boolean;
  source: string | null;
  lastSuccess: BackupRecord | null;
  lastCopy: CopyRecord | null;
  lastOffsite: OffsiteRecord | null;
  lastAttempt: AttemptRecord | null;
  nextWindow: { start: string; end: string; night: string; plannedAt: string | null };
  admin: { reachable: boolean; userName?: string; hasPassword?: boolean; enrolled?: boolean; keyStale?: boolean; problem?: string };
  alerts: Alert[];
  disk: DiskSpace[];
}

async function diskSpace(path: string): Promise<DiskSpace> {
  try {
    const s = await statfs(path);
    return { path, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { path, freeBytes: null, totalBytes: null, problem: code === 'ENOENT' ? 'missing' : code === 'ENOTDIR' ? 'not a folder' : code ?? 'unreadable' };
  }
}

export async function gatherStatus(loaded: LoadedConfig, now: Date = new Date()): Promise<ServiceStatus> {
  const config = loaded.config;
  const state = await loadState(config.stateFile);
  let probe: AdminProbe | undefined;
  if (config.source) {
    try {
      probe = await probeAdmin(await resolveSource(config));
    } catch (err) {
      probe = { reachable: false, code: (err as LrError).code ?? 'LR_BAD_CONFIG', message: (err as Error).message };
    }
  }
  const span = currentOrNextWindow(now, parseWindow(config.window));
  const admin: ServiceStatus['admin'] = !probe
    ? { reachable: false, problem: 'no database set' }
    : probe.reachable
      ? probe.admin
        ? { reachable: true, userName: probe.admin.userName, hasPassword: probe.admin.hasPassword, enrolled: probe.admin.enrolled, keyStale: probe.admin.keyStale }
        : { reachable: true, problem: 'no user holds the Security Admin permission' }
      : { reachable: false, problem: probe.message };
  return {
    configFile: loaded.path,
    configExists: loaded.exists,
    enabled: config.enabled,
    source: redactSource(config.source),
    lastSuccess: state.lastSuccess ?? null,
    lastCopy: state.lastCopy ?? null,
    lastOffsite: loaded.config.offsite ? (state.lastOffsite ?? null) : null,
    lastAttempt: state.lastAttempt ?? null,
    nextWindow: { start: span.start.toISOString(), end: span.end.toISOString(), night: span.night, plannedAt: state.plan?.night === span.night ? state.plan.at : null },
    admin,
    alerts: computeAlerts(config, state, now, probe),
    disk: await Promise.all([config.outDir, ...(config.copyTo ? [config.copyTo] : [])].map(diskSpace)),
  };
}
