/**
 * Tries a store request again after a dropped connection or a busy store,
 * with growing pauses, until a deadline (the end of the night's window).
 * Pauses go through the service clock, so tests can pass hours in an instant.
 */
import { LrError } from '../errors.js';
import { log } from '../log.js';
import type { Clock } from '../system/clock.js';
import { describeStoreError, isRetryable, storeErrorOf } from './client.js';

export interface RetryContext {
  clock: Clock;
  deadline: Date;
  signal?: AbortSignal;
  /** Counts every retry made, across all requests of one upload. */
  retries: { count: number };
}

export const FIRST_PAUSE_MS = 1_000;
export const MAX_PAUSE_MS = 60_000;

export async function withRetry<T>(ctx: RetryContext, doing: string, request: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request(attempt);
    } catch (err) {
      if (ctx.signal?.aborted) throw new LrError('LR_INTERRUPTED', `The upload was stopped while ${doing}.`, { cause: err });
      const pause = Math.min(FIRST_PAUSE_MS * 2 ** attempt, MAX_PAUSE_MS);
      const retryable = isRetryable(err);
      if (!retryable || ctx.clock.now().getTime() + pause > ctx.deadline.getTime()) {
        const why = retryable ? ` Gave up after ${attempt + 1} tries (the window closes at ${ctx.deadline.toISOString()}).` : '';
        throw new LrError('LR_IO', describeStoreError(err, doing) + why, { cause: err, detail: { ...storeErrorOf(err), attempts: attempt + 1 } });
      }
      ctx.retries.count++;
      log('offsite').warn({ doing, attempt: attempt + 1, retryInMs: pause, ...storeErrorOf(err) }, 'store request failed; trying again');
      await ctx.clock.sleep(pause, ctx.signal);
    }
  }
}
