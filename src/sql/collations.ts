/**
 * Collation and character set names a target server does not know, mapped
 * to the nearest one it has, and the table options of the other server
 * family that it rejects, dropped: so a backup of MariaDB 11 restores onto
 * MariaDB 10.5 or MySQL 8, and one of MySQL 8 onto MariaDB, without anyone
 * editing a dump with sed.
 *
 * The decision is the target's own list (information_schema.COLLATIONS and
 * CHARACTER_SETS, read by the restore) and a fixed table of candidates,
 * nearest first (docs/collations.md). "Nearest" keeps, in this order:
 * - what a unique key may hold: the candidate tells apart at least what the
 *   original did (an accent- or case-sensitive collation never becomes an
 *   insensitive one, NO PAD never becomes PAD SPACE while a NO PAD one is
 *   there), so no row the source held is refused as a duplicate;
 * - the language's rules, then the newest Unicode weights the target has.
 * When nothing of the family is there: the charset's `_bin` (tells apart
 * everything), and for an unknown character set utf8mb4 (the rows travel as
 * utf8mb4 text, so every character still fits).
 *
 * The rewrite replaces name tokens only, with names from the target's list
 * (quoted), and deletes whole option ranges; it never adds text from the
 * file, and the caller checks the statement after the rewrite.
 */
import { isKeyword, isNameToken, isOp, tokenize, type LexMode, type Token } from './tokenize.js';

export interface TargetNames {
  /** Every collation name the server accepts, lower case (full names of MariaDB's charset-free UCA 14 ones included). */
  collations: Set<string>;
  charsets: Set<string>;
  /** A character set's default collation on the target. */
  defaults: Map<string, string>;
  family: 'mariadb' | 'mysql';
}

export interface NameMapping {
  kind: 'collation' | 'charset';
  from: string;
  to: string;
}

export interface DroppedOption {
  /** The option as the file had it, e.g. AUTOEXTEND_SIZE=4194304. */
  option: string;
  reason: string;
}

export interface Rewritten {
  sql: string;
  mapped: NameMapping[];
  dropped: DroppedOption[];
}

/** MySQL 8's language codes in its 0900 names, and MariaDB's names for the same rules. */
const LANGUAGES: Record<string, string> = {
  is: 'icelandic', lv: 'latvian', ro: 'romanian', sl: 'slovenian', pl: 'polish', et: 'estonian', es: 'spanish', sv: 'swedish',
  tr: 'turkish', cs: 'czech', da: 'danish', lt: 'lithuanian', sk: 'slovak', es_trad: 'spanish2', la: 'roman', eo: 'esperanto',
  hu: 'hungarian', hr: 'croatian', vi: 'vietnamese', de_pb: 'german2', sr_latn: 'croatian',
};

/** The other spelling of the same character set (MariaDB before 10.6 and MySQL before 8.0.30 say utf8). */
const ALIAS: Record<string, string> = { utf8mb3: 'utf8', utf8: 'utf8mb3' };

type Sensitivity = 'ai_ci' | 'ai_cs' | 'as_ci' | 'as_cs' | 'bin';

/**
 * Newest first, within what tells apart at least as much as `s` does:
 * MariaDB's UCA 14, MySQL 8's UCA 9 (NO PAD), then the older ones; `_bin`
 * last (it tells apart everything).
 */
function generic(s: Sensitivity, nopad: boolean): string[] {
  const bin = nopad ? ['nopad_bin', '0900_bin', 'bin'] : ['bin', 'nopad_bin'];
  if (s === 'bin') return bin;
  const uca = nopad ? [`uca1400_nopad_${s}`, `uca1400_${s}`] : [`uca1400_${s}`, `uca1400_nopad_${s}`];
  const mysql = s === 'ai_cs' ? [] : [`0900_${s}`];
  if (s !== 'ai_ci') return [...uca, ...mysql, ...bin];
  const older = nopad ? ['unicode_520_nopad_ci', 'unicode_nopad_ci', 'general_nopad_ci', 'unicode_520_ci', 'unicode_ci', 'general_ci'] : ['unicode_520_ci', 'unicode_ci', 'general_ci'];
  return nopad ? [...uca, ...mysql, ...older, ...bin] : [...uca, ...older, ...mysql, ...bin];
}

/** The candidates after the charset prefix, nearest first, from the name's own form. */
function candidates(rest: string): string[] {
  let m = /^(?:(.+)_)?0900_(ai_ci|as_ci|as_cs|as_cs_ks|bin)$/.exec(rest);
  if (m) {
    // MySQL 8: UCA 9.0, every one NO PAD; _ks (kana-sensitive) has no equivalent, as_cs is the nearest.
    const s = (m[2] === 'as_cs_ks' ? 'as_cs' : m[2]) as Sensitivity;
    const lang = m[1] ? LANGUAGES[m[1]] : undefined;
    const own = lang && s !== 'bin' ? [`uca1400_${lang}_nopad_${s}`, `uca1400_${lang}_${s}`, ...(s === 'ai_ci' ? [`${lang}_ci`] : [])] : [];
    return [...own, ...generic(s, true)];
  }
  m = /^uca1400_(?:(?!nopad_)(.+?)_)?(nopad_)?(ai_ci|ai_cs|as_ci|as_cs)$/.exec(rest);
  if (m) {
    // MariaDB 10.10 and later: UCA 14.0.
    const s = m[3] as Sensitivity;
    const own = m[1] && s === 'ai_ci' ? [`${m[1]}_ci`] : [];
    return [...own, ...generic(s, !!m[2]).filter((c) => !c.startsWith('uca1400'))];
  }
  const nopad = rest.includes('nopad');
  if (/(^|_)bin$/.test(rest)) return generic('bin', nopad);
  return /_cs$|(^|_)as_/.test(rest) ? generic('bin', nopad) : [];
}

/** The character set a target that does not know `name` uses for it, or null when it knows it. */
export function nearestCharset(name: string, t: TargetNames): string | null {
  const cs = name.toLowerCase();
  if (t.charsets.has(cs)) return null;
  const alias = ALIAS[cs];
  if (alias && t.charsets.has(alias)) return alias;
  return t.charsets.has('utf8mb4') ? 'utf8mb4' : 'utf8';
}

/** The collation a target that does not know `name` uses for it, or null when it knows it. */
export function nearestCollation(name: string, t: TargetNames): string | null {
  const lower = name.toLowerCase();
  if (t.collations.has(lower)) return null;
  const cut = lower.indexOf('_');
  const cs = cut < 0 ? lower : lower.slice(0, cut);
  const rest = cut < 0 ? '' : lower.slice(cut + 1);
  const alias = ALIAS[cs] ? `${ALIAS[cs]}_${rest}` : null;
  if (alias && t.collations.has(alias)) return alias;
  const target = nearestCharset(cs, t) ?? cs;
  for (const c of candidates(rest)) if (t.collations.has(`${target}_${c}`)) return `${target}_${c}`;
  // Nothing of its family: the target's default for the charset (an insensitive name), else what tells apart everything.
  const insensitive = !/_cs$|(^|_)as_|(^|_)bin$/.test(rest);
  const fallback = insensitive ? t.defaults.get(target) : undefined;
  if (fallback) return fallback;
  return t.collations.has(`${target}_bin`) ? `${target}_bin` : (t.defaults.get(target) ?? 'utf8mb4_bin');
}

/** MySQL 8 table options MariaDB rejects, and MariaDB's that MySQL rejects: dropped, each with a line. */
const FOREIGN_OPTIONS: Record<TargetNames['family'], Record<string, string>> = {
  mariadb: {
    AUTOEXTEND_SIZE: 'a MySQL 8 InnoDB option',
    ENCRYPTION: 'MySQL 8 table encryption (MariaDB encrypts through its own key plugin)',
    COMPRESSION: 'MySQL 8 page compression',
    SECONDARY_ENGINE: 'a MySQL 8 HeatWave option',
    SECONDARY_ENGINE_ATTRIBUTE: 'a MySQL 8 HeatWave option',
    ENGINE_ATTRIBUTE: 'a MySQL 8 option',
  },
  mysql: {
    PAGE_CHECKSUM: 'a MariaDB Aria option',
    TRANSACTIONAL: 'a MariaDB Aria option',
    PAGE_COMPRESSED: 'MariaDB page compression',
    PAGE_COMPRESSION_LEVEL: 'MariaDB page compression',
    ENCRYPTED: 'MariaDB table encryption',
    ENCRYPTION_KEY_ID: 'MariaDB table encryption',
    IETF_QUOTES: 'a MariaDB CSV option',
  },
};

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** The value token after `k` (skipping one `=`), when it is a name or a string. */
function valueAfter(tokens: Token[], k: number): number {
  const v = isOp(tokens[k + 1], '=') ? k + 2 : k + 1;
  const t = tokens[v];
  return t && (isNameToken(t) || t.kind === 'string') ? v : -1;
}

const nameOf = (t: Token) => (t.kind === 'string' ? t.value.slice(1, -1) : t.value);
const SAFE = /^[A-Za-z0-9_]+$/;
const quoted = (name: string) => '`' + name + '`';

/** Where a statement names a collation or a character set: the value token after COLLATE, CHARSET, CHARACTER SET. */
function nameSites(tokens: Token[]): { at: number; kind: NameMapping['kind'] }[] {
  const sites: { at: number; kind: NameMapping['kind'] }[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const tok = tokens[k];
    const kind = isKeyword(tok, 'COLLATE') ? 'collation' : isKeyword(tok, 'CHARSET') || (isKeyword(tok, 'CHARACTER') && isKeyword(tokens[k + 1], 'SET')) ? 'charset' : null;
    if (!kind) continue;
    const v = valueAfter(tokens, isKeyword(tok, 'CHARACTER') ? k + 1 : k);
    if (v >= 0 && !isOp(tokens[v + 1], '(')) sites.push({ at: v, kind });
  }
  return sites;
}

/** The collation and character set names a statement uses (lower case, each once); none when it does not lex. */
export function namesIn(sql: string): { collations: string[]; charsets: string[] } {
  const tokens = tokenize(sql);
  const out = { collations: new Set<string>(), charsets: new Set<string>() };
  if (!tokens.some((x) => x.kind === 'error')) for (const s of nameSites(tokens)) out[s.kind === 'collation' ? 'collations' : 'charsets'].add(nameOf(tokens[s.at]).toLowerCase());
  return { collations: [...out.collations], charsets: [...out.charsets] };
}

function mapNames(tokens: Token[], t: TargetNames, mapped: NameMapping[]): Edit[] {
  const edits: Edit[] = [];
  for (const { at: v, kind } of nameSites(tokens)) {
    const from = nameOf(tokens[v]);
    const to = kind === 'collation' ? nearestCollation(from, t) : nearestCharset(from, t);
    if (to === null || !SAFE.test(to)) continue;
    mapped.push({ kind, from: from.toLowerCase(), to });
    edits.push({ start: tokens[v].start, end: tokens[v].end, text: quoted(to) });
  }
  for (let k = 0; k < tokens.length; k++) {
    const tok = tokens[k];
    if (tok.kind === 'word' && tok.value.startsWith('_') && tokens[k + 1]?.kind === 'string' && tokens[k + 1].start === tok.end) {
      // An introducer (_utf8mb3'text'): only the other spelling of the same set is a safe swap here.
      const cs = tok.value.slice(1).toLowerCase();
      const alias = ALIAS[cs];
      if (alias && !t.charsets.has(cs) && t.charsets.has(alias)) {
        mapped.push({ kind: 'charset', from: cs, to: alias });
        edits.push({ start: tok.start, end: tok.end, text: `_${alias}` });
      }
    }
  }
  return edits;
}

/** Table options (after the column list, outside any parenthesis) the target's family rejects. */
function dropOptions(sql: string, tokens: Token[], from: number, t: TargetNames, dropped: DroppedOption[]): Edit[] {
  const foreign = FOREIGN_OPTIONS[t.family];
  const edits: Edit[] = [];
  let depth = 0;
  for (let k = from; k < tokens.length; k++) {
    const tok = tokens[k];
    if (isOp(tok, '(')) depth++;
    else if (isOp(tok, ')')) depth--;
    if (depth !== 0 || tok.kind !== 'word') continue;
    const word = tok.value.toUpperCase();
    let end = -1;
    let reason = foreign[word];
    if (reason) {
      const v = isOp(tokens[k + 1], '=') ? k + 2 : k + 1;
      if (tokens[v] && tokens[v].kind !== 'op') end = v;
    } else if (t.family === 'mariadb' && word === 'START' && isKeyword(tokens[k + 1], 'TRANSACTION')) {
      reason = 'MySQL 8 atomic CREATE ... START TRANSACTION';
      end = k + 1;
    }
    if (end < 0) continue;
    const start = isOp(tokens[k - 1], ',') ? tokens[k - 1].start : tok.start;
    dropped.push({ option: sql.slice(tok.start, tokens[end].end), reason: reason! });
    edits.push({ start, end: tokens[end].end, text: '' });
    k = end;
  }
  return edits;
}

function apply(sql: string, edits: Edit[]): string {
  let out = sql;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** The first `)` closing the `(` at `open`, or -1. */
function closeOf(tokens: Token[], open: number): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    if (isOp(tokens[k], '(')) depth++;
    else if (isOp(tokens[k], ')') && --depth === 0) return k;
  }
  return -1;
}

/**
 * A CREATE statement with the names the target does not know mapped, and
 * (for CREATE TABLE) the other family's table options dropped. A statement
 * that does not lex is returned as it is: the checks refuse it.
 */
export function adaptStatement(sql: string, t: TargetNames, mode: LexMode = {}): Rewritten {
  const tokens = tokenize(sql, mode);
  const mapped: NameMapping[] = [];
  const dropped: DroppedOption[] = [];
  if (tokens.some((x) => x.kind === 'error')) return { sql, mapped, dropped };
  const edits = mapNames(tokens, t, mapped);
  if (isKeyword(tokens[0], 'CREATE') && isKeyword(tokens[1], 'TABLE')) {
    const open = tokens.findIndex((x) => isOp(x, '('));
    const close = open < 0 ? -1 : closeOf(tokens, open);
    if (close > 0) edits.push(...dropOptions(sql, tokens, close + 1, t, dropped));
  }
  return { sql: edits.length ? apply(sql, edits) : sql, mapped, dropped };
}
