/**
 * The keyring table in the practice database. It holds, per enrolled admin,
 * the public key and the password-sealed private key: nothing in it opens a
 * backup without the admin's password. The fingerprint of userod.Password at
 * enrollment tells the producer when the admin has changed their password
 * since (the backups then still open with the old one).
 */
import { createHash } from 'node:crypto';
import type { Connection } from '../db/connect.js';
import type { KdfParams, SealedKey } from './crypto.js';

export const KEYRING_TABLE = 'lastresort_keyring';

export interface KeyringEntry {
  userNum: number;
  userName: string;
  key: SealedKey;
  passwordFingerprint: string;
  enrolledAt: string;
}

export function passwordFingerprint(storedHash: string): string {
  return createHash('sha256').update(storedHash, 'utf8').digest('hex');
}

export async function ensureKeyringTable(conn: Connection): Promise<void> {
  await conn.query(`CREATE TABLE IF NOT EXISTS ${KEYRING_TABLE} (
    UserNum BIGINT NOT NULL PRIMARY KEY,
    UserName VARCHAR(255) NOT NULL,
    PublicKey VARCHAR(64) NOT NULL,
    SealedPrivateKey VARCHAR(256) NOT NULL,
    Kdf VARCHAR(512) NOT NULL,
    PasswordFingerprint CHAR(64) NOT NULL,
    EnrolledAt DATETIME NOT NULL
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='lastresort: admin public keys and password-sealed private keys'`);
}

export async function saveKey(conn: Connection, entry: KeyringEntry): Promise<void> {
  await ensureKeyringTable(conn);
  await conn.query(
    `REPLACE INTO ${KEYRING_TABLE} (UserNum, UserName, PublicKey, SealedPrivateKey, Kdf, PasswordFingerprint, EnrolledAt) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [entry.userNum, entry.userName, entry.key.publicKey, entry.key.sealedPrivateKey, JSON.stringify(entry.key.kdf), entry.passwordFingerprint, entry.enrolledAt.replace('T', ' ').replace(/\..*$/, '')],
  );
}

export async function loadKey(conn: Connection, userNum: number): Promise<KeyringEntry | null> {
  const [exists] = (await conn.query('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?', [KEYRING_TABLE])) as unknown as [unknown[]];
  if (exists.length === 0) return null;
  const [rows] = (await conn.query(`SELECT * FROM ${KEYRING_TABLE} WHERE UserNum = ?`, [userNum])) as unknown as [Record<string, unknown>[]];
  const r = rows[0];
  if (!r) return null;
  return {
    userNum: Number(r.UserNum),
    userName: String(r.UserName),
    key: { algorithm: 'x25519', publicKey: String(r.PublicKey), sealedPrivateKey: String(r.SealedPrivateKey), kdf: JSON.parse(String(r.Kdf)) as KdfParams },
    passwordFingerprint: String(r.PasswordFingerprint),
    enrolledAt: String(r.EnrolledAt),
  };
}
