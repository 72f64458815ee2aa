/**
 * Views, routines, triggers and events, created after the data (a trigger
 * created earlier would fire on every loaded row). Each statement is
 * checked first (src/sql/create-object.ts): one that is not a plain CREATE
 * of its own kind and name, inside this database, is not run and is
 * reported with the reason. Each runs with the sql_mode and character set
 * it was defined under. Views may depend on views, so failures are retried
 * while any view still succeeds.
 */
import { quoteId, type Connection } from '../db/connect.js';
import type { ObjectDefinition, ObjectKind } from '../archive/layout.js';
import { checkCreateObject, type ObjectContext } from '../sql/create-object.js';
import { settingsProblem } from '../sql/object-settings.js';
import { safeText } from '../text.js';
import { log } from '../log.js';
import { selectOne } from '../db/query.js';
import { isProgressTableName, PROGRESS_TABLE } from './progress-table.js';
import { lexModeOf } from '../sql/tokenize.js';
import type { ServerNames } from './server-names.js';

export interface ObjectOutcome {
  kind: ObjectKind;
  name: string;
  restored: boolean;
  /** The file's DEFINER, replaced by the restoring account. */
  definerReplaced?: string;
  /** An event the file had enabled, created disabled. */
  eventDisabled?: boolean;
  /** Not run: the statement failed its check (error says why). */
  refused?: boolean;
  error?: string;
}

const ORDER: ObjectKind[] = ['routine', 'view', 'trigger', 'event'];

function dropStatement(o: ObjectDefinition): string {
  const what = o.kind === 'routine' ? (o.type === 'FUNCTION' ? 'FUNCTION' : 'PROCEDURE') : o.kind.toUpperCase();
  return `DROP ${what} IF EXISTS ${quoteId(o.name)}`;
}

function refused(o: ObjectDefinition, reason: string): ObjectOutcome {
  log('restore').warn({ kind: o.kind, reason }, 'schema object refused');
  return { kind: o.kind, name: o.name, restored: false, refused: true, error: `not created: ${safeText(reason)}` };
}

/**
 * The object is checked under the sql_mode the server applies: the file's
 * mode is set, then read back (the server expands ANSI, POSTGRESQL, MSSQL...
 * into ANSI_QUOTES and more), and the lexer follows what was read.
 */
async function createOne(conn: Connection, o: ObjectDefinition, ctx: ObjectContext, names: ServerNames | null): Promise<ObjectOutcome> {
  // A view shares the tables' names: this one would take the place of the restore's progress record.
  if (o.kind === 'view' && isProgressTableName(o.name)) return refused(o, `${PROGRESS_TABLE} (in any case) is the name the restore keeps its own progress under`);
  const settingsRefused = settingsProblem(o);
  if (settingsRefused) return refused(o, settingsRefused);
  // Checked as the file has them, then named as this server names them (a MySQL 8 utf8mb4_0900_ai_ci...).
  const session = names ? names.session(o) : o;
  const settings: string[] = [];
  if (o.sqlMode !== undefined) settings.push(`sql_mode = ${conn.escape(o.sqlMode)}`);
  if (session.characterSetClient) settings.push(`character_set_client = ${conn.escape(session.characterSetClient)}`);
  if (session.collationConnection) settings.push(`collation_connection = ${conn.escape(session.collationConnection)}`);
  const saved = (await selectOne<{ m: string; c: string; k: string }>(conn, 'SELECT @@SESSION.sql_mode AS m, @@SESSION.character_set_client AS c, @@SESSION.collation_connection AS k'))!;
  try {
    if (settings.length) await conn.query(`SET SESSION ${settings.join(', ')}`);
    const applied = (await selectOne<{ m: string }>(conn, 'SELECT @@SESSION.sql_mode AS m'))!.m;
    const create = names ? names.object(o, lexModeOf(applied)) : o.create;
    const checked = checkCreateObject({ ...session, create, sqlMode: applied }, ctx);
    if (!checked.ok) return refused(o, checked.reason);
    const { sql, definerReplaced, eventDisabled } = checked.value;
    // A forced or resumed restore may meet the object already there.
    await conn.query(dropStatement(o));
    await conn.query(sql);
    return { kind: o.kind, name: o.name, restored: true, definerReplaced, eventDisabled };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { kind: o.kind, name: o.name, restored: false, error: e.code ?? 'error' };
  } finally {
    await conn.query('SET SESSION sql_mode = ?, character_set_client = ?, collation_connection = ?', [saved.m, saved.c, saved.k]).catch(() => {});
  }
}

export async function createObjects(conn: Connection, objects: ObjectDefinition[], ctx: ObjectContext, names: ServerNames | null = null): Promise<ObjectOutcome[]> {
  const outcomes: ObjectOutcome[] = [];
  for (const kind of ORDER) {
    let pending = objects.filter((o) => o.kind === kind);
    // Views can depend on each other in any order: retry until a round makes no progress.
    for (;;) {
      const failed: { o: ObjectDefinition; outcome: ObjectOutcome }[] = [];
      for (const o of pending) {
        const outcome = await createOne(conn, o, ctx, names);
        if (outcome.restored) outcomes.push(outcome);
        else failed.push({ o, outcome });
      }
      if (failed.length === 0 || failed.length === pending.length || kind !== 'view') {
        for (const f of failed) {
          log('restore').warn({ kind: f.o.kind, name: f.o.name, code: f.outcome.error }, 'schema object not restored');
          outcomes.push(f.outcome);
        }
        break;
      }
      pending = failed.map((f) => f.o);
    }
  }
  return outcomes;
}
