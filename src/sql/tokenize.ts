/**
 * A MariaDB/MySQL lexer, exactly as strict as the checks in statement.ts
 * need: it must cut a statement into the same tokens the server will, so
 * that no string, comment or quoted name can hide a keyword or a `;` from
 * the checks. It follows the server's lexical rules:
 *
 * - `-- ` (two dashes, then white space or the end), `#` to the end of the
 *   line, and `/* ... *\/` are comments;
 * - `/*!NNNNN ... *\/` and `/*M!NNNNN ... *\/` are *executable* comments: the
 *   server runs what is inside, so their content is lexed as code (even when
 *   the version would make this server skip it: stricter, never looser);
 * - 'strings' always, "strings" unless ANSI_QUOTES (then they are names),
 *   backslash escapes inside them unless NO_BACKSLASH_ESCAPES, and a doubled
 *   quote stands for itself;
 * - `quoted names` with a doubled backtick standing for itself;
 * - @variables, @@system.variables, @'quoted' and @`quoted` variables;
 * - numbers, and words (which may start with digits: `1abc` is a name).
 *
 * Anything it cannot close (a string, a name, a comment) is an error token:
 * the checks refuse a statement that holds one.
 */

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'variable' | 'op' | 'error';

export interface Token {
  kind: TokenKind;
  /** Words and names as the server reads them (unquoted, doubled quotes undone); strings undecoded. */
  value: string;
  /** Where the token is in the statement text: [start, end). */
  start: number;
  end: number;
}

export interface LexMode {
  ansiQuotes?: boolean;
  noBackslashEscapes?: boolean;
}

/** Combination modes that the server expands to include ANSI_QUOTES (MariaDB and MySQL alike). */
const IMPLY_ANSI_QUOTES = ['ANSI_QUOTES', 'ANSI', 'POSTGRESQL', 'ORACLE', 'MSSQL', 'DB2', 'MAXDB'];

/**
 * The lexing rules a statement runs under, from the sql_mode it is run with.
 * Give it the mode the server read back (`@@SESSION.sql_mode` after setting
 * it), not a file's text: only the server knows how it expands a mode.
 */
export function lexModeOf(sqlMode: string | undefined): LexMode {
  const modes = new Set((sqlMode ?? '').toUpperCase().split(',').map((m) => m.trim()));
  return { ansiQuotes: IMPLY_ANSI_QUOTES.some((m) => modes.has(m)), noBackslashEscapes: modes.has('NO_BACKSLASH_ESCAPES') };
}

const WORD_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const isWordChar = (c: string | undefined) => c !== undefined && WORD_CHAR.test(c);
const isSpace = (c: string | undefined) => c !== undefined && /[\s]/.test(c);

/** The end of a quoted run opened at `at` by `quote`, or -1 when it never closes. */
function closeQuote(sql: string, at: number, quote: string, backslash: boolean): number {
  for (let i = at + 1; i < sql.length; i++) {
    const c = sql[i];
    if (backslash && c === '\\') i++;
    else if (c === quote) {
      if (sql[i + 1] === quote) i++;
      else return i + 1;
    }
  }
  return -1;
}

function unquoteName(raw: string, quote: string): string {
  return raw.slice(1, -1).split(quote + quote).join(quote);
}

function numberEnd(sql: string, at: number): number {
  const m = /^(?:0x[0-9A-Fa-f]+|0b[01]+|\d*\.?\d+(?:[eE][+-]?\d+)?|\d+\.)/.exec(sql.slice(at, at + 400));
  return m ? at + m[0].length : at + 1;
}

export function tokenize(sql: string, mode: LexMode = {}): Token[] {
  const tokens: Token[] = [];
  const backslash = !mode.noBackslashEscapes;
  let executable = 0; // inside /*! ... */
  let i = 0;
  const push = (kind: TokenKind, value: string, start: number, end: number) => tokens.push({ kind, value, start, end });
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (isSpace(c)) {
      i++;
    } else if (c === '#' || (c === '-' && next === '-' && (i + 2 >= sql.length || isSpace(sql[i + 2]) || sql.charCodeAt(i + 2) < 32))) {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (c === '/' && next === '*') {
      const m = /^\/\*M?!\d{0,6}/.exec(sql.slice(i, i + 10));
      if (m && (m[0].includes('!'))) {
        if (executable) {
          push('error', 'nested executable comment', i, i + 2);
          return tokens;
        }
        executable++;
        i += m[0].length;
        continue;
      }
      const close = sql.indexOf('*/', i + 2);
      if (close < 0) {
        push('error', 'unclosed comment', i, sql.length);
        return tokens;
      }
      i = close + 2;
    } else if (c === '*' && next === '/' && executable) {
      executable--;
      i += 2;
    } else if (c === '`' || (c === '"' && mode.ansiQuotes)) {
      const end = closeQuote(sql, i, c, false);
      if (end < 0) {
        push('error', 'unclosed name', i, sql.length);
        return tokens;
      }
      push('quoted', unquoteName(sql.slice(i, end), c), i, end);
      i = end;
    } else if (c === "'" || c === '"') {
      const end = closeQuote(sql, i, c, backslash);
      if (end < 0) {
        push('error', 'unclosed string', i, sql.length);
        return tokens;
      }
      push('string', sql.slice(i, end), i, end);
      i = end;
    } else if (c === '@') {
      i = lexVariable(sql, i, push);
    } else if (/\d/.test(c) || (c === '.' && /\d/.test(next ?? '') && !isNameToken(tokens[tokens.length - 1]))) {
      let end = numberEnd(sql, i);
      if (isWordChar(sql[end]) && /^\d+$/.test(sql.slice(i, end))) {
        while (isWordChar(sql[end])) end++;
        push('word', sql.slice(i, end), i, end);
      } else push('number', sql.slice(i, end), i, end);
      i = end;
    } else if (isWordChar(c)) {
      let end = i + 1;
      while (isWordChar(sql[end])) end++;
      push('word', sql.slice(i, end), i, end);
      i = end;
    } else {
      push('op', c, i, i + 1);
      i++;
    }
  }
  if (executable) push('error', 'unclosed executable comment', sql.length, sql.length);
  return tokens;
}

/**
 * `@name` and `@@[global.|session.]name` are variables. A lone `@`, or one
 * before a quote (user@'host' and @'var' look alike to a lexer), is an
 * operator, and the quoted part that follows is its own token.
 */
function lexVariable(sql: string, at: number, push: (k: TokenKind, v: string, s: number, e: number) => void): number {
  let i = at + 1;
  if (sql[i] === '@') i++;
  let end = i;
  while (isWordChar(sql[end]) || (end > i && sql[end] === '.')) end++;
  if (end === i) {
    push('op', '@', at, at + 1);
    return at + 1;
  }
  push('variable', sql.slice(at, end), at, end);
  return end;
}

export const isNameToken = (t: Token | undefined): boolean => t !== undefined && (t.kind === 'word' || t.kind === 'quoted');

/** A bare (unquoted) keyword, compared without regard to case. */
export const isKeyword = (t: Token | undefined, ...words: string[]): boolean => t !== undefined && t.kind === 'word' && words.includes(t.value.toUpperCase());

export const isOp = (t: Token | undefined, op: string): boolean => t !== undefined && t.kind === 'op' && t.value === op;
