/**
 * An office at work during a backup, for the one-moment tests (issue 25):
 * a source database whose pair tables have the engines asked for, a writer
 * that inserts each pair's two halves one statement after the other and
 * times every statement, a long-running SELECT that stands in a lock's way,
 * and the count, through SQL, of the pairs a restore brought back half.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { quoteId, type Connection } from '../../src/db/connect.js';
import type { Engine } from '../../fixtures/lib/engine.js';
import { makeSource } from './backup.js';
import { connectServer, queryIn } from './db.js';

/** The engines of pair_a and pair_b, and of the Open Dental tables around them. */
export interface EngineMix {
  label: string;
  a: Engine;
  b: Engine;
  rest: Engine;
}

export const MIXES: readonly EngineMix[] = [
  { label: 'MyISAM+MyISAM', a: 'MyISAM', b: 'MyISAM', rest: 'MyISAM' },
  { label: 'Aria+Aria', a: 'Aria', b: 'Aria', rest: 'Aria' },
  { label: 'MyISAM+InnoDB', a: 'MyISAM', b: 'InnoDB', rest: 'MyISAM' },
  { label: 'InnoDB+InnoDB (control)', a: 'InnoDB', b: 'InnoDB', rest: 'InnoDB' },
];

/** True when no table of the mix needs holding: the snapshot alone is one moment. */
export const allInnoDB = (mix: EngineMix): boolean => mix.a === 'InnoDB' && mix.b === 'InnoDB' && mix.rest === 'InnoDB';

/** The first key the office writes; the filler lies below it. */
export const PAIR_BASE = 1_000_000;
const FILLER_ROWS = 50_000;

/**
 * A source with jsmith enrolled, its Open Dental tables on `mix.rest`, and
 * pair_a (mix.a), pair_b (mix.b), office_note (mix.a) and office_inno
 * (InnoDB), each with
 * FILLER_ROWS rows of filler so that reading them takes a while.
 */
export async function makePairSource(mix: EngineMix): Promise<string> {
  const source = await makeSource({ kind: 'opendental', patients: 5, engine: mix.rest, prefix: `lr_moment_${mix.a.toLowerCase()}_${mix.b.toLowerCase()}` });
  const tables: [string, Engine][] = [['pair_a', mix.a], ['pair_b', mix.b], ['office_note', mix.a], ['office_inno', 'InnoDB']];
  for (const [table, engine] of tables) {
    await queryIn(source, `CREATE TABLE ${quoteId(table)} (id INT NOT NULL PRIMARY KEY, made DATETIME(6) NOT NULL, body VARCHAR(200) NOT NULL) ENGINE=${engine}`);
    await queryIn(source, `INSERT INTO ${quoteId(table)} SELECT seq, '2020-01-01' + INTERVAL seq SECOND, CONCAT('filler ', seq, ' ', REPEAT(CHAR(97 + seq % 26), 100 + seq % 80)) FROM seq_1_to_${FILLER_ROWS}`);
  }
  await queryIn(source, 'ANALYZE TABLE pair_a, pair_b, office_note, office_inno');
  return source;
}

/** What a writer saw: how many rounds it completed, and per kind of statement its longest one. */
export interface WriterStats {
  rounds: number;
  /** Kind of statement (as the writer names them) to its longest single run, in ms, and its text. */
  longest: Record<string, { ms: number; sql: string }>;
}

export interface Writer {
  /** Settles once the writer has completed `n` rounds (or stopped). */
  rounds(n: number): Promise<void>;
  /** Stops after the round under way and says what it saw. */
  stop(): Promise<WriterStats>;
}

type Timed = (kind: string, sql: string, params: unknown[]) => Promise<void>;

/** Keys the office writes: unique across writers and databases, above the filler. */
let nextKey = PAIR_BASE;

/** Runs `round` (given a timed query function and a fresh key) every `pauseMs` on a connection of its own. */
function startWriter(database: string, pauseMs: number, round: (q: Timed, key: number) => Promise<void>): Writer {
  const stats: WriterStats = { rounds: 0, longest: {} };
  let stopping = false;
  const loop = (async () => {
    const conn = await connectServer(database);
    const timed: Timed = async (kind, sql, params) => {
      const t0 = performance.now();
      await conn.query(sql, params);
      const ms = performance.now() - t0;
      if (ms > (stats.longest[kind]?.ms ?? -1)) stats.longest[kind] = { ms, sql };
    };
    try {
      while (!stopping) {
        await round(timed, nextKey++);
        stats.rounds++;
        await sleep(pauseMs);
      }
    } finally {
      await conn.end();
    }
  })();
  return {
    async rounds(n) {
      while (stats.rounds < n && !stopping) await Promise.race([sleep(10), loop]);
    },
    async stop() {
      stopping = true;
      await loop;
      return stats;
    },
  };
}

/** The office writing pairs: a row into pair_a, then one with the same key into pair_b (autocommit, two statements). */
export function startPairWriter(database: string): Writer {
  return startWriter(database, 3, async (q, key) => {
    await q('pairs', 'INSERT INTO pair_a VALUES (?, NOW(6), ?)', [key, `pair ${key} a`]);
    await q('pairs', 'INSERT INTO pair_b VALUES (?, NOW(6), ?)', [key, `pair ${key} b`]);
  });
}

/**
 * The office inserting and updating office_note (on pair_a's engine: kind
 * `note`) and office_inno (InnoDB: kind `inno`), never pair_a, which the long
 * SELECT reads.
 */
export function startNoteWriter(database: string): Writer {
  return startWriter(database, 5, async (q, key) => {
    const old = 1 + (key % 1000);
    await q('note', 'INSERT INTO office_note VALUES (?, NOW(6), ?)', [key, `note ${key}`]);
    await q('note', 'UPDATE office_note SET made = NOW(6), body = ? WHERE id = ?', [`updated ${key}`, old]);
    await q('inno', 'INSERT INTO office_inno VALUES (?, NOW(6), ?)', [key, `note ${key}`]);
    await q('inno', 'UPDATE office_inno SET made = NOW(6), body = ? WHERE id = ?', [`updated ${key}`, old]);
  });
}

/** Pairs in `database` of which only one half is there, and those whole. */
export async function halfPairs(database: string): Promise<{ half: number; whole: number }> {
  const [{ half, whole }] = await queryIn(
    database,
    `SELECT
       (SELECT COUNT(*) FROM pair_a a LEFT JOIN pair_b b ON b.id = a.id WHERE a.id >= ${PAIR_BASE} AND b.id IS NULL)
     + (SELECT COUNT(*) FROM pair_b b LEFT JOIN pair_a a ON a.id = b.id WHERE b.id >= ${PAIR_BASE} AND a.id IS NULL) AS half,
       (SELECT COUNT(*) FROM pair_a a JOIN pair_b b ON b.id = a.id WHERE a.id >= ${PAIR_BASE}) AS whole`,
  );
  return { half: Number(half), whole: Number(whole) };
}

/**
 * What stands in a lock's way: a SELECT scanning `table` for `seconds` (a
 * scan: a lookup by key is read at planning time and its table let go at
 * once), and behind it the office's UPDATE of the same table, queued for its
 * write lock on MyISAM and Aria (a SELECT alone stops no READ LOCAL lock and
 * no BACKUP STAGE; a write waiting behind it stops both). Each on a connection
 * of its own, seen on the server before this returns.
 */
export interface LongSelect {
  /** The server's ids for the SELECT's connection and the queued UPDATE's (what a message naming them would show). */
  selectId: number;
  updateId: number;
  /** Settles when the SELECT has ended (killed or not). */
  ended: Promise<void>;
  /** Kills the SELECT if it still runs, lets the UPDATE finish, and closes both connections. */
  close(): Promise<void>;
}

async function threadOf(conn: Connection): Promise<number> {
  const [[{ id }]] = (await conn.query('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]];
  return Number(id);
}

/** Waits until connection `id` runs a statement whose text starts with `start` (or, with `orDone`, that promise settles). */
async function seenRunning(id: number, start: string, orDone?: Promise<void>): Promise<void> {
  let done = false;
  void orDone?.then(() => (done = true));
  const deadline = Date.now() + 5000;
  for (;;) {
    const rows = await queryIn('information_schema', 'SELECT COUNT(*) AS n FROM PROCESSLIST WHERE ID = ? AND INFO LIKE ?', [id, `${start}%`]);
    if (Number(rows[0].n) > 0 || done) return;
    if (Date.now() > deadline) throw new Error(`connection ${id} did not start ${start}`);
    await sleep(20);
  }
}

export async function startLongSelect(database: string, table: string, seconds: number): Promise<LongSelect> {
  const reader = await connectServer(database);
  const writer = await connectServer(database);
  const [selectId, updateId] = [await threadOf(reader), await threadOf(writer)];
  const ended = reader.query(`SELECT SUM(SLEEP(1)) AS slept FROM ${quoteId(table)} WHERE id BETWEEN 1 AND ${Math.round(seconds)}`).then(() => {}, () => {});
  await seenRunning(selectId, 'SELECT SUM(SLEEP(');
  const updated = writer.query(`UPDATE ${quoteId(table)} SET made = NOW(6) WHERE id = ${Math.round(seconds) + 1}`).then(() => {});
  await seenRunning(updateId, 'UPDATE ', updated);
  return {
    selectId,
    updateId,
    ended,
    async close() {
      const admin = await connectServer();
      try {
        await admin.query(`KILL QUERY ${selectId}`).catch(() => {});
      } finally {
        await admin.end();
      }
      await ended;
      await updated;
      await reader.end().catch(() => reader.destroy());
      await writer.end().catch(() => writer.destroy());
    },
  };
}

/** The table's name in a list of held tables, however qualified (`t`, `db.t`, `` `db`.`t` ``). */
export function names(list: readonly string[], table: string): boolean {
  return list.some((t) => t.replace(/`/g, '').split('.').pop() === table);
}
