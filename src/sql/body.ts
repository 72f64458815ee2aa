/**
 * The body of a routine, trigger or event, read statement by statement as
 * the server's grammar for stored programs reads it, and allow-listed: each
 * statement must be of a kind a schema's own objects need (what Open
 * Dental's and sakila/employees-style objects use), and nothing else runs.
 *
 * Allowed: BEGIN ... END blocks, DECLARE (variables, conditions, cursors over
 * a query, handlers), IF / CASE / LOOP / WHILE / REPEAT / FOR with labels,
 * LEAVE, ITERATE, RETURN, OPEN / FETCH / CLOSE, SIGNAL / RESIGNAL, GET
 * DIAGNOSTICS, SELECT / WITH, INSERT, REPLACE, UPDATE, DELETE, CALL,
 * transactions, temporary tables, and SET of local variables, user variables
 * (@x) and a trigger's NEW.column. Every assignment of a SET is read: a
 * system variable (GLOBAL, SESSION, @@anything, or a name the block never
 * declared, which the server takes for a system variable) is refused.
 *
 * Stricter than the server, never looser: anything this reader does not
 * follow is refused, with the reason.
 */
import { isKeyword, isNameToken, isOp, type Token } from './tokenize.js';

class Refusal extends Error {}
const refuse = (reason: string): never => {
  throw new Refusal(reason);
};

/** Simple statements by their first word; the value says what else the statement must look like. */
const SIMPLE: Record<string, ((t: Token[], k: number) => boolean) | true> = {
  SELECT: true,
  WITH: true,
  INSERT: true,
  REPLACE: true,
  UPDATE: true,
  DELETE: true,
  CALL: true,
  SET: true,
  OPEN: true,
  FETCH: true,
  CLOSE: true,
  LEAVE: true,
  ITERATE: true,
  RETURN: true,
  SIGNAL: true,
  RESIGNAL: true,
  COMMIT: true,
  ROLLBACK: true,
  SAVEPOINT: true,
  RELEASE: (t, k) => isKeyword(t[k + 1], 'SAVEPOINT'),
  GET: (t, k) => isKeyword(t[k + 1], 'DIAGNOSTICS', 'CURRENT', 'STACKED'),
  START: (t, k) => isKeyword(t[k + 1], 'TRANSACTION'),
  CREATE: (t, k) => (isKeyword(t[k + 1], 'OR') ? isKeyword(t[k + 2], 'REPLACE') && isKeyword(t[k + 3], 'TEMPORARY') && isKeyword(t[k + 4], 'TABLE') : isKeyword(t[k + 1], 'TEMPORARY') && isKeyword(t[k + 2], 'TABLE')),
  DROP: (t, k) => isKeyword(t[k + 1], 'TABLE') || (isKeyword(t[k + 1], 'TEMPORARY') && isKeyword(t[k + 2], 'TABLE')),
};
const QUERY_START = new Set(['SELECT', 'WITH']);
const SCOPE_WORDS = new Set(['GLOBAL', 'SESSION', 'LOCAL', 'PERSIST', 'PERSIST_ONLY']);
const SET_FORMS: Record<string, string> = {
  PASSWORD: 'it changes a password (SET PASSWORD)',
  ROLE: 'it changes roles (SET ROLE)',
  DEFAULT: 'it changes roles (SET DEFAULT ROLE)',
  NAMES: 'it changes the session character set (SET NAMES)',
  CHARACTER: 'it changes the session character set (SET CHARACTER SET)',
  CHARSET: 'it changes the session character set (SET CHARSET)',
  TRANSACTION: 'it changes transaction settings (SET TRANSACTION)',
  STATEMENT: 'it changes server settings for a statement (SET STATEMENT)',
};

const word = (t: Token | undefined) => (t && t.kind === 'word' ? t.value.toUpperCase() : '');

export class BodyReader {
  private k: number;
  private readonly scopes: Set<string>[];

  constructor(
    private readonly t: Token[],
    from: number,
    params: string[],
    private readonly trigger: boolean,
  ) {
    this.k = from;
    this.scopes = [new Set(params.map((p) => p.toLowerCase()))];
  }

  /** The reason the body is refused, or null when every statement in it is allowed. */
  static check(t: Token[], from: number, params: string[], trigger: boolean): string | null {
    try {
      const r = new BodyReader(t, from, params, trigger);
      if (r.k >= t.length) return 'its definition has no body';
      r.statement(true);
      if (r.k < t.length) return isOp(t[r.k], ';') ? 'it holds more than one statement' : `its body does not end where a statement does (${t[r.k].value})`;
      return null;
    } catch (err) {
      if (err instanceof Refusal) return err.message;
      throw err;
    }
  }

  private get cur(): Token | undefined {
    return this.t[this.k];
  }

  private expect(...words: string[]): void {
    if (!isKeyword(this.cur, ...words)) refuse(`its blocks do not match (${words.join(' ')} expected${this.cur ? `, ${this.cur.value} found` : ''})`);
    this.k++;
  }

  /** `END [kind] [label]`. */
  private end(kind?: string): void {
    this.expect('END');
    if (kind) this.expect(kind);
    if (isNameToken(this.cur) && !isOp(this.cur, ';')) this.k++;
  }

  /** One statement at k; k is left on the token after it. `whole`: the body itself, which ends with the tokens. */
  private statement(whole = false): void {
    if (isNameToken(this.cur) && isOp(this.t[this.k + 1], ':') && !isOp(this.t[this.k + 2], '=')) {
      this.k += 2;
      if (!isKeyword(this.cur, 'BEGIN', 'LOOP', 'WHILE', 'REPEAT', 'FOR')) refuse('a label stands before something that is not a block or a loop');
    }
    switch (word(this.cur)) {
      case 'BEGIN':
        return this.block();
      case 'IF':
        return this.ifStatement();
      case 'CASE':
        return this.caseStatement();
      case 'LOOP':
        this.k++;
        this.list(['END']);
        return this.end('LOOP');
      case 'WHILE':
        this.k++;
        this.expression(['DO']);
        this.k++;
        this.list(['END']);
        return this.end('WHILE');
      case 'REPEAT':
        this.k++;
        this.list(['UNTIL']);
        this.k++;
        this.expression(['END']);
        return this.end('REPEAT');
      case 'FOR':
        return this.forLoop();
      default:
        return this.simple(whole);
    }
  }

  /** Statements, each ended by `;`, until a statement would start with one of `ends`. */
  private list(ends: string[]): void {
    while (!isKeyword(this.cur, ...ends)) {
      if (this.k >= this.t.length) refuse('its blocks do not match');
      if (isKeyword(this.cur, 'DECLARE')) this.declare();
      else this.statement();
      if (!isOp(this.cur, ';')) refuse(`a statement in it is not ended where expected (${this.cur?.value ?? 'end of text'})`);
      this.k++;
    }
  }

  private block(): void {
    this.k++;
    if (isKeyword(this.cur, 'NOT') && isKeyword(this.t[this.k + 1], 'ATOMIC')) this.k += 2;
    this.scopes.push(new Set());
    this.list(['END']);
    this.scopes.pop();
    this.end();
  }

  private ifStatement(): void {
    this.k++;
    this.expression(['THEN']);
    this.k++;
    this.list(['ELSEIF', 'ELSE', 'END']);
    while (isKeyword(this.cur, 'ELSEIF')) {
      this.k++;
      this.expression(['THEN']);
      this.k++;
      this.list(['ELSEIF', 'ELSE', 'END']);
    }
    if (isKeyword(this.cur, 'ELSE')) {
      this.k++;
      this.list(['END']);
    }
    this.end('IF');
  }

  private caseStatement(): void {
    this.k++;
    if (!isKeyword(this.cur, 'WHEN')) this.expression(['WHEN']);
    while (isKeyword(this.cur, 'WHEN')) {
      this.k++;
      this.expression(['THEN']);
      this.k++;
      this.list(['WHEN', 'ELSE', 'END']);
    }
    if (isKeyword(this.cur, 'ELSE')) {
      this.k++;
      this.list(['END']);
    }
    this.end('CASE');
  }

  /** MariaDB's `FOR x IN ... DO ... END FOR`: x is declared inside the loop. */
  private forLoop(): void {
    this.k++;
    if (!isNameToken(this.cur) || !isKeyword(this.t[this.k + 1], 'IN')) refuse('its FOR loop is malformed');
    this.scopes.push(new Set([this.cur!.value.toLowerCase()]));
    this.k += 2;
    this.expression(['DO']);
    this.k++;
    this.list(['END']);
    this.scopes.pop();
    this.end('FOR');
  }

  /**
   * Skips an expression up to one of `stops` at the same depth (outside
   * parentheses and outside CASE ... END expressions); k is left on the stop.
   */
  private expression(stops: string[]): void {
    let depth = 0;
    let cases = 0;
    const from = this.k;
    for (; this.k < this.t.length; this.k++) {
      const t = this.t[this.k];
      if (isOp(t, '(')) depth++;
      else if (isOp(t, ')')) depth--;
      else if (isOp(t, ';') && depth === 0) break;
      else if (depth === 0 && cases === 0 && isKeyword(t, ...stops) && this.k > from) return;
      else if (isKeyword(t, 'CASE')) cases++;
      else if (isKeyword(t, 'END') && cases > 0) cases--;
    }
    refuse(`its ${stops.join('/')} is missing`);
  }

  /** DECLARE of variables (added to the block's names), a condition, a cursor over a query, or a handler. */
  private declare(): void {
    this.k++;
    const second = this.t[this.k + 1];
    if (isKeyword(this.cur, 'CONTINUE', 'EXIT', 'UNDO') && isKeyword(second, 'HANDLER')) return this.handler();
    if (isKeyword(second, 'CONDITION')) {
      this.skipToEnd();
      return;
    }
    if (isKeyword(second, 'CURSOR')) {
      this.k += 2;
      if (isOp(this.cur, '(')) this.skipParens();
      this.expect('FOR');
      if (!QUERY_START.has(word(this.cur)) && !isOp(this.cur, '(')) refuse('a cursor in it is not over a query');
      this.skipToEnd();
      return;
    }
    const scope = this.scopes[this.scopes.length - 1];
    for (;;) {
      if (!isNameToken(this.cur)) refuse('a DECLARE in it is malformed');
      scope.add(this.cur!.value.toLowerCase());
      this.k++;
      if (!isOp(this.cur, ',')) break;
      this.k++;
    }
    this.skipToEnd();
  }

  /** DECLARE ... HANDLER FOR condition[, condition] statement. */
  private handler(): void {
    this.k += 2;
    this.expect('FOR');
    for (;;) {
      if (isKeyword(this.cur, 'SQLSTATE')) {
        this.k++;
        if (isKeyword(this.cur, 'VALUE')) this.k++;
        if (this.cur?.kind !== 'string') refuse('a handler in it is malformed');
        this.k++;
      } else if (isKeyword(this.cur, 'NOT') && isKeyword(this.t[this.k + 1], 'FOUND')) this.k += 2;
      else if (isNameToken(this.cur) || this.cur?.kind === 'number') this.k++;
      else refuse('a handler in it is malformed');
      if (!isOp(this.cur, ',')) break;
      this.k++;
    }
    this.statement();
  }

  private skipParens(): void {
    let depth = 0;
    for (; this.k < this.t.length; this.k++) {
      if (isOp(this.t[this.k], '(')) depth++;
      else if (isOp(this.t[this.k], ')') && --depth === 0) {
        this.k++;
        return;
      }
    }
    refuse('its parentheses do not match');
  }

  /** To the `;` that ends this statement (or the end of the text); k is left on it. */
  private skipToEnd(): number {
    const from = this.k;
    let depth = 0;
    for (; this.k < this.t.length; this.k++) {
      const t = this.t[this.k];
      if (isOp(t, '(')) depth++;
      else if (isOp(t, ')')) depth--;
      else if (isOp(t, ';') && depth === 0) break;
    }
    if (depth !== 0) refuse('its parentheses do not match');
    return from;
  }

  private simple(whole: boolean): void {
    const first = this.cur;
    const kind = word(first);
    const rule = SIMPLE[kind];
    if (!first || (!rule && !isOp(first, '('))) refuse(`it runs a statement objects of a schema do not need (${first ? first.value.toUpperCase() : 'nothing'})`);
    if (typeof rule === 'function' && !rule(this.t, this.k)) refuse(`it runs a statement objects of a schema do not need (${kind} ${this.t[this.k + 1]?.value.toUpperCase() ?? ''})`);
    const from = this.skipToEnd();
    if (whole && this.k < this.t.length) refuse('it holds more than one statement');
    if (isKeyword(first, 'SET')) this.assignments(from + 1, this.k);
  }

  /**
   * Every assignment of a SET: to a variable this block declared, a user
   * variable, or (in a trigger) NEW.column. Anything else is a server setting.
   */
  private assignments(from: number, to: number): void {
    const t = this.t;
    const form = SET_FORMS[word(t[from])];
    if (form) refuse(form);
    let start = from;
    let depth = 0;
    for (let k = from; k <= to; k++) {
      if (isOp(t[k], '(')) depth++;
      else if (isOp(t[k], ')')) depth--;
      else if (k === to || (depth === 0 && isOp(t[k], ','))) {
        this.assignment(start, k);
        start = k + 1;
      }
    }
  }

  private assignment(from: number, to: number): void {
    const t = this.t;
    let eq = from;
    while (eq < to && !isOp(t[eq], '=')) eq++;
    if (eq < to && isOp(t[eq - 1], ':')) eq--;
    const target = t.slice(from, eq);
    const text = target.map((x) => x.value).join('');
    if (eq >= to || target.length === 0) refuse('a SET in it is malformed');
    const [a, b, c] = target;
    if (a.kind === 'variable') {
      if (a.value.startsWith('@@')) refuse(`it changes a server setting (SET ${text})`);
      if (target.length === 1) return;
    }
    if (isOp(a, '@') && target.length === 2 && (b.kind === 'quoted' || b.kind === 'string')) return;
    if (SCOPE_WORDS.has(word(a))) refuse(`it changes a server setting (SET ${a.value.toUpperCase()} ${target.slice(1).map((x) => x.value).join('')})`);
    if (this.trigger && target.length === 3 && isKeyword(a, 'NEW') && isOp(b, '.') && isNameToken(c)) return;
    if (target.length === 1 && isNameToken(a)) {
      if (this.scopes.some((s) => s.has(a.value.toLowerCase()))) return;
      refuse(`it sets ${a.value}, which it never declares: the server would change its own setting of that name`);
    }
    refuse(`it sets something that is not one of its own variables (${text})`);
  }
}
