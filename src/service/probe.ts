/**
 * A live look at who tonight's backup would be for, with the same choice
 * the backup makes (keys/choose.ts): the admin, whether they have a
 * password and a current pinned key, and every key problem to alert on.
 * `status` uses it so an alert clears as soon as the admin fixes it, not
 * the next night.
 */
import { connect } from '../db/connect.js';
import type { Dsn } from '../db/dsn.js';
import { chooseRecipients, type KeyProblem } from '../keys/choose.js';
import { noProducerStore, peekProducerStore } from '../keys/producer.js';
import { LrError } from '../errors.js';

export type AdminProbe =
  | { reachable: true; admin: { userNum: number; userName: string; hasPassword: boolean; enrolled: boolean; keyStale: boolean } | null; problems?: KeyProblem[]; recovery?: boolean }
  | { reachable: false; code: string; message: string };

export async function probeAdmin(source: Dsn, producerKeyFile?: string): Promise<AdminProbe> {
  try {
    const store = (await peekProducerStore(producerKeyFile)) ?? noProducerStore(producerKeyFile);
    const conn = await connect(source);
    try {
      const choice = await chooseRecipients(conn, store, source.database);
      const s = choice.chosen ?? choice.lastAdmin;
      if (!s) return { reachable: true, admin: null, problems: choice.problems, recovery: choice.recovery !== null };
      const admin = { userNum: s.admin.userNum, userName: s.admin.userName, hasPassword: s.state !== 'no-password', enrolled: s.pin !== null, keyStale: s.state === 'stale' };
      return { reachable: true, admin, problems: choice.problems, recovery: choice.recovery !== null };
    } finally {
      await conn.end().catch(() => conn.destroy());
    }
  } catch (err) {
    if (err instanceof LrError) return { reachable: false, code: err.code, message: err.message };
    const e = err as { code?: string };
    return { reachable: false, code: e.code ?? 'LR_DB', message: `The database could not be read (${e.code ?? 'error'}).` };
  }
}
