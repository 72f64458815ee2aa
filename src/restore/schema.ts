/**
 * Splits SHOW CREATE TABLE output the way fast loaders do: the table is
 * created with its primary key (and any key the AUTO_INCREMENT column needs),
 * secondary indexes are added after the data in one ALTER, and foreign keys
 * once every table is loaded. SHOW CREATE TABLE prints one definition per
 * line, two spaces in, which is what this relies on; anything it does not
 * recognise stays in the CREATE statement, so the worst case is a slower load.
 */
import { quoteId } from '../db/connect.js';

export interface Definition {
  /** The index or constraint name, to tell whether it already exists (a resumed restore). */
  name: string;
  /** The definition line as SHOW CREATE TABLE printed it, without its comma. */
  sql: string;
}

export interface SplitSchema {
  create: string;
  /** Secondary indexes, added after the data. */
  indexes: Definition[];
  /** Foreign keys, added once every table is loaded. */
  foreignKeys: Definition[];
}

const INDEX_LINE = /^ {2}(UNIQUE KEY|KEY|FULLTEXT KEY|SPATIAL KEY|UNIQUE INDEX|INDEX) /;
const FK_LINE = /^ {2}CONSTRAINT .* FOREIGN KEY /;

function definitionName(line: string): string {
  const m = /(?:KEY|INDEX|CONSTRAINT) `((?:[^`]|``)*)`/.exec(line);
  return m ? m[1].replace(/``/g, '`') : line;
}

/** One ALTER adding the definitions not already present; null when there is nothing to add. */
export function alterAdding(table: string, defs: Definition[], existing: Set<string>): string | null {
  const missing = defs.filter((d) => !existing.has(d.name));
  return missing.length ? `ALTER TABLE ${quoteId(table)} ${missing.map((d) => `ADD ${d.sql}`).join(', ')}` : null;
}

function firstKeyColumn(line: string): string | null {
  const m = /\(`((?:[^`]|``)*)`/.exec(line);
  return m ? m[1].replace(/``/g, '`') : null;
}

function autoIncrementColumn(lines: string[]): string | null {
  for (const l of lines) {
    const m = /^ {2}`((?:[^`]|``)*)` .*\bAUTO_INCREMENT\b/.exec(l);
    if (m) return m[1].replace(/``/g, '`');
  }
  return null;
}

export function splitCreateTable(table: string, create: string, engine: string | null): SplitSchema {
  if (engine !== null && engine.toLowerCase() !== 'innodb') return { create, indexes: [], foreignKeys: [] };
  const lines = create.split('\n');
  const last = lines.length - 1; // ") ENGINE=..."
  if (lines.length < 3 || !lines[0].startsWith('CREATE TABLE') || !lines[last].startsWith(')')) return { create, indexes: [], foreignKeys: [] };
  const autoInc = autoIncrementColumn(lines);
  const keep: string[] = [];
  const indexes: Definition[] = [];
  const fks: Definition[] = [];
  for (let i = 1; i < last; i++) {
    const def = lines[i].replace(/,$/, '');
    if (FK_LINE.test(lines[i])) fks.push({ name: definitionName(def), sql: def.trim() });
    else if (INDEX_LINE.test(lines[i]) && !(autoInc !== null && firstKeyColumn(def) === autoInc)) indexes.push({ name: definitionName(def), sql: def.trim() });
    else keep.push(def);
  }
  if (keep.length === 0) return { create, indexes: [], foreignKeys: [] };
  const body = keep.map((d, i) => (i < keep.length - 1 ? `${d},` : d));
  return { create: [lines[0], ...body, lines[last]].join('\n'), indexes, foreignKeys: fks };
}
