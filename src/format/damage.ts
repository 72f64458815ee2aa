/**
 * What reading a damaged file found: the counts every reader fills in
 * (the in-order walker and the random-access reader) and reports show.
 */
export interface DamageReport {
  /** Chunks the file should have (known once the payload's end is found; else the chunks read up to the cut). */
  chunks: number;
  damagedChunks: number;
  /** Inclusive ranges of chunk indexes that were missing or failed authentication. */
  damagedRanges: [number, number][];
  bytesLost: number;
  truncated: boolean;
  headerCopyUsed: boolean;
  /** File bytes before the final frame that belonged to no frame (inserted or left over from damage). */
  strayBytes: number;
  /** Frames dropped unread: already used or given up, a duplicate, or beyond the final chunk. */
  misplacedChunks: number;
}

export function newDamageReport(headerCopyUsed: boolean): DamageReport {
  return { chunks: 0, damagedChunks: 0, damagedRanges: [], bytesLost: 0, truncated: false, headerCopyUsed, strayBytes: 0, misplacedChunks: 0 };
}

/**
 * Records chunks from..to as lost. Readers in order only ever extend the last
 * range; the random-access reader's lanes may report chunks out of order or
 * twice (a chunk shared by two spans), so any other range is merged in place
 * and a chunk is counted once.
 */
export function markDamaged(d: DamageReport, from: number, to: number): void {
  const ranges = d.damagedRanges;
  const last = ranges[ranges.length - 1];
  if (!last || last[1] < from) {
    if (last && last[1] + 1 === from) last[1] = to;
    else ranges.push([from, to]);
    d.damagedChunks += to - from + 1;
    return;
  }
  let added = to - from + 1;
  let lo = from;
  let hi = to;
  const kept: [number, number][] = [];
  for (const r of ranges) {
    if (r[1] + 1 < from || r[0] > to + 1) {
      kept.push(r);
      continue;
    }
    added -= Math.max(0, Math.min(r[1], to) - Math.max(r[0], from) + 1);
    lo = Math.min(lo, r[0]);
    hi = Math.max(hi, r[1]);
  }
  kept.push([lo, hi]);
  kept.sort((a, b) => a[0] - b[0]);
  ranges.splice(0, ranges.length, ...kept);
  d.damagedChunks += added;
}
