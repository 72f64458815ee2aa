/**
 * A full disk on the target as MyISAM and Aria meet it: the server does not
 * fail the statement, it waits "for someone to free space" (and still
 * answers the hung-server watch's SELECT 1), so a restore would sit at the
 * same percentage with no word, holding its table locks. Every two seconds
 * the person's own connection looks at the restore's threads in the
 * processlist; the first one found waiting so is noted once, in plain words,
 * and every such statement is ended (KILL QUERY): its table gets the
 * full-disk error (server-faults.ts), no further rows or indexes are tried,
 * and the pass ends with its report, the progress record kept and the
 * resume command, exactly as when the server refuses the rows outright.
 */
import type { Connection } from '../db/connect.js';
import { tellPerson } from '../db/watchdog.js';
import { selectRows } from '../db/query.js';
import { log } from '../log.js';
import { TARGET_DISK_FULL } from './server-faults.js';

/** The processlist state of a MyISAM/Aria write waiting on a full disk (mysys wait_for_free_space). */
export const WAITING_FOR_SPACE = 'Waiting for someone to free space';
export const DISK_WATCH_MS = 2000;

export class DiskWatch {
  /** Set once a statement of the restore was found waiting for disk space. */
  full = false;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(private readonly admin: Connection, private readonly user: string, private readonly database: string) {}

  start(): void {
    this.timer ??= setInterval(() => void this.look(), DISK_WATCH_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async look(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const waiting = await selectRows<{ id: number }>(this.admin, 'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND DB = ? AND STATE = ? AND ID <> CONNECTION_ID()', [this.user, this.database, WAITING_FOR_SPACE]);
      if (waiting.length === 0) return;
      if (!this.full) {
        this.full = true;
        log('restore').warn({ statements: waiting.length }, 'the target server is waiting for disk space: ending the loads');
        tellPerson(`${TARGET_DISK_FULL[0].toUpperCase()}${TARGET_DISK_FULL.slice(1)}. Stopping the loads; the report and the resume command follow.`);
      }
      for (const { id } of waiting) await this.admin.query(`KILL QUERY ${Number(id)}`).catch(() => {});
    } catch (err) {
      log('restore').debug({ code: (err as { code?: string }).code }, 'could not look at the processlist');
    } finally {
      this.busy = false;
    }
  }
}
