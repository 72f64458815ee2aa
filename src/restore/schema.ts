/**
 * Adding a table's secondary indexes and foreign keys after its rows are in.
 * The definitions come from the checked split of its CREATE statement
 * (src/sql/create-table.ts): each is one balanced definition of that
 * statement.
 */
import { quoteId } from '../db/connect.js';
import type { Definition } from '../sql/create-table.js';

/** One ALTER adding the definitions not already present; null when there is nothing to add. */
export function alterAdding(table: string, defs: Definition[], existing: Set<string>): string | null {
  const missing = defs.filter((d) => !existing.has(d.name));
  return missing.length ? `ALTER TABLE ${quoteId(table)} ${missing.map((d) => `ADD ${d.sql}`).join(', ')}` : null;
}
