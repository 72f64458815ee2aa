/**
 * Everything the wizard says and asks goes through `Ask`, so each step can be
 * driven by a script of answers in tests and by the `prompts` library on a
 * terminal. A person who presses Ctrl-C or Escape at a question cancels the
 * wizard: every implementation throws LR_INTERRUPTED for that.
 */
import prompts from 'prompts';
import { LrError } from '../errors.js';
import { Progress, fitLine, liveWidth, shortenMiddle, wrapCommand, wrapText, type ProgressLine } from '../cli/progress.js';
import { neutralise } from '../text.js';

export interface Choice<T extends string> {
  title: string;
  value: T;
  description?: string;
}

export interface Ask {
  /** False when there is no terminal: questions without an answer from flags become usage errors. */
  readonly interactive: boolean;
  /** Aborted on Ctrl-C: what waits on the network (a link's reads) ends with it. */
  readonly signal?: AbortSignal;
  /** `shownAs`: what stays on the screen for an answer that must not (a link's signature), or null to leave it. */
  text(q: { message: string; initial?: string; flag?: string; shownAs?: (answer: string) => string | null }): Promise<string>;
  /** Masked input; an empty answer is allowed (a server may have no password). */
  secret(q: { message: string; flag?: string }): Promise<string>;
  choose<T extends string>(q: { message: string; choices: Choice<T>[]; initial?: number; flag?: string }): Promise<T>;
  confirm(q: { message: string; initial?: boolean; flag?: string }): Promise<boolean>;
  /** A line for the person (stderr on a terminal, so stdout stays for --json). */
  say(line?: string): void;
  /** A progress bar for long work, counting bytes (with rate and time left) or items; `done()` clears it. */
  progress(unit?: 'bytes' | 'items'): ProgressBar;
  /** A "working…" indicator for work without measurable progress (the key derivation). */
  working(message: string): () => void;
}

export function cancelled(): LrError {
  return new LrError('LR_INTERRUPTED', 'Stopped: nothing was restored and nothing on the server was changed.');
}

export interface ProgressBar {
  update(p: ProgressLine): void;
  done(): void;
}

/**
 * The one live line (a bar or a spinner) on a terminal: drawn to fit the
 * width, and cleared before any other text is written, so a message never
 * lands in the middle of a bar.
 */
interface LiveLine {
  draw(text: string): void;
  clear(): void;
}

function liveLine(out: NodeJS.WriteStream): LiveLine {
  let drawn = false;
  return {
    draw(text) {
      out.write(`\r\x1b[2K${fitLine(text, liveWidth(out))}`);
      drawn = true;
    },
    clear() {
      if (drawn) out.write('\r\x1b[2K');
      drawn = false;
    },
  };
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Shared output half of the terminal and no-terminal implementations. */
function output(out: NodeJS.WriteStream, showProgress: boolean): Pick<Ask, 'say' | 'progress' | 'working'> {
  const live = liveLine(out);
  let bar: Progress | null = null;
  return {
    say: (raw = '') => {
      const line = neutralise(raw);
      live.clear();
      bar?.done(); // it draws itself again on its next update
      // A terminal breaks long lines inside words: break them at spaces instead (commands so they still paste).
      const lines = !out.isTTY ? [line] : /^\s+(lastresort|mariadb|mariadb-dump|mysql|mysqldump) /.test(line) ? wrapCommand(line, liveWidth(out)) : wrapText(line, liveWidth(out));
      out.write(lines.join('\n') + '\n');
    },
    progress: (unit = 'bytes') => {
      const progress = new Progress(showProgress, out);
      bar = progress;
      return { update: (p) => progress.update({ ...p, unit }), done: () => progress.done() };
    },
    working: (text) => {
      const message = neutralise(text);
      if (!out.isTTY) {
        out.write(message + '\n');
        return () => {};
      }
      let frame = 0;
      const draw = () => live.draw(`${SPINNER[frame++ % SPINNER.length]} ${message}`);
      draw();
      const timer = setInterval(draw, 100);
      return () => {
        clearInterval(timer);
        live.clear();
      };
    },
  };
}

/** The real conversation: `prompts` on stdin, everything written to stderr. */
export function terminalAsk(out: NodeJS.WriteStream = process.stderr): Ask {
  const one = async <T>(question: Omit<prompts.PromptObject, 'name'>): Promise<T> => {
    let aborted = false;
    const answers = await prompts({ ...question, name: 'value', stdout: out }, { onCancel: () => { aborted = true; return false; } });
    if (aborted || !('value' in answers)) throw cancelled();
    return answers.value as T;
  };
  return {
    interactive: true,
    ...output(out, true),
    text: async (q) => {
      const answer = String(await one<string>({ type: 'text', message: q.message, initial: q.initial })).trim() || (q.initial ?? '');
      const shown = q.shownAs?.(answer);
      if (shown != null) replaceAnswerLine(out, q.message, answer, shown);
      return answer;
    },
    // 'invisible', not 'password': a row of stars would show the password's length.
    secret: (q) => one<string>({ type: 'invisible', message: `${q.message} (nothing shows as you type)` }),
    choose: (q) => one({ type: 'select', message: q.message, choices: q.choices, initial: q.initial ?? 0, hint: '↑/↓ then Enter' }),
    confirm: (q) => one<boolean>({ type: 'confirm', message: q.message, initial: q.initial ?? true }),
  };
}

/**
 * The answered question stays on the screen as "✔ message … answer": for an
 * answer that must not stay (a link with its signature), that line (as many
 * rows as the terminal wrapped it into) is cleared and written again with
 * `shown` in its place.
 */
function replaceAnswerLine(out: NodeJS.WriteStream, message: string, answer: string, shown: string): void {
  if (!out.isTTY) return;
  const columns = out.columns || 80;
  const rows = Math.max(1, Math.ceil([...`✔ ${message} … ${answer}`].length / columns));
  const head = `✔ ${message} … `;
  out.write(`\x1b[${rows}A\r\x1b[J${head}${shortenMiddle(shown, Math.max(10, columns - 1 - head.length))}\n`);
}

/**
 * No terminal (a script, a service): nothing can be asked, so every question
 * that reaches here names the flag that answers it.
 */
export function scriptAsk(out: NodeJS.WriteStream = process.stderr, opts: { quiet?: boolean } = {}): Ask {
  const refuse = (what: string, flag?: string): never => {
    throw new LrError('LR_USAGE', `${what} is needed and there is no terminal to ask in${flag ? `: give ${flag}` : ''}.`);
  };
  const base = output(out, !opts.quiet);
  return {
    interactive: false,
    ...base,
    say: opts.quiet ? () => {} : base.say,
    working: opts.quiet ? () => () => {} : base.working,
    text: async (q) => refuse(q.message.replace(/[?:]\s*$/, ''), q.flag),
    secret: async (q) => refuse(q.message.replace(/[?:]\s*$/, ''), q.flag),
    choose: async (q) => refuse(q.message.replace(/[?:]\s*$/, ''), q.flag),
    confirm: async (q) => refuse('A confirmation', q.flag ?? '--yes'),
  };
}
