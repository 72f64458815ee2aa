/**
 * A live look at who tonight's backup would be for: the last admin to log
 * on, whether they have a password and an enrolled key. `status` uses it so
 * an alert clears as soon as the admin fixes it, not the next night.
 */
import { connect } from '../db/connect.js';
import type { Dsn } from '../db/dsn.js';
import { findLastAdmin } from '../backup/last-admin.js';
import { loadKey, passwordFingerprint } from '../keys/keyring.js';
import { LrError } from '../errors.js';

export type AdminProbe =
  | { reachable: true; admin: { userNum: number; userName: string; hasPassword: boolean; enrolled: boolean; keyStale: boolean } | null }
  | { reachable: false; code: string; message: string };

export async function probeAdmin(source: Dsn): Promise<AdminProbe> {
  try {
    const conn = await connect(source);
    try {
      const admin = await findLastAdmin(conn);
      if (!admin) return { reachable: true, admin: null };
      const key = await loadKey(conn, admin.userNum);
      const hasPassword = admin.storedPassword !== '';
      return {
        reachable: true,
        admin: { userNum: admin.userNum, userName: admin.userName, hasPassword, enrolled: key !== null, keyStale: key !== null && hasPassword && key.passwordFingerprint !== passwordFingerprint(admin.storedPassword) },
      };
    } finally {
      await conn.end().catch(() => conn.destroy());
    }
  } catch (err) {
    if (err instanceof LrError) return { reachable: false, code: err.code, message: err.message };
    const e = err as { code?: string };
    return { reachable: false, code: e.code ?? 'LR_DB', message: `The database could not be read (${e.code ?? 'error'}).` };
  }
}
