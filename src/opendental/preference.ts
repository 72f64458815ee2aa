/**
 * Like Open Dental's own supplemental backup, the practice database records
 * when the last backup completed: preference row
 * SupplementalBackupDateLastComplete, local date and time. Only an existing
 * row is updated; a database without it (not Open Dental) is left as is.
 */
import { connect } from '../db/connect.js';
import type { Dsn } from '../db/dsn.js';
import { runWrite } from '../db/query.js';

export const LAST_COMPLETE_PREF = 'SupplementalBackupDateLastComplete';

const pad2 = (n: number) => String(n).padStart(2, '0');
export function openDentalDateTime(d: Date): string {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** Returns true when the row existed and now holds `at`. */
export async function recordLastComplete(source: Dsn, at: Date): Promise<boolean> {
  const conn = await connect(source);
  try {
    const result = await runWrite(conn, 'UPDATE preference SET ValueString = ? WHERE PrefName = ?', [openDentalDateTime(at), LAST_COMPLETE_PREF]);
    return result.affectedRows > 0;
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}
