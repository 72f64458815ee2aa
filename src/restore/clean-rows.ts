/**
 * From an entry body with holes to whole rows only. State: `carry` (the start
 * of a row not yet ended) and `skipping` (after a hole, until the next raw LF,
 * which always ends a row in this encoding). A row touching a hole is
 * dropped; every row passed on lies wholly in authenticated bytes.
 *
 * The loss tracker learns the last good row before each damaged stretch and
 * the first good row after it, so the report can name the primary-key range
 * that was lost.
 */
import type { BodyPiece } from '../archive/tar-reader.js';
import { decodeRow } from '../archive/tsv.js';

export interface LostRange {
  /** Primary-key columns the range is in. */
  columns: string[];
  /** Key of the last row restored before the damage (null: the table's start). */
  after: string[] | null;
  /** Key of the first row restored after it (null: the table's end). */
  before: string[] | null;
}

export interface TrackerMark {
  lastRow: Buffer | null;
  open: boolean;
  ranges: number;
}

export class LossTracker {
  readonly ranges: LostRange[] = [];
  private lastRow: Buffer | null = null;
  private open = false;

  constructor(private readonly keyColumns: string[], private readonly keyPositions: number[]) {}

  private key(row: Buffer | null): string[] | null {
    if (!row || this.keyPositions.length === 0) return null;
    const values = decodeRow(keyPrefix([row], Math.max(...this.keyPositions) + 1));
    return this.keyPositions.map((p) => (values[p] === null || values[p] === undefined ? 'NULL' : values[p]!.toString('utf8')));
  }

  /** Something was lost here: between the last row seen and the next. */
  damage(): void {
    if (this.open) return;
    this.open = true;
    this.ranges.push({ columns: this.keyColumns, after: this.key(this.lastRow), before: null });
  }

  /** Where the tracker stands before a piece is loaded (see failed()). */
  mark(): TrackerMark {
    return { lastRow: this.lastRow, open: this.open, ranges: this.ranges.length };
  }

  /**
   * The server refused the piece loaded since `m`: the rows it passed are not
   * in the table, so the lost range starts after the last row before it.
   */
  failed(m: TrackerMark): void {
    this.ranges.length = m.ranges;
    if (m.open) this.ranges[m.ranges - 1].before = null;
    this.lastRow = m.lastRow;
    this.open = m.open;
    this.damage();
  }

  /** `rows` holds whole rows ending in LF; only its first and last row are looked at. */
  passed(rows: Buffer): void {
    if (rows.length === 0) return;
    if (this.open) {
      const lf = rows.indexOf(0x0a);
      this.ranges[this.ranges.length - 1].before = this.key(rows.subarray(0, lf));
      this.open = false;
    }
    const end = rows.length - 1;
    const start = rows.lastIndexOf(0x0a, end - 1) + 1;
    this.passedRow([rows.subarray(start, end)]);
  }

  /** One row in parts (without its LF). */
  passedRow(parts: Buffer[]): void {
    // Only the fields up to the last key column are kept: a row of tens of MB (an image) is not copied.
    const kept = this.keyPositions.length === 0 ? Buffer.alloc(0) : keyPrefix(parts, Math.max(...this.keyPositions) + 1);
    if (this.open) {
      this.ranges[this.ranges.length - 1].before = this.key(kept);
      this.open = false;
    }
    this.lastRow = kept;
  }
}

/** A copy of a row's bytes (given in parts) up to the end of its first `fields` fields; a raw TAB only ever separates fields. */
function keyPrefix(parts: Buffer[], fields: number): Buffer {
  const out: Buffer[] = [];
  let tabs = 0;
  for (const part of parts) {
    let at = 0;
    for (;;) {
      const tab = part.indexOf(0x09, at);
      if (tab < 0) break;
      if (++tabs === fields) {
        out.push(part.subarray(0, tab));
        return Buffer.concat(out);
      }
      at = tab + 1;
    }
    out.push(part);
  }
  return Buffer.concat(out);
}

export async function* cleanRows(body: AsyncIterable<BodyPiece>, tracker: LossTracker, counts: { droppedBytes: number }): AsyncGenerator<Buffer> {
  let carry: Buffer[] = [];
  let skipping = false;
  for await (const p of body) {
    if (p.hole !== undefined) {
      counts.droppedBytes += carry.reduce((n, b) => n + b.length, 0) + p.hole;
      carry = [];
      skipping = true;
      tracker.damage();
      continue;
    }
    let data = p.data;
    if (skipping) {
      const lf = data.indexOf(0x0a);
      if (lf < 0) {
        counts.droppedBytes += data.length;
        continue;
      }
      counts.droppedBytes += lf + 1;
      data = data.subarray(lf + 1);
      skipping = false;
    }
    const lastLf = data.lastIndexOf(0x0a);
    if (lastLf < 0) {
      carry.push(data);
      continue;
    }
    // The row that straddles the previous piece goes on in its parts, once its LF has come: nothing is copied.
    let from = 0;
    if (carry.length > 0) {
      const firstLf = data.indexOf(0x0a);
      tracker.passedRow([...carry, data.subarray(0, firstLf)]);
      yield* carry;
      yield data.subarray(0, firstLf + 1);
      from = firstLf + 1;
    }
    carry = lastLf + 1 < data.length ? [data.subarray(lastLf + 1)] : [];
    if (from <= lastLf) {
      const rows = data.subarray(from, lastLf + 1);
      tracker.passed(rows);
      yield rows;
    }
  }
  // A row without its LF was cut short (truncation): it is not loaded.
  if (carry.length > 0) {
    counts.droppedBytes += carry.reduce((n, b) => n + b.length, 0);
    tracker.damage();
  }
}
