/**
 * Keeps an upload under maxRate bytes per second on average: each part
 * waits until the bytes sent before it fit the budget. Parts are the unit,
 * so the rate holds over a few parts, not within one.
 */
import type { Clock } from '../system/clock.js';

export class Pacer {
  private sent = 0;
  private readonly startMs: number;
  constructor(
    private readonly bytesPerSec: number | null,
    private readonly clock: Clock,
  ) {
    this.startMs = clock.now().getTime();
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (!this.bytesPerSec) return;
    const dueMs = this.startMs + (this.sent / this.bytesPerSec) * 1000;
    this.sent += bytes;
    const wait = dueMs - this.clock.now().getTime();
    if (wait > 0) await this.clock.sleep(wait, signal);
  }
}
