/**
 * Step 3b: the name of the database to restore into. The default sits beside
 * the original (`<original>_restored_<backup date>`), so the live database is
 * never the target by accident. A database that exists and holds tables is
 * never written into unless the person types its name a second time.
 */
import { connect } from '../db/connect.js';
import type { Dsn } from '../db/dsn.js';
import { LrError } from '../errors.js';
import type { BackupHeader } from '../format/header.js';
import { inspectTarget, type TargetState } from '../restore/target.js';
import { dropLeftoverAccounts, type LeftoverAccount } from '../restore/isolation.js';
import { safeText } from '../text.js';
import type { Ask } from './ask.js';
import { canCreateDatabase } from './server.js';

/** fresh: new or empty; resume: continue an interrupted restore of this backup; replace: drop it first (confirmed). */
export type DatabaseMode = 'fresh' | 'resume' | 'replace';

export interface DatabaseChoice {
  name: string;
  mode: DatabaseMode;
  /** Tables it held when chosen (for the summary). */
  tablesBefore: number;
}

export interface Inspector {
  inspect(name: string): Promise<TargetState>;
  mayCreate(name: string): Promise<boolean>;
  /** Drops the temporary accounts of restores that were stopped (restore/isolation.ts), and says which. */
  removeLeftovers?(): Promise<LeftoverAccount[]>;
}

const MAX_NAME = 64;

/** The date part as the person sees it (local time), YYYYMMDD. */
export function backupDateStamp(createdAt: string): string {
  const d = new Date(createdAt);
  if (Number.isNaN(d.getTime())) return 'unknown';
  return `${d.getFullYear()}${String(d.getMonth() + 1).padStart(2, '0')}${String(d.getDate()).padStart(2, '0')}`;
}

export function defaultDatabaseName(header: Pick<BackupHeader, 'database' | 'createdAt'>): string {
  const suffix = `_restored_${backupDateStamp(header.createdAt)}`;
  const base = header.database.replace(/[^A-Za-z0-9_]/g, '_') || 'opendental';
  return base.slice(0, MAX_NAME - suffix.length) + suffix;
}

/** Why a typed name cannot be used, or null. Plain letters keep every tool (and every shell) happy. */
export function problemWithName(name: string): string | null {
  if (name === '') return 'The name is empty.';
  if (name.length > MAX_NAME) return `The name is too long: at most ${MAX_NAME} characters.`;
  if (!/^[A-Za-z0-9_]+$/.test(name)) return 'Use only letters (a-z, A-Z), digits and _ in the name.';
  return null;
}

/** Reads the server through a fresh connection per question; writes nothing but the removal of stopped restores' temporary accounts. */
export function serverInspector(dsn: Dsn): Inspector {
  const withConn = async <T>(fn: (c: Awaited<ReturnType<typeof connect>>) => Promise<T>): Promise<T> => {
    const conn = await connect({ ...dsn, database: '' }, { noDatabase: true });
    try {
      return await fn(conn);
    } finally {
      await conn.end().catch(() => conn.destroy());
    }
  };
  return {
    inspect: (name) => withConn((c) => inspectTarget(c, name)),
    mayCreate: (name) => withConn((c) => canCreateDatabase(c, name)),
    removeLeftovers: () => withConn(dropLeftoverAccounts),
  };
}

async function nextFreeName(base: string, inspector: Inspector): Promise<string> {
  for (let n = 2; n < 100; n++) {
    const suffix = `_${n}`;
    const candidate = base.slice(0, MAX_NAME - suffix.length) + suffix;
    const s = await inspector.inspect(candidate);
    if (!s.exists) return candidate;
  }
  return `${base.slice(0, MAX_NAME - 9)}_${Date.now().toString(36)}`;
}

export interface DatabaseAnswers {
  /** --database NAME, or the database named in --target. */
  given?: string;
  resume?: boolean;
  yes?: boolean;
  header: Pick<BackupHeader, 'database' | 'createdAt' | 'fileId'>;
  /** For messages: "root@127.0.0.1:3306" or "the sandbox server". */
  where: string;
}

/**
 * The name to propose: the default, or on a second run (the default is
 * taken) the next free one, so Enter is always safe. A stopped restore of
 * this same backup keeps the default, where it is offered to continue.
 */
async function proposedName(a: DatabaseAnswers, inspector: Inspector): Promise<string> {
  const name = defaultDatabaseName(a.header);
  const state = await inspector.inspect(name);
  const free = !state.exists || (state.tables === 0 && state.interruptedFileId === null);
  return free || state.interruptedFileId === a.header.fileId ? name : nextFreeName(name, inspector);
}

export async function chooseDatabase(ask: Ask, a: DatabaseAnswers, inspector: Inspector): Promise<DatabaseChoice> {
  const askFreely = ask.interactive && !a.yes;
  const fallback = await proposedName(a, inspector);
  // A stopped restore's temporary account (rights on its database) goes first, whatever the person picks.
  const removed = (await inspector.removeLeftovers?.().catch(() => [])) ?? [];
  let name = a.given ?? (askFreely ? await ask.text({ message: 'Name for the restored database', initial: fallback }) : fallback);
  for (;;) {
    const problem = problemWithName(name);
    if (problem) {
      if (!askFreely) throw new LrError('LR_USAGE', `${problem} Give another --database NAME.`);
      ask.say(problem);
      name = await ask.text({ message: 'Name for the restored database', initial: fallback });
      continue;
    }
    const decided = await decide(ask, a, inspector, name, askFreely, removed);
    if (typeof decided !== 'string') return decided;
    name = decided;
  }
}

/** Either the final choice, or another name to look at. */
async function decide(ask: Ask, a: DatabaseAnswers, inspector: Inspector, name: string, askFreely: boolean, removed: LeftoverAccount[]): Promise<DatabaseChoice | string> {
  const state = await inspector.inspect(name);
  const shown = safeText(name, 64);
  if (!state.exists || (state.tables === 0 && state.interruptedFileId === null)) {
    if (a.resume) ask.say(`There is no interrupted restore in ${shown}: the restore starts from the beginning.`);
    if (!(await inspector.mayCreate(name)) && !state.exists) {
      const msg = `This server account may not create a database named ${shown}.`;
      if (!askFreely) throw new LrError('LR_DB_ACCESS', `${msg} Give another --database NAME, or use an account that can.`);
      ask.say(`${msg} Choose another name.`);
      return ask.text({ message: 'Name for the restored database', initial: name });
    }
    return { name, mode: 'fresh', tablesBefore: state.tables };
  }
  if (state.interruptedFileId === a.header.fileId) {
    if (a.resume) return { name, mode: 'resume', tablesBefore: state.tables };
    if (!askFreely) throw new LrError('LR_TARGET_NOT_EMPTY', `${shown} holds an interrupted restore of this backup. Add --resume to continue it, or give another --database NAME.`);
    ask.say(`${shown} holds an interrupted restore of this same backup: it was stopped before the end.`);
    const left = removed.find((r) => r.databases.includes(name));
    if (left) ask.say(`The temporary account that restore ran under (${safeText(left.account, 80)}, with rights on ${shown}) was still on the server: it has been removed. Continuing makes a new one.`);
    const pick = await ask.choose({
      message: 'What now?',
      choices: [
        { title: 'Continue that restore where it stopped', value: 'resume' },
        { title: 'Restore into another database', value: 'other' },
      ],
    });
    if (pick === 'resume') return { name, mode: 'resume', tablesBefore: state.tables };
    return ask.text({ message: 'Name for the restored database', initial: await nextFreeName(name, inspector) });
  }

  const live = name === a.header.database;
  const what = state.interruptedFileId !== null ? 'holds an interrupted restore of another backup' : `already has ${state.tables} table${state.tables === 1 ? '' : 's'}`;
  const danger = live ? ' It has the same name as the backed-up database: it may be the live one.' : '';
  if (!askFreely) {
    throw new LrError('LR_TARGET_NOT_EMPTY', `${shown} on ${a.where} ${what} and is never overwritten.${danger} Give another --database NAME.`);
  }
  ask.say(`${shown} on ${a.where} ${what}. It will not be overwritten.${danger}`);
  const suggestion = await nextFreeName(name, inspector);
  const pick = await ask.choose({
    message: 'What now?',
    choices: [
      { title: `Restore into a new database named ${suggestion}`, value: 'suggested' },
      { title: 'Type another name', value: 'type' },
      { title: `Replace ${shown}: everything in it now is deleted`, value: 'replace' },
    ],
  });
  if (pick === 'suggested') return suggestion;
  if (pick === 'type') return ask.text({ message: 'Name for the restored database', initial: suggestion });
  const again = await ask.text({ message: `To delete everything in ${shown} and restore into it, type its name again (anything else keeps it)` });
  if (again === name) return { name, mode: 'replace', tablesBefore: state.tables };
  ask.say('That is not the same name, so it is kept: nothing will be deleted.');
  return name;
}
