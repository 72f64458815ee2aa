/**
 * An office at work during a backup, for the one-moment tests (issue 25):
 * a source database whose pair tables have the engines asked for, a writer
 * that inserts each pair's two halves one statement after the other and
 * times every statement, a long-running SELECT that stands in a lock's way,
 * and the count, through SQL, of the pairs a restore brought back half.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { quoteId } from '../../src/db/connect.js';
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

/** A SELECT over `table` that runs for `seconds`, on a connection of its own, started and seen running on the server. */
export interface LongSelect {
  /** The server's id for its connection (what a message naming it would show). */
  connectionId: number;
  /** Settles when the SELECT has ended (killed or not). */
  ended: Promise<void>;
  /** Kills the query if it still runs and closes the connection. */
  close(): Promise<void>;
}

export async function startLongSelect(database: string, table: string, seconds: number): Promise<LongSelect> {
  const conn = await connectServer(database);
  const [[{ id }]] = (await conn.query('SELECT CONNECTION_ID() AS id')) as unknown as [[{ id: number }]];
  const connectionId = Number(id);
  const ended = conn.query(`SELECT id, SLEEP(${seconds}) AS slept FROM ${quoteId(table)} WHERE id = 1`).then(() => {}, () => {});
  const deadline = Date.now() + 5000;
  for (;;) {
    const rows = await queryIn(database, "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ? AND INFO LIKE 'SELECT id, SLEEP(%'", [connectionId]);
    if (Number(rows[0].n) > 0) break;
    if (Date.now() > deadline) throw new Error(`the long SELECT on connection ${connectionId} did not start`);
    await sleep(20);
  }
  return {
    connectionId,
    ended,
    async close() {
      const admin = await connectServer();
      try {
        await admin.query(`KILL QUERY ${connectionId}`).catch(() => {});
      } finally {
        await admin.end();
      }
      await ended;
      await conn.end().catch(() => conn.destroy());
    },
  };
}

/** The table's name in a list of held tables, however qualified (`t`, `db.t`, `` `db`.`t` ``). */
export function names(list: readonly string[], table: string): boolean {
  return list.some((t) => t.replace(/`/g, '').split('.').pop() === table);
}
