/**
 * A table's CREATE statement from a backup, checked and split.
 *
 * Checked: it must be exactly one `CREATE TABLE` of the table the catalog
 * names, unqualified, with a column list, no second statement, no
 * reference to another database, no engine or option that reaches outside
 * the database (FEDERATED, CONNECT, MERGE's UNION, DATA/INDEX DIRECTORY,
 * CONNECTION) and no `... SELECT` or `LIKE` copying another table.
 *
 * Split the way fast loaders do: the table is created with its primary key
 * (and the key its AUTO_INCREMENT column needs), secondary indexes are
 * added after the data in one ALTER, and foreign keys once every table is
 * loaded. The split is made on the tokens (top-level commas of the column
 * list), so each definition that goes into a later ALTER is one balanced
 * definition of the checked statement, never a second clause.
 */
import { closingParen, forbiddenContent, foreignReference, lexError, refuse, sameName, secondStatement, type Checked } from './checks.js';
import { isKeyword, isNameToken, isOp, tokenize, type Token } from './tokenize.js';

export interface Definition {
  /** The index or constraint name, to tell whether it already exists (a resumed restore). */
  name: string;
  /** The definition as the statement had it, without its comma. */
  sql: string;
}

export interface SplitSchema {
  create: string;
  /** Secondary indexes, added after the data. */
  indexes: Definition[];
  /** Foreign keys, added once every table is loaded. */
  foreignKeys: Definition[];
}

/** Engines that keep their rows inside the server's own data folder. */
const LOCAL_ENGINES = new Set(['innodb', 'myisam', 'aria', 'memory', 'heap', 'archive', 'blackhole', 'csv', 'rocksdb', 'tokudb', 'sequence']);
const FORBIDDEN_OPTIONS: Record<string, string> = {
  SELECT: 'it copies rows from a query',
  UNION: 'it merges other tables',
  CONNECTION: 'it connects to another server',
  DIRECTORY: 'it stores files outside the server\'s data folder',
};

export function checkCreateTable(sql: string, table: string, foreign: Set<string>): Checked<SplitSchema> {
  const tokens = tokenize(sql);
  const malformed = lexError(tokens);
  if (malformed) return refuse(malformed);
  if (!isKeyword(tokens[0], 'CREATE') || !isKeyword(tokens[1], 'TABLE')) return refuse('its definition is not a CREATE TABLE statement');
  if (!isNameToken(tokens[2]) || isOp(tokens[3], '.')) return refuse('its definition names a table in another database');
  if (!sameName(tokens[2].value, table)) return refuse(`its definition creates another table (${tokens[2].value})`);
  if (!isOp(tokens[3], '(')) return refuse('its definition has no column list');
  const close = closingParen(tokens, 3);
  if (close < 0) return refuse('its definition is incomplete');
  const reason = secondStatement(tokens) ?? foreignReference(tokens, foreign) ?? forbiddenContent(tokens.slice(3)) ?? optionProblem(tokens.slice(close + 1));
  if (reason) return refuse(reason);
  for (const t of tokens.slice(4, close)) if (isKeyword(t, 'SELECT')) return refuse(FORBIDDEN_OPTIONS.SELECT);
  return { ok: true, value: split(sql, tokens, close) };
}

/** The engine the table options name (`ENGINE=x` or `ENGINE x`), or null when they name none. */
function engineOf(options: Token[]): string | null {
  const at = options.findIndex((t) => isKeyword(t, 'ENGINE'));
  if (at < 0) return null;
  const value = isOp(options[at + 1], '=') ? options[at + 2] : options[at + 1];
  return isNameToken(value) ? value.value : null;
}

function optionProblem(options: Token[]): string | null {
  for (let k = 0; k < options.length; k++) {
    const t = options[k];
    if (t.kind !== 'word') continue;
    const word = t.value.toUpperCase();
    if (FORBIDDEN_OPTIONS[word]) return FORBIDDEN_OPTIONS[word];
    if (word === 'ENGINE') {
      const value = engineOf(options.slice(k));
      if (value === null || !LOCAL_ENGINES.has(value.toLowerCase())) return `its storage engine (${value ?? 'none'}) is not one that keeps data inside the database`;
    }
  }
  return null;
}

/** The column list's definitions: [first token, last token] of each, split at top-level commas. */
function definitions(tokens: Token[], open: number, close: number): [number, number][] {
  const out: [number, number][] = [];
  let depth = 0;
  let first = open + 1;
  for (let k = open + 1; k < close; k++) {
    if (isOp(tokens[k], '(')) depth++;
    else if (isOp(tokens[k], ')')) depth--;
    else if (depth === 0 && isOp(tokens[k], ',')) {
      out.push([first, k - 1]);
      first = k + 1;
    }
  }
  if (first < close) out.push([first, close - 1]);
  return out;
}

type Role = 'column' | 'index' | 'foreignKey' | 'other';

function roleOf(tokens: Token[], [a, b]: [number, number]): Role {
  const t = tokens[a];
  if (isNameToken(t) && t.kind === 'quoted') return 'column';
  if (isKeyword(t, 'CONSTRAINT') && tokens.slice(a, b + 1).some((x, i, all) => isKeyword(x, 'FOREIGN') && isKeyword(all[i + 1], 'KEY'))) return 'foreignKey';
  if (isKeyword(t, 'KEY', 'INDEX')) return 'index';
  if (isKeyword(t, 'UNIQUE') && isKeyword(tokens[a + 1], 'KEY', 'INDEX')) return 'index';
  if (isKeyword(t, 'FULLTEXT', 'SPATIAL') && isKeyword(tokens[a + 1], 'KEY')) return 'index';
  return 'other';
}

function definitionName(tokens: Token[], [a, b]: [number, number], text: string): string {
  for (let k = a; k < b; k++) if (isKeyword(tokens[k], 'KEY', 'INDEX', 'CONSTRAINT') && isNameToken(tokens[k + 1])) return tokens[k + 1].value;
  return text;
}

function firstKeyColumn(tokens: Token[], [a, b]: [number, number]): string | null {
  for (let k = a; k < b; k++) if (isOp(tokens[k], '(')) return tokens[k + 1]?.kind === 'quoted' ? tokens[k + 1].value : null;
  return null;
}

function split(sql: string, tokens: Token[], close: number): SplitSchema {
  const engine = engineOf(tokens.slice(close + 1));
  const whole = { create: sql, indexes: [], foreignKeys: [] };
  // Only InnoDB gains from building indexes after the rows.
  if (engine !== null && engine.toLowerCase() !== 'innodb') return whole;
  const defs = definitions(tokens, 3, close);
  const text = (d: [number, number]) => sql.slice(tokens[d[0]].start, tokens[d[1]].end);
  const autoInc = defs.find((d) => roleOf(tokens, d) === 'column' && tokens.slice(d[0], d[1] + 1).some((t) => isKeyword(t, 'AUTO_INCREMENT')));
  const autoIncColumn = autoInc ? tokens[autoInc[0]].value : null;
  const keep: string[] = [];
  const indexes: Definition[] = [];
  const foreignKeys: Definition[] = [];
  for (const d of defs) {
    const role = roleOf(tokens, d);
    const def = { name: definitionName(tokens, d, text(d)), sql: text(d) };
    if (role === 'foreignKey') foreignKeys.push(def);
    else if (role === 'index' && !(autoIncColumn !== null && firstKeyColumn(tokens, d) === autoIncColumn)) indexes.push(def);
    else keep.push(def.sql);
  }
  if (keep.length === 0) return whole;
  const head = sql.slice(0, tokens[3].end);
  const tail = sql.slice(tokens[close].start);
  return { create: `${head}\n  ${keep.join(',\n  ')}\n${tail}`, indexes, foreignKeys };
}
