/**
 * A view, routine, trigger or event from a backup, checked and made safe
 * before it is created:
 *
 * - exactly one `CREATE` of its declared kind with its declared name,
 *   unqualified; a trigger only on a table of this backup;
 * - nothing in it that reaches outside the database: no other database by
 *   name, no files (INTO OUTFILE, LOAD_FILE, LOAD DATA), no accounts or
 *   grants, no server settings, no dynamic SQL (which cannot be checked);
 * - its DEFINER replaced by the restoring account (MySQL Shell's
 *   strip_definers does the same), unless definers are kept; SQL SECURITY
 *   is left as it was;
 * - an event is created DISABLE'd: nothing from a backup runs on a
 *   schedule until a person enables it.
 *
 * The server's own privileges are the second wall (isolation.ts): the
 * statement runs as an account with rights on the target database only.
 */
import type { ObjectDefinition } from '../archive/layout.js';
import { closingParen, forbiddenContent, foreignReference, lexError, refuse, sameName, secondStatement, type Checked } from './checks.js';
import { BodyReader } from './body.js';
import { settingsProblem } from './object-settings.js';
import { isKeyword, isNameToken, isOp, lexModeOf, tokenize, type Token } from './tokenize.js';

export interface ObjectContext {
  /** The backup's table names: a trigger may only be on one of them. */
  tables: Set<string>;
  /** Databases that are not the target (foreignDatabases in checks.ts). */
  foreign: Set<string>;
  /** The account objects are defined by (quoted, user@host), or null to keep the file's definers. */
  definer: string | null;
  /** Definers of the file kept as they are (definerKey of each): --keep-definers, for accounts confined to the target. */
  keep?: Set<string>;
}

export interface SafeObject {
  /** The statement to run. */
  sql: string;
  /** The file's DEFINER, when it was replaced. */
  definerReplaced?: string;
  /** An event that the file had enabled and that is created disabled. */
  eventDisabled?: boolean;
}

const KIND_WORDS: Record<ObjectDefinition['kind'], string[]> = {
  view: ['VIEW'],
  routine: ['PROCEDURE', 'FUNCTION'],
  trigger: ['TRIGGER'],
  event: ['EVENT'],
};

interface Head {
  /** [first, last] tokens of the DEFINER clause, if there is one. */
  definer: [number, number] | null;
  kind: string;
  name: number;
}

/** CREATE [OR REPLACE] [ALGORITHM = x] [DEFINER = u@h] [SQL SECURITY x] [AGGREGATE] kind [IF NOT EXISTS] name */
function readHead(tokens: Token[]): Head | string {
  if (!isKeyword(tokens[0], 'CREATE')) return 'its definition is not a CREATE statement';
  let k = 1;
  let definer: [number, number] | null = null;
  if (isKeyword(tokens[k], 'OR') && isKeyword(tokens[k + 1], 'REPLACE')) k += 2;
  for (;;) {
    if (isKeyword(tokens[k], 'ALGORITHM') && isOp(tokens[k + 1], '=')) k += 3;
    else if (isKeyword(tokens[k], 'SQL') && isKeyword(tokens[k + 1], 'SECURITY')) k += 3;
    else if (isKeyword(tokens[k], 'AGGREGATE')) k += 1;
    else if (isKeyword(tokens[k], 'DEFINER') && isOp(tokens[k + 1], '=')) {
      const end = definerEnd(tokens, k + 2);
      if (end < 0) return 'its DEFINER is malformed';
      definer = [k, end];
      k = end + 1;
    } else break;
  }
  const kind = tokens[k];
  if (!kind || kind.kind !== 'word') return 'its definition is not a CREATE statement';
  k++;
  if (isKeyword(tokens[k], 'IF') && isKeyword(tokens[k + 1], 'NOT') && isKeyword(tokens[k + 2], 'EXISTS')) k += 3;
  if (!isNameToken(tokens[k])) return 'its definition has no name';
  if (isOp(tokens[k + 1], '.')) return 'its definition names an object in another database';
  return { definer, kind: kind.value.toUpperCase(), name: k };
}

/** The last token of `user@host` (or CURRENT_USER[()]) starting at `at`, or -1. */
function definerEnd(tokens: Token[], at: number): number {
  const user = tokens[at];
  if (isKeyword(user, 'CURRENT_USER')) return isOp(tokens[at + 1], '(') && isOp(tokens[at + 2], ')') ? at + 2 : at;
  if (!user || !(isNameToken(user) || user.kind === 'string')) return -1;
  const next = tokens[at + 1];
  if (next?.kind === 'variable' && next.start === user.end) return at + 1; // user@host, unquoted host
  if (isOp(next, '@') && tokens[at + 2] && (isNameToken(tokens[at + 2]) || tokens[at + 2].kind === 'string')) return at + 2;
  return at;
}

/** BEFORE|AFTER INSERT|UPDATE|DELETE ON table: the table must be one of this backup's, unqualified. */
function triggerTableProblem(tokens: Token[], from: number, tables: Set<string>): string | null {
  for (let k = from; k + 3 < tokens.length; k++) {
    if (!isKeyword(tokens[k], 'BEFORE', 'AFTER') || !isKeyword(tokens[k + 1], 'INSERT', 'UPDATE', 'DELETE') || !isKeyword(tokens[k + 2], 'ON')) continue;
    const table = tokens[k + 3];
    if (!isNameToken(table) || isOp(tokens[k + 4], '.')) return 'it is on a table in another database';
    return [...tables].some((t) => sameName(t, table.value)) ? null : `it is on a table that is not in this backup (${table.value})`;
  }
  return 'its definition does not say which table it is on';
}

/** The event's ENABLE / DISABLE [ON SLAVE|REPLICA] clause replaced by DISABLE (or DISABLE added before DO). */
function disableEvent(sql: string, tokens: Token[], from: number): { sql: string; wasEnabled: boolean } | null {
  const doAt = tokens.findIndex((t, k) => k > from && isKeyword(t, 'DO'));
  if (doAt < 0) return null;
  for (let k = from; k < doAt; k++) {
    if (isKeyword(tokens[k], 'ENABLE')) return { sql: sql.slice(0, tokens[k].start) + 'DISABLE' + sql.slice(tokens[k].end), wasEnabled: true };
    if (isKeyword(tokens[k], 'DISABLE')) {
      const last = isKeyword(tokens[k + 1], 'ON') ? k + 2 : k;
      return { sql: sql.slice(0, tokens[k].start) + 'DISABLE' + sql.slice(tokens[last].end), wasEnabled: false };
    }
  }
  return { sql: sql.slice(0, tokens[doAt].start) + 'DISABLE ' + sql.slice(tokens[doAt].start), wasEnabled: true };
}

/** Parameter names of a routine's `( ... )` at `open`: [IN|OUT|INOUT] name type, ... */
function parameters(tokens: Token[], open: number, close: number): string[] {
  const names: string[] = [];
  let depth = 0;
  let start = true;
  for (let k = open + 1; k < close; k++) {
    const t = tokens[k];
    if (start && isKeyword(t, 'IN', 'OUT', 'INOUT')) continue;
    if (start && isNameToken(t)) names.push(t.value);
    start = false;
    if (isOp(t, '(')) depth++;
    else if (isOp(t, ')')) depth--;
    else if (depth === 0 && isOp(t, ',')) start = true;
  }
  return names;
}

/** Words of a function's RETURNS type and of a routine's characteristics, which stand between its parameters and its body. */
const TYPE_WORDS = new Set(['UNSIGNED', 'SIGNED', 'ZEROFILL', 'BINARY', 'ASCII', 'UNICODE', 'BYTE', 'LANGUAGE', 'NOT', 'DETERMINISTIC', 'CONTAINS', 'NO', 'READS', 'MODIFIES', 'SQL', 'DATA']);
const NAMED_WORDS = new Set(['CHARSET', 'COLLATE', 'SECURITY', 'COMMENT']);

function routineBody(tokens: Token[], name: number, kind: string): { from: number; params: string[] } | string {
  if (!isOp(tokens[name + 1], '(')) return 'its definition has no parameter list';
  const close = closingParen(tokens, name + 1);
  if (close < 0) return 'its parameter list does not close';
  let k = close + 1;
  if (kind === 'FUNCTION') {
    if (!isKeyword(tokens[k], 'RETURNS') || tokens[k + 1]?.kind !== 'word') return 'its definition has no RETURNS type';
    k += 2;
    if (isOp(tokens[k], '(')) k = closingParen(tokens, k) + 1;
    if (k === 0) return 'its RETURNS type does not close';
  }
  for (;;) {
    const w = tokens[k]?.kind === 'word' ? tokens[k].value.toUpperCase() : '';
    if (w === 'CHARACTER' && isKeyword(tokens[k + 1], 'SET')) k += 3;
    else if (NAMED_WORDS.has(w)) k += 2;
    else if (TYPE_WORDS.has(w)) k += 1;
    else break;
  }
  return { from: k, params: parameters(tokens, name + 1, close) };
}

/** Where the statements of the body start: after the routine's head, a trigger's FOR EACH ROW, an event's DO. */
function bodyProblem(o: ObjectDefinition, tokens: Token[], head: Head): string | null {
  const after = head.name + 1;
  if (o.kind === 'view') {
    let k = after;
    if (isOp(tokens[k], '(')) k = closingParen(tokens, k) + 1;
    if (k === 0 || !isKeyword(tokens[k], 'AS')) return 'its definition has no AS before its query';
    return isKeyword(tokens[k + 1], 'SELECT', 'WITH', 'VALUES') || isOp(tokens[k + 1], '(') ? null : 'its body is not a query';
  }
  if (o.kind === 'routine') {
    const body = routineBody(tokens, head.name, head.kind);
    return typeof body === 'string' ? body : BodyReader.check(tokens, body.from, body.params, false);
  }
  if (o.kind === 'trigger') {
    const row = tokens.findIndex((t, k) => k > after && isKeyword(t, 'FOR') && isKeyword(tokens[k + 1], 'EACH') && isKeyword(tokens[k + 2], 'ROW'));
    if (row < 0) return 'its definition has no FOR EACH ROW';
    const from = isKeyword(tokens[row + 3], 'FOLLOWS', 'PRECEDES') ? row + 5 : row + 3;
    return BodyReader.check(tokens, from, [], true);
  }
  const doAt = tokens.findIndex((t, k) => k > after && isKeyword(t, 'DO'));
  return doAt < 0 ? 'its definition has no DO clause' : BodyReader.check(tokens, doAt + 1, [], false);
}

/**
 * `o.sqlMode` must be the mode the server applies (objects.ts sets the
 * file's mode, reads @@sql_mode back and passes that): the lexer follows it.
 */
export function checkCreateObject(o: ObjectDefinition, ctx: ObjectContext): Checked<SafeObject> {
  const settings = settingsProblem(o);
  if (settings) return refuse(settings);
  const tokens = tokenize(o.create, lexModeOf(o.sqlMode));
  const malformed = lexError(tokens);
  if (malformed) return refuse(malformed);
  const head = readHead(tokens);
  if (typeof head === 'string') return refuse(head);
  if (!KIND_WORDS[o.kind].includes(head.kind) || (o.kind === 'routine' && o.type && o.type.toUpperCase() !== head.kind)) return refuse(`its definition creates a ${head.kind.toLowerCase()}, not a ${o.kind}`);
  if (!sameName(tokens[head.name].value, o.name)) return refuse(`its definition creates another object (${tokens[head.name].value})`);
  const body = tokens.slice(head.name + 1);
  const reason = secondStatement(body) ?? foreignReference(tokens, ctx.foreign) ?? forbiddenContent(body) ?? (o.kind === 'trigger' ? triggerTableProblem(tokens, head.name + 1, ctx.tables) : null) ?? bodyProblem(o, tokens, head);
  if (reason) return refuse(reason);

  // Edits from the end backwards, so that earlier token offsets stay valid.
  let sql = o.create;
  let eventDisabled: boolean | undefined;
  if (o.kind === 'event') {
    const disabled = disableEvent(sql, tokens, head.name + 1);
    if (!disabled) return refuse('its definition has no DO clause');
    sql = disabled.sql;
    eventDisabled = disabled.wasEnabled;
  }
  let definerReplaced: string | undefined;
  const [a, b] = head.definer ?? [0, -1];
  const original = head.definer ? o.create.slice(tokens[a + 2].start, tokens[b].end) : '';
  if (ctx.definer !== null && !(head.definer && ctx.keep?.has(definerKey(original)))) {
    if (!head.definer) sql = `CREATE DEFINER=${ctx.definer}` + sql.slice(tokens[0].end);
    else if (!sameDefiner(original, ctx.definer)) {
      sql = sql.slice(0, tokens[a].start) + `DEFINER=${ctx.definer}` + sql.slice(tokens[b].end);
      definerReplaced = original;
    }
  }
  return { ok: true, value: { sql, definerReplaced, eventDisabled } };
}

/** `root`@`localhost`, 'root'@'LOCALHOST' and root@localhost are one account (user names keep their case, host names do not). */
export function definerKey(s: string): string {
  const plain = s.replace(/[`'"]/g, '');
  const at = plain.lastIndexOf('@');
  return at < 0 ? plain : plain.slice(0, at) + '@' + plain.slice(at + 1).toLowerCase();
}
const sameDefiner = (a: string, b: string) => definerKey(a) === definerKey(b);

/**
 * The statement with its DEFINER clause set to `definer` (added after CREATE
 * when it has none), or null when its head cannot be read. For statements
 * the server itself wrote (SHOW CREATE).
 */
export function withDefiner(create: string, sqlMode: string | undefined, definer: string): string | null {
  const tokens = tokenize(create, lexModeOf(sqlMode));
  if (lexError(tokens)) return null;
  const head = readHead(tokens);
  if (typeof head === 'string') return null;
  if (!head.definer) return `CREATE DEFINER=${definer}` + create.slice(tokens[0].end);
  const [a, b] = head.definer;
  return create.slice(0, tokens[a].start) + `DEFINER=${definer}` + create.slice(tokens[b].end);
}

/** The DEFINER value an object's statement gives (as written), or null when it has none or cannot be read. */
export function fileDefiner(o: ObjectDefinition): string | null {
  const tokens = tokenize(o.create, lexModeOf(o.sqlMode));
  const head = readHead(tokens);
  if (typeof head === 'string' || !head.definer) return null;
  return o.create.slice(tokens[head.definer[0] + 2].start, tokens[head.definer[1]].end);
}
