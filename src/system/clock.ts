/**
 * Time as the service sees it, injectable so tests can run a week of nights
 * in a second. A sleep that is aborted resolves early instead of throwing:
 * the caller checks the signal.
 */
import { setTimeout as delay } from 'node:timers/promises';

export interface Clock {
  now(): Date;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) => delay(Math.max(0, ms), undefined, { signal }).catch(() => {}),
};
