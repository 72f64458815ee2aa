/**
 * A real pseudo-terminal for driving the wizard as a person would: tmux runs
 * the CLI (built from the current source) in a 160x50 window, keys are sent
 * with send-keys and the screen is read back with capture-pane. Each Terminal
 * runs its own tmux server (-S socket in the temp folder): nothing else on
 * the machine is touched, and close() removes it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI } from '../../helpers/cli.js';

const run = promisify(execFile);

/**
 * The CLI as `npm test` builds it (its pretest step runs the build), the same
 * program every other CLI test runs.
 */
export function cliBundle(): Promise<string> {
  return Promise.resolve(CLI);
}

/** Fails (never skips) with the way to get the tool when it is missing. */
export function requireTool(command: string, pkg = command): void {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${command} is not installed, and this test needs it. Run .ci/run (it installs ${pkg}), or apt-get install -y ${pkg}.`);
  }
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The shell command a person would type, with `lastresort` meaning the CLI built from source. */
export async function lastresortCommand(args: string[]): Promise<string> {
  return [process.execPath, await cliBundle(), ...args].map(shq).join(' ');
}

/**
 * The command on the screen that starts with `start` ("lastresort recover"),
 * with its " \\" continuation lines joined: the single line a person would paste.
 */
export function commandOnScreen(text: string, start: string): string | null {
  const lines = text.split('\n');
  const first = lines.findIndex((l) => l.trimStart().startsWith(start));
  if (first < 0) return null;
  let command = lines[first].trim();
  for (let i = first + 1; command.endsWith(' \\') && i < lines.length; i++) command = `${command.slice(0, -2)} ${lines[i].trim()}`;
  return command;
}

export class Terminal {
  /** Every distinct screen read so far, to check afterwards that no line was ever wider than the window. */
  private readonly seen = new Set<string>();

  private constructor(private readonly socket: string, private readonly session: string, readonly columns: number) {}

  /**
   * Starts `lastresort ARGS` in `cwd`. When it ends the shell prints
   * "[exit N]" and stays, so the last screen can still be read.
   */
  static async start(opts: { cwd: string; args: string[]; env?: Record<string, string>; columns?: number }): Promise<Terminal> {
    const columns = opts.columns ?? 160;
    requireTool('tmux');
    const socket = join(tmpdir(), `lr-recover-tmux-${process.pid}-${randomBytes(3).toString('hex')}`);
    const env = { LASTRESORT_PASSWORD: '', LASTRESORT_DB_PASSWORD: '', ...opts.env };
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    // After the program ends, a late Ctrl-C (a second press that came after a quick clean stop)
    // must not end the session before the test reads the screen: the shell ignores it from then on.
    const script = `${await lastresortCommand(opts.args)}; echo "[exit $?]"; trap '' INT; sleep 600`;
    await run('tmux', ['-S', socket, '-f', '/dev/null', 'new-session', '-d', '-s', 'w', '-x', String(columns), '-y', '50', '-c', opts.cwd, ...envArgs, 'bash', '--noprofile', '--norc', '-c', script]);
    return new Terminal(socket, 'w', columns);
  }

  /** Everything shown so far: the scrollback and the screen, wrapped lines joined. */
  async text(): Promise<string> {
    const { stdout } = await run('tmux', ['-S', this.socket, 'capture-pane', '-p', '-J', '-S', '-', '-t', this.session]);
    this.seen.add(stdout);
    return stdout;
  }

  /** Waits until `pattern` is on the screen (at least `count` times); returns the text. */
  async waitFor(pattern: RegExp | string, opts: { timeoutMs?: number; count?: number } = {}): Promise<string> {
    const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g') : new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g');
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    let text = '';
    while (Date.now() < deadline) {
      text = await this.text();
      if ((text.match(re)?.length ?? 0) >= (opts.count ?? 1)) return text;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`Timed out waiting for ${re} on the terminal. It shows:\n${text}`);
  }

  /** Types text as keys (nothing in it is interpreted as a key name). */
  async type(text: string): Promise<void> {
    await run('tmux', ['-S', this.socket, 'send-keys', '-t', this.session, '-l', text]);
  }

  /** Presses keys by tmux name: Enter, Down, C-c… */
  async press(...keys: string[]): Promise<void> {
    for (const key of keys) {
      await run('tmux', ['-S', this.socket, 'send-keys', '-t', this.session, key]);
      await new Promise((r) => setTimeout(r, 60));
    }
  }

  /** Answers the question showing `prompt` (an active prompt starts with "?") by typing and Enter. */
  async answer(prompt: string, text = '', opts: { timeoutMs?: number } = {}): Promise<void> {
    await this.waitFor(`? ${prompt}`, opts);
    if (text) await this.type(text);
    await this.press('Enter');
    await this.waitFor(`✔ ${prompt}`, opts);
  }

  /** Picks the choice `downs` places below the highlighted one at the question showing `prompt`. */
  async choose(prompt: string, downs: number): Promise<void> {
    await this.waitFor(`? ${prompt}`);
    for (let i = 0; i < downs; i++) await this.press('Down');
    await this.press('Enter');
    await this.waitFor(`✔ ${prompt}`);
  }

  /**
   * Lines of every screen read so far that were wider than the window. With
   * -J, a line the terminal had to wrap comes back joined, so a too-wide
   * line (or the copies a too-wide live line leaves when redrawn) shows here.
   */
  tooWide(): string[] {
    const wide = new Set<string>();
    for (const screen of this.seen) for (const line of screen.split('\n')) if ([...line.trimEnd()].length > this.columns) wide.add(line.trimEnd());
    return [...wide];
  }

  /** Waits for the program to end; returns its exit code and everything it showed. */
  async exit(timeoutMs = 60_000): Promise<{ code: number; text: string }> {
    const text = await this.waitFor(/\[exit (\d+)\]/, { timeoutMs });
    return { code: Number(/\[exit (\d+)\]/.exec(text)![1]), text };
  }

  async close(): Promise<void> {
    await run('tmux', ['-S', this.socket, 'kill-server']).catch(() => {});
    await rm(this.socket, { force: true });
  }
}
