/**
 * Who can open tonight's backup: the last security admin to log on.
 * Admin = not hidden, in a user group holding PermType 24 (SecurityAdmin),
 * which is Open Dental's own query. Last log-on = userod.DateTLastLogin
 * (set since v19.3), else the newest securitylog log-on event (PermType 83).
 * Open Dental writes both in the practice's local time, which is the
 * producer's (it runs on the practice server). A log-on later than now (plus
 * a little clock slack between workstations) is ignored: a row set in the
 * future must not choose the admin every night.
 */
import type { Connection } from '../db/connect.js';
import { selectRows } from '../db/query.js';

export const PERM_SECURITY_ADMIN = 24;
export const PERM_USER_LOG_ON_OFF = 83;

export interface AdminCandidate {
  userNum: number;
  userName: string;
  /** userod.Password as stored: a hash, or empty for no password. */
  storedPassword: string;
  /** ISO 8601 with the producer's UTC offset, e.g. 2026-03-02T08:15:00-05:00. */
  lastLoginAt: string | null;
  /** For ordering: lastLoginAt as milliseconds since the epoch. */
  lastLoginMs: number | null;
  /** DateTLastLogin lay in the future and was ignored. */
  futureLoginIgnored: boolean;
}

/** Workstation clocks drift; a log-on up to this far ahead of the producer's clock still counts. */
const LOGIN_CLOCK_SLACK_MS = 10 * 60_000;

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');

/** A Date as the local DATETIME text Open Dental writes. */
export function localDateTime(d: Date): string {
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Local DATETIME text -> ISO 8601 with the local offset, and its instant. */
export function localToIso(text: string): { iso: string; ms: number } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(text);
  if (!m) return null;
  const d = new Date(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return { iso: `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${zone}`, ms: d.getTime() };
}

/** Open Dental writes 0001-01-01 for "never"; MariaDB may hand back zero dates too. */
function realDate(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = String(v);
  return /^(0000|0001)-/.test(s) ? null : s;
}

export async function listAdmins(conn: Connection, now: Date = new Date()): Promise<AdminCandidate[]> {
  const latest = localDateTime(new Date(now.getTime() + LOGIN_CLOCK_SLACK_MS));
  const rows = await selectRows<Record<string, unknown>>(conn, 
    // The log-on events are searched only for an admin without a usable DateTLastLogin:
    // securitylog is one of the biggest tables, and the search costs a scan.
    `SELECT u.UserNum, u.UserName, u.Password, CAST(u.DateTLastLogin AS CHAR) AS DateTLastLogin, u.DateTLastLogin > ? AS FutureLogin,
       CASE WHEN u.DateTLastLogin > '0001-01-02' AND u.DateTLastLogin <= ? THEN NULL ELSE
         (SELECT CAST(MAX(s.LogDateTime) AS CHAR) FROM securitylog s
           WHERE s.PermType = ? AND s.UserNum = u.UserNum AND s.LogText LIKE '%has logged on%' AND s.LogDateTime <= ?) END AS LastLogOnEvent
     FROM userod u
     WHERE u.IsHidden = 0 AND EXISTS (
       SELECT 1 FROM usergroupattach a JOIN grouppermission g ON g.UserGroupNum = a.UserGroupNum
       WHERE a.UserNum = u.UserNum AND g.PermType = ?)`,
    [latest, latest, PERM_USER_LOG_ON_OFF, latest, PERM_SECURITY_ADMIN],
  );
  return rows.map((r) => {
    const future = Number(r.FutureLogin) === 1;
    const when = localToIso((future ? null : realDate(r.DateTLastLogin)) ?? realDate(r.LastLogOnEvent) ?? '');
    return { userNum: Number(r.UserNum), userName: String(r.UserName), storedPassword: String(r.Password ?? ''), lastLoginAt: when?.iso ?? null, lastLoginMs: when?.ms ?? null, futureLoginIgnored: future };
  });
}

/** Latest log-on first; never-logged-on last; ties by the newer user. */
export function byLastLogin(a: AdminCandidate, b: AdminCandidate): number {
  return (b.lastLoginMs ?? -Infinity) - (a.lastLoginMs ?? -Infinity) || b.userNum - a.userNum;
}

/** The last admin to log on, or null when there is no admin at all. */
export async function findLastAdmin(conn: Connection, now: Date = new Date()): Promise<AdminCandidate | null> {
  const admins = await listAdmins(conn, now);
  admins.sort(byLastLogin);
  return admins[0] ?? null;
}

export async function findUser(conn: Connection, userName: string): Promise<{ userNum: number; userName: string; storedPassword: string; isAdmin: boolean } | null> {
  const rows = await selectRows<Record<string, unknown>>(conn, 'SELECT UserNum, UserName, Password FROM userod WHERE UserName = ? AND IsHidden = 0', [userName]);
  const r = rows[0];
  if (!r) return null;
  const admins = await listAdmins(conn);
  const userNum = Number(r.UserNum);
  return { userNum, userName: String(r.UserName), storedPassword: String(r.Password ?? ''), isAdmin: admins.some((a) => a.userNum === userNum) };
}
