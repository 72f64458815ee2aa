/**
 * Progress for long work, on stderr: a redrawn bar on a terminal, a plain
 * line every few seconds otherwise (logs, CI), nothing at all with --json
 * unless stderr is a terminal.
 *
 * A live line (redrawn with \r) must never be wider than the terminal: a
 * wider one wraps, \r only returns to its last row, and every redraw leaves
 * a copy on the screen. So the time left comes first and the rest is cut.
 */
import { humanBytes, neutralise } from '../text.js';

export interface ProgressLine {
  done: number;
  total: number;
  label: string;
  /** What done/total count: bytes get a rate and an ETA from it; items only an ETA. */
  unit?: 'bytes' | 'items';
}

/**
 * Characters a live line may use: three less than the terminal, so the
 * cursor never wraps, not even when the terminal echoes "^C" after it.
 */
export function liveWidth(stream: { columns?: number }): number {
  return Math.max(20, (stream.columns ?? 100) - 3);
}

/** "/home/…/backups/file.lrb": long paths keep their start and their end. */
export function shortenMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const keep = Math.max(2, max - 1);
  const tail = Math.ceil(keep * 0.6);
  return `${text.slice(0, keep - tail)}…${text.slice(text.length - tail)}`;
}

/** Cuts a live line to `width` characters, marking the cut. */
export function fitLine(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** A word too long for any line (a path) is broken after its slashes; anything else stays whole. */
function splitPath(word: string, width: number): string[] {
  if (word.length <= width || !word.includes('/')) return [word];
  const pieces: string[] = [];
  let piece = '';
  for (const part of word.split(/(?<=\/)/)) {
    if (piece && piece.length + part.length > width) {
      pieces.push(piece);
      piece = '';
    }
    piece += part;
  }
  return [...pieces, piece];
}

/**
 * Breaks a line at spaces so that no piece is wider than `width`; pieces
 * after the first keep the line's indentation (and a "- " bullet's hanging
 * indent). A word longer than the width (a path) is left whole, never split.
 */
export function wrapText(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  // Continuation lines hang under the text: after a "- " bullet, or after a "  Label:   " column.
  const lead = /^\s+[A-Z][\w ]{0,15}: +(?=\S)/.exec(text)?.[0] ?? /^\s*(?:- )?/.exec(text)![0];
  const indent = ' '.repeat(lead.length);
  // Pieces of a broken path are glued to the piece before them when they share a line.
  const tokens = text.trimStart().split(' ').flatMap((w) => splitPath(w, width - indent.length).map((piece, i) => ({ piece, glued: i > 0 })));
  const lines: string[] = [];
  let line = text.slice(0, text.length - text.trimStart().length);
  for (const { piece, glued } of tokens) {
    const empty = line.trim() === '';
    const sep = empty || glued ? '' : ' ';
    if (!empty && line.length + sep.length + piece.length > width) {
      lines.push(line);
      line = indent + piece;
    } else line += sep + piece;
  }
  lines.push(line);
  return lines;
}

/** Shell words, quotes kept: `'a b'` and `'it'\''s'` stay one word. */
const SHELL_WORD = /(?:'[^']*'|\\.|[^\s'\\])+/g;

/**
 * A command to copy, broken between words with " \" so that the pieces,
 * pasted together into a shell, are still the same command.
 */
export function wrapCommand(text: string, width: number): string[] {
  if (text.length <= width) return [text];
  const indent = /^\s*/.exec(text)![0];
  const words = text.trim().match(SHELL_WORD) ?? [];
  const lines: string[] = [];
  let line = indent;
  for (const word of words) {
    if (line.trim() !== '' && line.length + 1 + word.length + 2 > width) {
      lines.push(`${line} \\`);
      line = `${indent}    ${word}`;
    } else line = line.trim() === '' ? line + word : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}

function timeLeft(seconds: number): string {
  return `about ${seconds >= 90 ? `${Math.round(seconds / 60)} min` : `${seconds} s`} left`;
}

export class Progress {
  private readonly tty: boolean;
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;

  constructor(private readonly enabled = true, private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.tty = !!stream.isTTY;
  }

  update(p: ProgressLine): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < (this.tty ? 100 : 5000)) return;
    this.lastDraw = now;
    // The work is not over when the last byte is read (tables still load and index): 100% is for done().
    const fraction = p.total > 0 ? Math.min(0.99, p.done / p.total) : 0;
    const elapsed = (now - this.started) / 1000;
    const rate = elapsed > 0 ? p.done / elapsed : 0;
    const eta = rate > 0 && p.done < p.total ? Math.round((p.total - p.done) / rate) : null;
    const parts = [`${Math.floor(fraction * 100).toString().padStart(2)}%`];
    if (eta !== null) parts.push(timeLeft(eta));
    parts.push(neutralise(p.label)); // a table name from the backup
    if (rate > 0 && (p.unit ?? 'bytes') === 'bytes') parts.push(`${humanBytes(rate)}/s`);
    if (this.tty) {
      const width = 20;
      const filled = Math.round(fraction * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      this.stream.write(`\r\x1b[2K${fitLine(`${bar} ${parts.join(' · ')}`, liveWidth(this.stream))}`);
      this.drawn = true;
    } else {
      this.stream.write(`${parts.join(' · ').trimStart()}\n`);
    }
  }

  /** Clears the live line; safe to call more than once. */
  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}
