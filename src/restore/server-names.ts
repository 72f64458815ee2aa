/**
 * What the restore changed so a backup of another server loads here: the
 * collation and character set names the target does not know, mapped to
 * the nearest it has, and the other server family's table options, dropped
 * (src/sql/collations.ts decides; docs/collations.md lists the table). The
 * target's own lists are read once per pass; every statement from the file
 * that is run (the database, each table, each object and the session it is
 * defined under) goes through here first, and what was changed, and where,
 * is kept for the report: nothing is changed silently.
 */
import type { Connection } from '../db/connect.js';
import type { ObjectDefinition } from '../archive/layout.js';
import { selectOne, selectRows } from '../db/query.js';
import { adaptStatement, nearestCharset, nearestCollation, type NameMapping, type TargetNames } from '../sql/collations.js';
import type { LexMode } from '../sql/tokenize.js';

/** One name mapped, and every place it was met (`database`, `table X`, `view X`...). */
export interface CollationMapping extends NameMapping {
  in: string[];
}

export interface OptionDropped {
  in: string;
  option: string;
  reason: string;
}

/** The collations and character sets the server accepts, and which family it is. */
export async function readTargetNames(conn: Connection): Promise<TargetNames> {
  const collations = new Set<string>();
  const defaults = new Map<string, string>();
  for (const r of await selectRows<{ n: string }>(conn, 'SELECT COLLATION_NAME AS n FROM information_schema.COLLATIONS')) collations.add(String(r.n).toLowerCase());
  // MariaDB 10.10 and later list UCA 14 collations once, without their charset: the full names are here.
  const full = await selectRows<{ n: string }>(conn, 'SELECT FULL_COLLATION_NAME AS n FROM information_schema.COLLATION_CHARACTER_SET_APPLICABILITY').catch(() => []);
  for (const r of full) collations.add(String(r.n).toLowerCase());
  const charsets = new Set<string>();
  for (const r of await selectRows<{ cs: string; d: string }>(conn, 'SELECT CHARACTER_SET_NAME AS cs, DEFAULT_COLLATE_NAME AS d FROM information_schema.CHARACTER_SETS')) {
    charsets.add(String(r.cs).toLowerCase());
    defaults.set(String(r.cs).toLowerCase(), String(r.d).toLowerCase());
  }
  const version = (await selectOne<{ v: string }>(conn, 'SELECT VERSION() AS v'))?.v ?? '';
  return { collations, charsets, defaults, family: /mariadb/i.test(version) ? 'mariadb' : 'mysql' };
}

export class ServerNames {
  private readonly mappings = new Map<string, CollationMapping>();
  readonly dropped: OptionDropped[] = [];

  constructor(readonly target: TargetNames) {}

  private note(mapped: NameMapping[], where: string): void {
    for (const m of mapped) {
      const key = `${m.kind}\0${m.from}\0${m.to}`;
      const had = this.mappings.get(key) ?? { ...m, in: [] };
      if (!had.in.includes(where)) had.in.push(where);
      this.mappings.set(key, had);
    }
  }

  /** The database's default character set and collation, as this server names them. */
  database(charset: string, collation: string): { charset: string; collation: string } {
    const cs = nearestCharset(charset, this.target);
    const co = nearestCollation(collation, this.target);
    const mapped: NameMapping[] = [];
    if (cs) mapped.push({ kind: 'charset', from: charset.toLowerCase(), to: cs });
    if (co) mapped.push({ kind: 'collation', from: collation.toLowerCase(), to: co });
    this.note(mapped, 'database');
    return { charset: cs ?? charset, collation: co ?? collation };
  }

  /** A table's CREATE TABLE, ready for this server (checked after, like the file's own). */
  table(name: string, sql: string): string {
    const r = adaptStatement(sql, this.target);
    this.note(r.mapped, `table ${name}`);
    for (const d of r.dropped) if (!this.dropped.some((x) => x.in === `table ${name}` && x.option === d.option)) this.dropped.push({ in: `table ${name}`, ...d });
    return r.sql;
  }

  /** The character set and collation an object is defined under, as this server names them. */
  session(o: ObjectDefinition): ObjectDefinition {
    const cs = o.characterSetClient ? nearestCharset(o.characterSetClient, this.target) : null;
    const co = o.collationConnection ? nearestCollation(o.collationConnection, this.target) : null;
    const mapped: NameMapping[] = [];
    if (cs) mapped.push({ kind: 'charset', from: o.characterSetClient!.toLowerCase(), to: cs });
    if (co) mapped.push({ kind: 'collation', from: o.collationConnection!.toLowerCase(), to: co });
    this.note(mapped, `${o.kind} ${o.name}`);
    return { ...o, ...(cs ? { characterSetClient: cs } : {}), ...(co ? { collationConnection: co } : {}) };
  }

  /** An object's CREATE with the names this server does not know mapped, lexed as the server will (its sql_mode). */
  object(o: ObjectDefinition, mode: LexMode): string {
    const r = adaptStatement(o.create, this.target, mode);
    this.note(r.mapped, `${o.kind} ${o.name}`);
    return r.sql;
  }

  get mapped(): CollationMapping[] {
    return [...this.mappings.values()];
  }

  /** One line per mapping and per dropped option, for the report's server notes and the screen. */
  lines(): string[] {
    return [...mappingLines(this.mapped), ...this.dropped.map((d) => `${d.in}: the option ${d.option} (${d.reason}) is not one this server accepts; dropped.`)];
  }
}

const places = (list: string[]) => (list.length <= 4 ? list.join(', ') : `${list.slice(0, 3).join(', ')} and ${list.length - 3} more`);

/** "The collation X is unknown to this server: Y used instead (table a, table b)". */
export function mappingLines(mapped: CollationMapping[]): string[] {
  return mapped.map((m) => `This server does not know the ${m.kind === 'collation' ? 'collation' : 'character set'} ${m.from}: ${m.to} is used instead (${places(m.in)}).`);
}
