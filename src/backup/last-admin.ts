/**
 * Who can open tonight's backup: the last security admin to log on.
 * Admin = not hidden, in a user group holding PermType 24 (SecurityAdmin),
 * which is Open Dental's own query. Last log-on = userod.DateTLastLogin
 * (set since v19.3), else the newest securitylog log-on event (PermType 83).
 */
import type { Connection } from '../db/connect.js';

export const PERM_SECURITY_ADMIN = 24;
export const PERM_USER_LOG_ON_OFF = 83;

export interface AdminCandidate {
  userNum: number;
  userName: string;
  /** userod.Password as stored: a hash, or empty for no password. */
  storedPassword: string;
  lastLoginAt: string | null;
}

/** Open Dental writes 0001-01-01 for "never"; MariaDB may hand back zero dates too. */
function realDate(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = String(v);
  return /^(0000|0001)-/.test(s) ? null : s;
}

export async function listAdmins(conn: Connection): Promise<AdminCandidate[]> {
  const [rows] = (await conn.query(
    // The log-on events are searched only for an admin without a real DateTLastLogin:
    // securitylog is one of the biggest tables, and the search costs a scan.
    `SELECT u.UserNum, u.UserName, u.Password, u.DateTLastLogin,
       CASE WHEN u.DateTLastLogin > '0001-01-02' THEN NULL ELSE
         (SELECT MAX(s.LogDateTime) FROM securitylog s
           WHERE s.PermType = ? AND s.UserNum = u.UserNum AND s.LogText LIKE '%has logged on%') END AS LastLogOnEvent
     FROM userod u
     WHERE u.IsHidden = 0 AND EXISTS (
       SELECT 1 FROM usergroupattach a JOIN grouppermission g ON g.UserGroupNum = a.UserGroupNum
       WHERE a.UserNum = u.UserNum AND g.PermType = ?)`,
    [PERM_USER_LOG_ON_OFF, PERM_SECURITY_ADMIN],
  )) as unknown as [Record<string, unknown>[]];
  return rows.map((r) => ({
    userNum: Number(r.UserNum),
    userName: String(r.UserName),
    storedPassword: String(r.Password ?? ''),
    lastLoginAt: realDate(r.DateTLastLogin) ?? realDate(r.LastLogOnEvent),
  }));
}

/** The admin whose password a backup made now must need, or null when there is no admin at all. */
export async function findLastAdmin(conn: Connection): Promise<AdminCandidate | null> {
  const admins = await listAdmins(conn);
  admins.sort((a, b) => (b.lastLoginAt ?? '').localeCompare(a.lastLoginAt ?? '') || b.userNum - a.userNum);
  return admins[0] ?? null;
}

export async function findUser(conn: Connection, userName: string): Promise<{ userNum: number; userName: string; storedPassword: string; isAdmin: boolean } | null> {
  const [rows] = (await conn.query('SELECT UserNum, UserName, Password FROM userod WHERE UserName = ? AND IsHidden = 0', [userName])) as unknown as [Record<string, unknown>[]];
  const r = rows[0];
  if (!r) return null;
  const admins = await listAdmins(conn);
  const userNum = Number(r.UserNum);
  return { userNum, userName: String(r.UserName), storedPassword: String(r.Password ?? ''), isAdmin: admins.some((a) => a.userNum === userNum) };
}
