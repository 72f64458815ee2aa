/**
 * An `Ask` that answers from a script, the way a person would at each
 * question, and keeps a transcript of everything said and asked. Running out
 * of answers, or answering a choice that was not offered, fails the test.
 */
import { cancelled, type Ask, type ProgressBar } from '../../../src/recover/ask.js';

/** Ctrl-C at that question. */
export const CTRL_C = Symbol('Ctrl-C');
export type Answer = string | boolean | typeof CTRL_C;

export interface ScriptedAsk extends Ask {
  /** Lines said and questions asked, in order ("? question" for questions). */
  transcript: string[];
  /** The choices offered at each choose(), in order (values). */
  offered: string[][];
  progressUpdates: number;
  remaining(): number;
}

export function scriptedAsk(answers: Answer[], opts: { interactive?: boolean } = {}): ScriptedAsk {
  const queue = [...answers];
  const transcript: string[] = [];
  const offered: string[][] = [];
  const next = (message: string): Exclude<Answer, typeof CTRL_C> => {
    transcript.push(`? ${message}`);
    if (queue.length === 0) throw new Error(`scripted answers ran out at: ${message}`);
    const a = queue.shift()!;
    if (a === CTRL_C) throw cancelled();
    return a;
  };
  const ask: ScriptedAsk = {
    interactive: opts.interactive ?? true,
    transcript,
    offered,
    progressUpdates: 0,
    remaining: () => queue.length,
    async text(q) {
      const a = next(q.message);
      if (typeof a !== 'string') throw new Error(`expected text at "${q.message}", script has ${String(a)}`);
      return a.trim() === '' ? (q.initial ?? '') : a.trim();
    },
    async secret(q) {
      const a = next(q.message);
      if (typeof a !== 'string') throw new Error(`expected a password at "${q.message}"`);
      return a;
    },
    async choose(q) {
      offered.push(q.choices.map((c) => c.value));
      const a = next(q.message);
      const choice = q.choices.find((c) => c.value === a);
      if (!choice) throw new Error(`"${String(a)}" is not offered at "${q.message}": ${q.choices.map((c) => c.value).join(', ')}`);
      transcript.push(`  > ${choice.title}`);
      return choice.value;
    },
    async confirm(q) {
      const a = next(q.message);
      if (typeof a !== 'boolean') throw new Error(`expected yes/no at "${q.message}"`);
      return a;
    },
    say(line = '') {
      transcript.push(line);
    },
    progress(): ProgressBar {
      return { update: () => void ask.progressUpdates++, done: () => {} };
    },
    working(message) {
      transcript.push(`… ${message}`);
      return () => {};
    },
  };
  return ask;
}

export const said = (ask: ScriptedAsk) => ask.transcript.join('\n');
