/**
 * Whom tonight's backup is encrypted to, and what people must be told:
 *   1. the last admin to log on, when the producer pinned a key for them that
 *      is current (matches its keyring row, password unchanged);
 *   2. else the pinned admin with a current key who logged on most recently;
 *   3. else the pinned admin who logged on most recently, stale or with a
 *      tampered row (the pinned key itself is genuine: it still opens);
 *   plus the practice recovery key when there is one. Only with no pinned
 *   admin and no recovery key is no backup made.
 */
import type { Connection } from '../db/connect.js';
import { byLastLogin, listAdmins, type AdminCandidate } from '../opendental/last-admin.js';
import { fingerprintsEqual, keyedPasswordFingerprint } from './crypto.js';
import { listKeyring, rowMismatch, type KeyringEntry } from './keyring.js';
import { weakerThan, type PinnedKey, type ProducerStore, type RecoveryPin } from './producer.js';

export type KeyProblemCode = 'ADMIN_NO_PASSWORD' | 'ADMIN_NOT_ENROLLED' | 'KEY_STALE' | 'KEY_MISMATCH' | 'PRODUCER_KEY_REPLACED' | 'WEAK_PASSWORD';

export interface KeyProblem {
  code: KeyProblemCode;
  userName: string;
  message: string;
}

export type KeyState = 'ok' | 'stale' | 'mismatch' | 'not-enrolled' | 'no-password';

export interface AdminKeyStatus {
  admin: AdminCandidate;
  pin: PinnedKey | null;
  row: KeyringEntry | null;
  state: KeyState;
  /** Why the row does not match the pin (state 'mismatch'). */
  mismatch?: string;
}

export interface RecipientChoice {
  /** Every visible security admin, latest log-on first. */
  admins: AdminKeyStatus[];
  lastAdmin: AdminKeyStatus | null;
  chosen: AdminKeyStatus | null;
  recovery: RecoveryPin | null;
  problems: KeyProblem[];
}

/** "2 Mar 2026" */
export function shortDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso.slice(0, 10) : d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
}

function stateOf(admin: AdminCandidate, pin: PinnedKey | null, row: KeyringEntry | null, store: ProducerStore): Omit<AdminKeyStatus, 'admin' | 'pin' | 'row'> {
  if (admin.storedPassword === '') return { state: 'no-password' };
  if (!pin) return { state: 'not-enrolled' };
  if (weakerThan(pin.kdf, store.minimumKdf)) return { state: 'mismatch', mismatch: 'its key derivation is weaker than this server asks for' };
  const mismatch = rowMismatch(row, pin);
  if (mismatch) return { state: 'mismatch', mismatch };
  const current = keyedPasswordFingerprint(store.fingerprintKey, admin.storedPassword);
  return { state: fingerprintsEqual(current, pin.passwordFingerprint) ? 'ok' : 'stale' };
}

const enroll = (u: string) => `${u} must run: lastresort keys enroll --user ${u}`;

function problemsOf(c: Omit<RecipientChoice, 'problems'>, store: ProducerStore, rows: KeyringEntry[]): KeyProblem[] {
  const out: KeyProblem[] = [];
  const last = c.lastAdmin;
  const instead = c.chosen && c.chosen !== last ? `tonight's backup opens with ${c.chosen.admin.userName}'s password instead` : c.recovery && !c.chosen ? "tonight's backup opens only with the practice recovery code" : null;
  if (last?.state === 'no-password') {
    const u = last.admin.userName;
    out.push({ code: 'ADMIN_NO_PASSWORD', userName: u, message: instead ? `The last admin to log on, ${u}, has no Open Dental password, so ${instead}. Set a password for ${u} in Open Dental, then ${enroll(u)}` : `The last admin to log on, ${u}, has no Open Dental password, so no backup can be protected. Set a password for ${u} in Open Dental, then ${enroll(u)}` });
  } else if (last?.state === 'not-enrolled') {
    const u = last.admin.userName;
    out.push({ code: 'ADMIN_NOT_ENROLLED', userName: u, message: instead ? `The last admin to log on, ${u}, has not set up a backup key, so ${instead}. ${enroll(u)}` : `The last admin to log on, ${u}, has not set up a backup key, so no backup can be made for them. ${enroll(u)}` });
  }
  for (const s of c.admins) {
    const u = s.admin.userName;
    if (s.state === 'stale') {
      out.push({ code: 'KEY_STALE', userName: u, message: `${u} changed their Open Dental password after setting up the backup key, so backups for ${u} open only with the password ${u} had on ${shortDate(s.pin!.enrolledAt)}. ${enroll(u)}` });
    } else if (s.state === 'mismatch') {
      out.push({ code: 'KEY_MISMATCH', userName: u, message: `The backup key of ${u} in the practice database does not match the one this server pinned when ${u} enrolled (${s.mismatch}): someone may have tried to redirect the backups. The pinned key is not replaced; check who can write to the database, then ${enroll(u)}` });
    }
    const weak = s.pin?.weakPassword;
    if (weak && (s.state === 'ok' || s.state === 'stale')) {
      out.push({ code: 'WEAK_PASSWORD', userName: u, message: `${u} enrolled on ${shortDate(weak.acceptedAt)} with a password weak against Open Dental's own hash (accepted with --accept-weak-password): anyone who can read the userod table could find it and open every backup made for ${u}. ${u} should choose a stronger Open Dental password, then ${enroll(u)}` });
    }
  }
  // Keyring rows made with another producer key and never pinned here: this server's key is new.
  const orphans = rows.filter((r) => r.producerKey !== store.fingerprint && !c.admins.some((s) => s.pin && s.admin.userNum === r.userNum));
  if (orphans.length > 0) {
    const names = orphans.map((r) => r.userName);
    out.push({ code: 'PRODUCER_KEY_REPLACED', userName: names[0]!, message: `This server's backup signing key (${store.fingerprint}) is not the one ${names.join(', ')} enrolled with (a rebuilt or replaced server?). Older backups still open as before, but each admin must enroll again on this server: lastresort keys enroll --user ${names[0]}` });
  }
  return out;
}

export async function chooseRecipients(conn: Connection, store: ProducerStore, database: string, now: Date = new Date()): Promise<RecipientChoice> {
  const [candidates, rows] = await Promise.all([listAdmins(conn, now), listKeyring(conn)]);
  const pins = store.pins(database);
  const admins: AdminKeyStatus[] = candidates.sort(byLastLogin).map((admin) => {
    const pin = pins.admins[String(admin.userNum)] ?? null;
    const row = rows.find((r) => r.userNum === admin.userNum) ?? null;
    return { admin, pin, row, ...stateOf(admin, pin, row, store) };
  });
  const lastAdmin = admins[0] ?? null;
  const usable = (s: AdminKeyStatus) => s.pin !== null && s.state !== 'no-password' && !weakerThan(s.pin.kdf, store.minimumKdf);
  const chosen = (lastAdmin?.state === 'ok' ? lastAdmin : null) ?? admins.find((s) => s.state === 'ok') ?? admins.find((s) => usable(s) && s.state === 'stale') ?? admins.find(usable) ?? null;
  const choice = { admins, lastAdmin, chosen, recovery: pins.recovery };
  return { ...choice, problems: problemsOf(choice, store, rows) };
}
