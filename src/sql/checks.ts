/**
 * Small checks shared by the table and object statement checks: each
 * returns the reason a statement is refused, in words a person can read in
 * the report, or null when the statement passes.
 */
import { isKeyword, isNameToken, isOp, type Token } from './tokenize.js';

export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

export const refuse = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });

/** Databases the server has besides the target, and the system schemas; lower case. */
export function foreignDatabases(serverDatabases: string[], target: string, source: string): Set<string> {
  const names = new Set(['mysql', 'information_schema', 'performance_schema', 'sys']);
  for (const d of serverDatabases) names.add(d.toLowerCase());
  names.add(source.toLowerCase());
  names.delete(target.toLowerCase());
  return names;
}

export function lexError(tokens: Token[]): string | null {
  const bad = tokens.find((t) => t.kind === 'error');
  return bad ? `its text is malformed (${bad.value})` : null;
}

/**
 * A name qualified by a database (db.table, db.routine(), db.table.column)
 * whose database is not the target. Aliases (t.column) look the same, so any
 * qualifier that names another database on the server is refused: stricter,
 * never looser.
 */
export function foreignReference(tokens: Token[], foreign: Set<string>): string | null {
  for (let k = 0; k + 2 < tokens.length; k++) {
    if (!isNameToken(tokens[k]) || !isOp(tokens[k + 1], '.') || isOp(tokens[k - 1], '.')) continue;
    if (foreign.has(tokens[k].value.toLowerCase())) return `it refers to the database ${tokens[k].value}, outside the restored one`;
  }
  return null;
}

/** Statements a backed-up object never needs, which could reach outside its database or the server's files. */
const FORBIDDEN_PAIRS: [string, string[], string][] = [
  ['INTO', ['OUTFILE', 'DUMPFILE'], 'writes a file on the server'],
  ['LOAD', ['DATA', 'XML'], 'reads a file'],
  ['DATA', ['DIRECTORY'], "stores a table's files outside the server's data folder"],
  ['INDEX', ['DIRECTORY'], "stores a table's files outside the server's data folder"],
  ['CREATE', ['USER', 'ROLE', 'SERVER', 'DATABASE', 'SCHEMA', 'TABLESPACE'], 'creates something outside the database'],
  ['DROP', ['USER', 'ROLE', 'SERVER', 'DATABASE', 'SCHEMA', 'TABLESPACE'], 'drops something outside the database'],
  ['ALTER', ['USER', 'ROLE', 'SERVER', 'DATABASE', 'SCHEMA', 'TABLESPACE'], 'changes something outside the database'],
  ['RENAME', ['USER', 'TABLE'], 'renames accounts or tables'],
  ['SET', ['PASSWORD', 'GLOBAL', 'ROLE', 'DEFAULT'], 'changes accounts or server settings'],
  ['CHANGE', ['MASTER', 'REPLICATION'], 'changes replication'],
  ['START', ['SLAVE', 'SLAVES', 'REPLICA', 'REPLICAS', 'ALL', 'GROUP_REPLICATION'], 'changes replication'],
  ['STOP', ['SLAVE', 'SLAVES', 'REPLICA', 'REPLICAS', 'ALL', 'GROUP_REPLICATION'], 'changes replication'],
];
const FORBIDDEN_WORDS: Record<string, string> = {
  LOAD_FILE: 'reads a file on the server',
  GRANT: 'grants privileges',
  REVOKE: 'changes privileges',
  INSTALL: 'installs server plugins',
  UNINSTALL: 'removes server plugins',
  SHUTDOWN: 'stops the server',
  KILL: 'ends other sessions',
  FLUSH: 'changes server state',
  PURGE: 'removes server logs',
  RESET: 'resets server logs or replication',
  BINLOG: 'replays binary log events',
  PREPARE: 'runs dynamic SQL, which cannot be checked',
  EXECUTE: 'runs dynamic SQL, which cannot be checked',
};

/** The first forbidden statement or function in a body, as a reason; null when there is none. */
export function forbiddenContent(tokens: Token[]): string | null {
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind === 'variable' && /^@@global\b/i.test(t.value)) return 'it changes a server-wide setting';
    if (t.kind !== 'word' || isOp(tokens[k - 1], '.')) continue;
    const word = t.value.toUpperCase();
    if (Object.hasOwn(FORBIDDEN_WORDS, word)) return `it ${FORBIDDEN_WORDS[word]} (${word})`;
    // CREATE OR REPLACE USER is CREATE USER, and so on.
    const n = word === 'CREATE' && isKeyword(tokens[k + 1], 'OR') && isKeyword(tokens[k + 2], 'REPLACE') ? k + 3 : k + 1;
    for (const [first, seconds, what] of FORBIDDEN_PAIRS) {
      if (word === first && seconds.some((s) => isKeyword(tokens[n], s))) return `it ${what} (${first} ${tokens[n].value.toUpperCase()})`;
    }
  }
  return null;
}

/**
 * Whether a `;` ends the statement (refused: a second statement follows) or
 * sits inside a BEGIN ... END block of a stored program (allowed). CASE ...
 * END and END CASE are matched so that they do not close a BEGIN.
 */
export function secondStatement(tokens: Token[]): string | null {
  const open: ('begin' | 'case')[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (isOp(t, ';')) {
      if (!open.includes('begin')) return 'it holds more than one statement';
    } else if (isKeyword(t, 'BEGIN')) open.push('begin');
    else if (isKeyword(t, 'CASE') && !isKeyword(tokens[k - 1], 'END')) open.push('case');
    else if (isKeyword(t, 'END')) {
      const next = tokens[k + 1];
      if (isKeyword(next, 'IF', 'LOOP', 'WHILE', 'REPEAT', 'FOR')) continue;
      if (open.length === 0) return 'its blocks do not match';
      open.pop();
    }
  }
  return open.length ? 'its blocks do not match' : null;
}

/** The index of the token that closes the parenthesis opened at `at`, or -1. */
export function closingParen(tokens: Token[], at: number): number {
  let depth = 0;
  for (let k = at; k < tokens.length; k++) {
    if (isOp(tokens[k], '(')) depth++;
    else if (isOp(tokens[k], ')') && --depth === 0) return k;
  }
  return -1;
}

/** Same name, as the server compares it for this kind of object on any platform (ignoring case). */
export const sameName = (a: string, b: string) => a === b || a.toLowerCase() === b.toLowerCase();
