/**
 * Stopping the service where there is no SIGTERM (Windows: Task Scheduler can
 * only kill a task, which would leave a half-written temporary backup).
 * `lastresort service stop` leaves a file beside the state; the daemon looks
 * for it every second and stops as it does on SIGTERM: cleanly, no partial
 * file. The daemon removes the file as it exits, which tells the stopper it
 * is done.
 */
import { existsSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function stopRequestPath(stateFile: string): string {
  return join(dirname(stateFile), 'stop-request');
}

/** Calls `onStop` once the request appears. The returned function ends the watch and removes the request. */
export function watchStopRequest(path: string, onStop: () => void, everyMs = 1000): () => void {
  rmSync(path, { force: true }); // one left from a stop that found nothing running
  const timer = setInterval(() => {
    if (!existsSync(path)) return;
    clearInterval(timer);
    onStop();
  }, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    rmSync(path, { force: true });
  };
}
