/**
 * The keyring table in the practice database: per enrolled admin, the
 * public key and the password-sealed private key, for people and for other
 * machines to see who is enrolled. The producer does not trust it: it
 * encrypts only to the keys it pinned in its own store (producer.ts), and a
 * row that no longer matches its pin is reported (KEY_MISMATCH), not used.
 * PasswordFingerprint is a keyed MAC under the producer's secret, so the
 * row alone cannot test password guesses.
 */
import type { Connection } from '../db/connect.js';
import type { KdfParams, SealedKey } from './crypto.js';
import type { PinnedKey } from './producer.js';
import { selectRows } from '../db/query.js';

export const KEYRING_TABLE = 'lastresort_keyring';

export interface KeyringEntry {
  userNum: number;
  userName: string;
  key: SealedKey;
  passwordFingerprint: string;
  enrolledAt: string;
  /** Fingerprint of the producer key the admin enrolled with. */
  producerKey: string;
}

export async function ensureKeyringTable(conn: Connection): Promise<void> {
  await conn.query(`CREATE TABLE IF NOT EXISTS ${KEYRING_TABLE} (
    UserNum BIGINT NOT NULL PRIMARY KEY,
    UserName VARCHAR(255) NOT NULL,
    PublicKey VARCHAR(64) NOT NULL,
    SealedPrivateKey VARCHAR(256) NOT NULL,
    Kdf VARCHAR(512) NOT NULL,
    PasswordFingerprint CHAR(64) NOT NULL,
    EnrolledAt DATETIME NOT NULL,
    ProducerKey VARCHAR(64) NOT NULL DEFAULT ''
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='lastresort: admin public keys and password-sealed private keys'`);
  // A table made by an earlier version has no ProducerKey column yet.
  const cols = await selectRows<unknown>(conn, "SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'ProducerKey'", [KEYRING_TABLE]);
  if (cols.length === 0) await conn.query(`ALTER TABLE ${KEYRING_TABLE} ADD COLUMN ProducerKey VARCHAR(64) NOT NULL DEFAULT ''`);
}

/** ISO 8601 (UTC) -> DATETIME text; the connection's time zone is UTC. */
const sqlDate = (iso: string) => iso.replace('T', ' ').replace(/\..*$/, '').replace(/Z$/, '');

export async function saveKey(conn: Connection, entry: KeyringEntry): Promise<void> {
  await ensureKeyringTable(conn);
  await conn.query(
    `REPLACE INTO ${KEYRING_TABLE} (UserNum, UserName, PublicKey, SealedPrivateKey, Kdf, PasswordFingerprint, EnrolledAt, ProducerKey) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [entry.userNum, entry.userName, entry.key.publicKey, entry.key.sealedPrivateKey, JSON.stringify(entry.key.kdf), entry.passwordFingerprint, sqlDate(entry.enrolledAt), entry.producerKey],
  );
}

async function tableExists(conn: Connection): Promise<boolean> {
  const exists = await selectRows<unknown>(conn, 'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [KEYRING_TABLE]);
  return exists.length > 0;
}

function parseKdf(text: string): KdfParams | null {
  try {
    return JSON.parse(text) as KdfParams;
  } catch {
    return null;
  }
}

function toEntry(r: Record<string, unknown>): KeyringEntry {
  return {
    userNum: Number(r.UserNum),
    userName: String(r.UserName),
    key: { algorithm: 'x25519', publicKey: String(r.PublicKey), sealedPrivateKey: String(r.SealedPrivateKey), kdf: parseKdf(String(r.Kdf)) as KdfParams },
    passwordFingerprint: String(r.PasswordFingerprint),
    enrolledAt: String(r.EnrolledAt).replace(' ', 'T') + 'Z',
    producerKey: String(r.ProducerKey ?? ''),
  };
}

export async function listKeyring(conn: Connection): Promise<KeyringEntry[]> {
  if (!(await tableExists(conn))) return [];
  const rows = await selectRows<Record<string, unknown>>(conn, `SELECT * FROM ${KEYRING_TABLE} ORDER BY UserNum`);
  return rows.map(toEntry);
}

export async function loadKey(conn: Connection, userNum: number): Promise<KeyringEntry | null> {
  if (!(await tableExists(conn))) return null;
  const rows = await selectRows<Record<string, unknown>>(conn, `SELECT * FROM ${KEYRING_TABLE} WHERE UserNum = ?`, [userNum]);
  return rows[0] ? toEntry(rows[0]) : null;
}

export async function deleteKey(conn: Connection, userNum: number): Promise<void> {
  if (await tableExists(conn)) await conn.query(`DELETE FROM ${KEYRING_TABLE} WHERE UserNum = ?`, [userNum]);
}

/** Why a keyring row does not match the producer's pin, or null when it does. */
export function rowMismatch(row: KeyringEntry | null, pin: PinnedKey): string | null {
  if (!row) return 'its keyring row is missing';
  if (row.key.publicKey !== pin.publicKey || row.key.sealedPrivateKey !== pin.sealedPrivateKey) return 'its keyring row holds another key';
  if (JSON.stringify(row.key.kdf) !== JSON.stringify(pin.kdf)) return 'its keyring row names other key-derivation settings';
  if (row.passwordFingerprint !== pin.passwordFingerprint) return "its keyring row's password fingerprint was changed";
  return null;
}
