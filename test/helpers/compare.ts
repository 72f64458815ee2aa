/**
 * Compare two databases on one server using SQL only, byte for byte.
 *
 * Rows: the server hashes every row (each column as 'N' for NULL, else the HEX
 * of its bytes, or 'H' + SHA2 of them past 64 bytes, so no result string outgrows
 * max_allowed_packet; numbers, dates and BIT as their exact text) and SUMs two
 * 64-bit slices of the row hashes as exact DECIMALs. A sum, unlike XOR, counts
 * duplicate rows; it needs no primary key and no ORDER BY.
 */
import type { Connection } from '../../src/db/connect.js';
import { quoteId } from '../../src/db/connect.js';

export interface Difference {
  kind:
    | 'database' | 'missing-table' | 'extra-table' | 'columns' | 'row-count' | 'rows'
    | 'create-table' | 'auto-increment' | 'view' | 'trigger' | 'routine' | 'event';
  /** The table or object the difference is about. */
  table?: string;
  detail: string;
}

export interface CompareOptions {
  /** Only these tables (default: every base table of either database). */
  tables?: string[];
  /** Compare SHOW CREATE TABLE, without its AUTO_INCREMENT=N (default true). */
  createTable?: boolean;
  /** Compare each table's AUTO_INCREMENT counter too (default true). */
  autoIncrement?: boolean;
  /** Compare views, triggers, routines and events (default: true unless `tables` is given). */
  objects?: boolean;
  /** Include DEFINER in object comparisons (default false: restores may run as another user). */
  definers?: boolean;
}

type Row = Record<string, unknown>;

async function rows(conn: Connection, sql: string, params: unknown[] = []): Promise<Row[]> {
  const [r] = await conn.query(sql, params);
  return r as Row[];
}

interface Column { name: string; dataType: string; signature: string }

async function columns(conn: Connection, db: string): Promise<Map<string, Column[]>> {
  const out = new Map<string, Column[]>();
  const list = await rows(conn, `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS dt, COLUMN_TYPE AS ct, IS_NULLABLE AS n,
      CHARACTER_SET_NAME AS cs, COLLATION_NAME AS co, COLUMN_DEFAULT AS d, EXTRA AS x, GENERATION_EXPRESSION AS g
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION`, [db]);
  for (const r of list) {
    const t = String(r.t);
    if (!out.has(t)) out.set(t, []);
    const signature = [r.c, r.ct, r.n, r.cs, r.co, r.d, r.x, r.g].map((v) => (v === null ? '∅' : String(v))).join(' ');
    out.get(t)!.push({ name: String(r.c), dataType: String(r.dt).toLowerCase(), signature });
  }
  return out;
}

const TEXTUAL_NUMBERS = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'bigint', 'decimal', 'double', 'year',
  'date', 'datetime', 'timestamp', 'time', 'inet4', 'inet6', 'uuid']);

/**
 * One column as text that is equal exactly when the stored values are: 'N' for
 * NULL (never valid hex or number text), numbers and dates as exact text,
 * bytes as HEX, or 'H' + SHA2 when long.
 */
function columnExpr(col: Column, alias: string): string {
  const c = `${alias}.${quoteId(col.name)}`;
  let value: string;
  if (col.dataType === 'float') value = `CAST(CAST(${c} AS DOUBLE) AS CHAR)`; // CAST(float AS CHAR) rounds to 6 digits
  else if (col.dataType === 'bit') value = `CAST(${c} + 0 AS CHAR)`;
  else if (TEXTUAL_NUMBERS.has(col.dataType)) value = `CAST(${c} AS CHAR)`;
  else value = `IF(LENGTH(${c}) > 64, CONCAT('H', SHA2(${c}, 256)), HEX(${c}))`;
  return `IFNULL(${value}, 'N')`;
}

function rowHash(cols: Column[], alias: string): string {
  return `SHA2(CONCAT_WS('|', ${cols.map((c) => columnExpr(c, alias)).join(', ')}), 256)`;
}

interface Digest { n: string; sums: string }

async function digest(conn: Connection, db: string, table: string, cols: Column[]): Promise<Digest> {
  // Each mention of h recomputes it (the derived table is merged), so two 64-bit slices, not more.
  const slices = [1, 17].map((at) => `SUM(CAST(CONV(SUBSTRING(h, ${at}, 16), 16, 10) AS UNSIGNED))`);
  // h is never NULL: each column adds at most 129 characters, so even 4096 columns stay under 1 MB.
  const [r] = await rows(conn, `SELECT COUNT(*) AS n, CONCAT_WS('/', ${slices.join(', ')}) AS sums
    FROM (SELECT ${rowHash(cols, 't')} AS h FROM ${quoteId(db)}.${quoteId(table)} AS t) AS x`);
  return { n: String(r!.n), sums: String(r!.sums ?? '') };
}

/** Up to 5 primary-key values whose rows differ, to make a failure readable. */
async function sampleKeys(conn: Connection, a: string, b: string, table: string, cols: Column[]): Promise<string[]> {
  const pk = await rows(conn, `SELECT COLUMN_NAME AS c FROM information_schema.KEY_COLUMN_USAGE
    WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`, [a, table]);
  if (pk.length === 0) return [];
  const keys = pk.map((r) => quoteId(String(r.c)));
  const on = keys.map((k) => `x.${k} = y.${k}`).join(' AND ');
  const show = `CONCAT_WS(',', ${keys.map((k) => `x.${k}`).join(', ')})`;
  const probe = (from: string, to: string, full: boolean) => rows(conn, `SELECT ${show} AS k FROM ${quoteId(from)}.${quoteId(table)} x
    LEFT JOIN ${quoteId(to)}.${quoteId(table)} y ON ${on}
    WHERE y.${keys[0]} IS NULL ${full ? `OR ${rowHash(cols, 'x')} <> ${rowHash(cols, 'y')}` : ''} LIMIT 5`);
  const found = [...(await probe(a, b, true)).map((r) => `${r.k}`), ...(await probe(b, a, false)).map((r) => `${r.k} (only in second)`)];
  return found.slice(0, 5);
}

async function showCreate(conn: Connection, db: string, table: string): Promise<{ ddl: string; autoIncrement: string | null }> {
  const [r] = await rows(conn, `SHOW CREATE TABLE ${quoteId(db)}.${quoteId(table)}`);
  const ddl = String(r!['Create Table']);
  const m = / AUTO_INCREMENT=(\d+)/.exec(ddl);
  return { ddl: ddl.replace(/ AUTO_INCREMENT=\d+/, ''), autoIncrement: m ? m[1]! : null };
}

async function baseTables(conn: Connection, db: string): Promise<string[]> {
  const list = await rows(conn, `SELECT TABLE_NAME AS t FROM information_schema.TABLES
    WHERE TABLE_SCHEMA = ? AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY TABLE_NAME`, [db]);
  return list.map((r) => String(r.t));
}

async function compareTable(conn: Connection, a: string, b: string, table: string, ca: Column[], cb: Column[], opts: CompareOptions): Promise<Difference[]> {
  const out: Difference[] = [];
  const sa = ca.map((c) => c.signature).join('\n');
  const sb = cb.map((c) => c.signature).join('\n');
  if (sa !== sb) {
    const onlyA = ca.filter((c) => !cb.some((d) => d.signature === c.signature)).map((c) => c.signature);
    const onlyB = cb.filter((c) => !ca.some((d) => d.signature === c.signature)).map((c) => c.signature);
    out.push({ kind: 'columns', table, detail: `column lists differ; first has [${onlyA.join('; ')}], second has [${onlyB.join('; ')}]${onlyA.length + onlyB.length === 0 ? ' (order differs)' : ''}` });
  } else {
    const [da, db] = [await digest(conn, a, table, ca), await digest(conn, b, table, cb)];
    if (da.n !== db.n) out.push({ kind: 'row-count', table, detail: `${da.n} rows in first, ${db.n} in second` });
    if (da.sums !== db.sums) {
      const keys = await sampleKeys(conn, a, b, table, ca);
      out.push({ kind: 'rows', table, detail: `row contents differ${keys.length ? `; e.g. primary key ${keys.join(' | ')}` : ''}` });
    }
  }
  if (opts.createTable !== false || opts.autoIncrement !== false) {
    const [xa, xb] = [await showCreate(conn, a, table), await showCreate(conn, b, table)];
    if (opts.createTable !== false && xa.ddl !== xb.ddl) out.push({ kind: 'create-table', table, detail: `SHOW CREATE TABLE differs:\n${xa.ddl}\n---\n${xb.ddl}` });
    if (opts.autoIncrement !== false && xa.autoIncrement !== xb.autoIncrement) {
      out.push({ kind: 'auto-increment', table, detail: `AUTO_INCREMENT ${xa.autoIncrement ?? 'unset'} in first, ${xb.autoIncrement ?? 'unset'} in second` });
    }
  }
  return out;
}

const OBJECT_QUERIES: Record<'view' | 'trigger' | 'routine' | 'event', string> = {
  view: `SELECT TABLE_NAME AS name, VIEW_DEFINITION AS body, CHECK_OPTION, IS_UPDATABLE, SECURITY_TYPE, ALGORITHM,
    CHARACTER_SET_CLIENT, COLLATION_CONNECTION, DEFINER FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ?`,
  trigger: `SELECT TRIGGER_NAME AS name, ACTION_STATEMENT AS body, EVENT_MANIPULATION, EVENT_OBJECT_TABLE, ACTION_ORDER, ACTION_TIMING,
    SQL_MODE, CHARACTER_SET_CLIENT, COLLATION_CONNECTION, DATABASE_COLLATION, DEFINER FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ?`,
  routine: `SELECT CONCAT(ROUTINE_TYPE, ' ', ROUTINE_NAME) AS name, ROUTINE_DEFINITION AS body, DTD_IDENTIFIER, IS_DETERMINISTIC,
    SQL_DATA_ACCESS, SECURITY_TYPE, SQL_MODE, ROUTINE_COMMENT, CHARACTER_SET_CLIENT, COLLATION_CONNECTION, DATABASE_COLLATION, DEFINER,
    (SELECT GROUP_CONCAT(CONCAT_WS(' ', p.PARAMETER_MODE, p.PARAMETER_NAME, p.DTD_IDENTIFIER) ORDER BY p.ORDINAL_POSITION SEPARATOR ', ')
       FROM information_schema.PARAMETERS p WHERE p.SPECIFIC_SCHEMA = r.ROUTINE_SCHEMA AND p.SPECIFIC_NAME = r.SPECIFIC_NAME
       AND p.ROUTINE_TYPE = r.ROUTINE_TYPE AND p.ORDINAL_POSITION > 0) AS params
    FROM information_schema.ROUTINES r WHERE ROUTINE_SCHEMA = ?`,
  event: `SELECT EVENT_NAME AS name, EVENT_DEFINITION AS body, EVENT_TYPE, EXECUTE_AT, INTERVAL_VALUE, INTERVAL_FIELD, SQL_MODE,
    STARTS, ENDS, STATUS, ON_COMPLETION, EVENT_COMMENT, TIME_ZONE, CHARACTER_SET_CLIENT, COLLATION_CONNECTION, DEFINER
    FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ?`,
};

async function objects(conn: Connection, db: string, kind: keyof typeof OBJECT_QUERIES, definers: boolean): Promise<Map<string, Row>> {
  const out = new Map<string, Row>();
  for (const r of await rows(conn, OBJECT_QUERIES[kind], [db])) {
    const { name, ...rest } = r;
    if (!definers) delete rest.DEFINER;
    // Views are stored with `db`.`table`; the name of the database itself is not a difference.
    rest.body = String(rest.body ?? '').split(`${quoteId(db)}.`).join('');
    out.set(String(name), rest);
  }
  return out;
}

function diffMaps(kind: Difference['kind'], a: Map<string, unknown>, b: Map<string, unknown>): Difference[] {
  const out: Difference[] = [];
  for (const [name, va] of a) {
    if (!b.has(name)) out.push({ kind, table: name, detail: `${kind} ${name} is missing from the second database` });
    else {
      const vb = b.get(name) as Row;
      const fields = Object.keys(va as Row).filter((k) => JSON.stringify((va as Row)[k]) !== JSON.stringify(vb[k]));
      if (fields.length) out.push({ kind, table: name, detail: `${kind} ${name} differs in ${fields.map((f) => `${f}: ${JSON.stringify((va as Row)[f])} vs ${JSON.stringify(vb[f])}`).join('; ')}` });
    }
  }
  for (const name of b.keys()) if (!a.has(name)) out.push({ kind, table: name, detail: `${kind} ${name} exists only in the second database` });
  return out;
}

/** Every difference between databases `a` and `b` on the server `conn` talks to; [] means identical. */
export async function compareDatabasesOn(conn: Connection, a: string, b: string, opts: CompareOptions = {}): Promise<Difference[]> {
  const out: Difference[] = [];
  const schema = async (db: string) => (await rows(conn, `SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co
    FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?`, [db]))[0];
  const [sa, sb] = [await schema(a), await schema(b)];
  if (!sa) throw new Error(`compareDatabases: database ${a} does not exist`);
  if (!sb) return [{ kind: 'database', detail: `database ${b} does not exist` }];
  if (sa.cs !== sb.cs || sa.co !== sb.co) out.push({ kind: 'database', detail: `default charset ${sa.cs}/${sa.co} vs ${sb.cs}/${sb.co}` });

  const [ta, tb] = [await baseTables(conn, a), await baseTables(conn, b)];
  const [ca, cb] = [await columns(conn, a), await columns(conn, b)];
  const wanted = opts.tables ?? [...new Set([...ta, ...tb])].sort();
  for (const table of wanted) {
    const inA = ta.includes(table);
    const inB = tb.includes(table);
    if (!inA && !inB) out.push({ kind: 'missing-table', table, detail: `table ${table} is in neither database` });
    else if (!inB) out.push({ kind: 'missing-table', table, detail: `table ${table} is missing from the second database` });
    else if (!inA) out.push({ kind: 'extra-table', table, detail: `table ${table} exists only in the second database` });
    else out.push(...(await compareTable(conn, a, b, table, ca.get(table) ?? [], cb.get(table) ?? [], opts)));
  }

  if (opts.objects ?? opts.tables === undefined) {
    for (const kind of ['view', 'trigger', 'routine', 'event'] as const) {
      out.push(...diffMaps(kind, await objects(conn, a, kind, !!opts.definers), await objects(conn, b, kind, !!opts.definers)));
    }
  }
  return out;
}
