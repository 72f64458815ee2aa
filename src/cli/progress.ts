/**
 * Progress for long work, on stderr: a redrawn bar on a terminal, a plain
 * line every few seconds otherwise (logs, CI), nothing at all with --json
 * unless stderr is a terminal.
 */
import { humanBytes, neutralise } from './output.js';

export interface ProgressLine {
  done: number;
  total: number;
  label: string;
  /** What done/total count: bytes get a rate and an ETA from it; items only an ETA. */
  unit?: 'bytes' | 'items';
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
    const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
    const elapsed = (now - this.started) / 1000;
    const rate = elapsed > 0 ? p.done / elapsed : 0;
    const eta = rate > 0 && fraction < 1 ? Math.round((p.total - p.done) / rate) : null;
    const etaText = eta === null ? '' : ` · about ${eta >= 90 ? `${Math.round(eta / 60)} min` : `${eta} s`} left`;
    const label = neutralise(p.label); // a table name from the backup
    const rateText = rate > 0 && (p.unit ?? 'bytes') === 'bytes' ? ` · ${humanBytes(rate)}/s` : '';
    if (this.tty) {
      const width = 24;
      const filled = Math.round(fraction * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      const line = `${bar} ${(fraction * 100).toFixed(0).padStart(3)}% ${label}${rateText}${etaText}`;
      const cols = this.stream.columns ?? 100;
      this.stream.write(`\r\x1b[2K${line.slice(0, cols - 1)}`);
      this.drawn = true;
    } else {
      this.stream.write(`${(fraction * 100).toFixed(0)}% ${label}${rateText}${etaText}\n`);
    }
  }

  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}
