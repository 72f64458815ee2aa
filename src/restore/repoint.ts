/**
 * Re-points the restored objects: once IT has looked at the views, routines,
 * triggers and events a restore defined by the confined account
 * (`lr_objects_<db>`, definers.ts), `lastresort definers` makes another
 * account (the one the practice's own objects used, say) their definer. Each
 * object is re-created from the server's own SHOW CREATE, under the sql_mode
 * and character set it was stored with, with only its DEFINER changed: views
 * and routines are dropped and created again, triggers too (each table's in
 * their firing order: another definer's triggers on the same table then fire
 * before them), events too (SHOW CREATE EVENT keeps ENABLE or DISABLE).
 * Objects with any other definer are left as they are.
 */
import { quoteId, type Connection } from '../db/connect.js';
import { LrError } from '../errors.js';
import { withDefiner } from '../sql/create-object.js';
import { OBJECTS_HOST, objectsAccountName } from './definers.js';

export interface Repointed {
  kind: 'view' | 'routine' | 'trigger' | 'event';
  name: string;
}

type Row = Record<string, string>;
async function rows(conn: Connection, sql: string, values: unknown[] = []): Promise<Row[]> {
  return ((await conn.query(sql, values)) as unknown as [Row[]])[0];
}

/** The objects of `database` defined by `from` (user@host as information_schema writes it), in the order to re-create them. */
async function objectsDefinedBy(conn: Connection, database: string, from: string): Promise<(Repointed & { type?: string })[]> {
  const args = [database, from];
  const routines = await rows(conn, 'SELECT ROUTINE_NAME AS n, ROUTINE_TYPE AS t FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? AND DEFINER = ? ORDER BY 1', args);
  const views = await rows(conn, 'SELECT TABLE_NAME AS n FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? AND DEFINER = ? ORDER BY 1', args);
  const triggers = await rows(conn, 'SELECT TRIGGER_NAME AS n FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ? AND DEFINER = ? ORDER BY EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER', args);
  const events = await rows(conn, 'SELECT EVENT_NAME AS n FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? AND DEFINER = ? ORDER BY 1', args);
  return [
    ...routines.map((r) => ({ kind: 'routine' as const, name: r.n, type: r.t })),
    ...views.map((r) => ({ kind: 'view' as const, name: r.n })),
    ...triggers.map((r) => ({ kind: 'trigger' as const, name: r.n })),
    ...events.map((r) => ({ kind: 'event' as const, name: r.n })),
  ];
}

/** SHOW CREATE of one object: its statement and the session settings it was stored with. */
async function showCreate(conn: Connection, o: Repointed & { type?: string }): Promise<{ create: string; sqlMode?: string; charset?: string; collation?: string }> {
  const what = o.kind === 'routine' ? (o.type === 'FUNCTION' ? 'FUNCTION' : 'PROCEDURE') : o.kind.toUpperCase();
  const [row] = await rows(conn, `SHOW CREATE ${what} ${quoteId(o.name)}`);
  const create = row['Create View'] ?? row['Create Procedure'] ?? row['Create Function'] ?? row['SQL Original Statement'] ?? row['Create Event'];
  return { create, sqlMode: row.sql_mode, charset: row.character_set_client, collation: row.collation_connection };
}

/** `user@host` checked to exist; the definer every object of `from` gets. */
export async function repointDefiners(conn: Connection, database: string, to: { user: string; host: string }, from = { user: objectsAccountName(database), host: OBJECTS_HOST }): Promise<Repointed[]> {
  try {
    await conn.query('SHOW GRANTS FOR ?@?', [to.user, to.host]);
  } catch (err) {
    if ((err as { code?: string }).code === 'ER_NONEXISTING_GRANT') throw new LrError('LR_USAGE', `There is no account ${to.user}@${to.host} on this server: create it first, with the rights the objects need.`);
    throw err;
  }
  const definer = `${quoteId(to.user)}@${quoteId(to.host)}`;
  const done: Repointed[] = [];
  for (const o of await objectsDefinedBy(conn, database, `${from.user}@${from.host}`)) {
    const shown = await showCreate(conn, o);
    const sql = withDefiner(shown.create, shown.sqlMode, definer);
    if (sql === null) throw new LrError('LR_DB', `The ${o.kind} ${o.name} could not be re-pointed: its definition is not one this tool reads.`);
    const [saved] = await rows(conn, 'SELECT @@SESSION.sql_mode AS m, @@SESSION.character_set_client AS c, @@SESSION.collation_connection AS k');
    try {
      await conn.query('SET SESSION sql_mode = ?, character_set_client = ?, collation_connection = ?', [shown.sqlMode ?? saved.m, shown.charset ?? saved.c, shown.collation ?? saved.k]);
      const what = o.kind === 'routine' ? (o.type === 'FUNCTION' ? 'FUNCTION' : 'PROCEDURE') : o.kind.toUpperCase();
      await conn.query(`DROP ${what} ${quoteId(o.name)}`);
      // Not atomic: if the new one is refused, the old one is put back before the error is given.
      await conn.query(sql).catch(async (err: unknown) => {
        await conn.query(shown.create);
        throw err;
      });
    } finally {
      await conn.query('SET SESSION sql_mode = ?, character_set_client = ?, collation_connection = ?', [saved.m, saved.c, saved.k]);
    }
    done.push({ kind: o.kind, name: o.name });
  }
  return done;
}
