/**
 * The words every screen and report uses for the file's damage, so that
 * `check`, `identify`, the wizard and the three report formats agree: the
 * file is made of "parts"; support also gets each part's number (the chunk
 * index) in brackets.
 */

/** "[3]", "[3, 7-9]": part (chunk) numbers for support. */
export function partNumbers(ranges: [number, number][]): string {
  return `[${ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ')}]`;
}

const parts = (n: number) => `${n.toLocaleString('en-US')} ${n === 1 ? 'part' : 'parts'}`;

/** "2 of its 45 parts cannot be read [3, 7]". */
export function damagedPartsText(damaged: number, total: number, ranges: [number, number][]): string {
  return `${damaged.toLocaleString('en-US')} of its ${parts(total)} cannot be read ${partNumbers(ranges)}`;
}

/** "it is cut short: it ends after part [27] and the rest is missing". */
export function cutShortText(partsRead: number): string {
  return partsRead > 0 ? `it is cut short: it ends after part [${partsRead - 1}] and the rest is missing` : 'it is cut short before its first part';
}

/**
 * Whether the backup is one moment of the database, in plain words; null for
 * a file made before this was recorded. `why` comes from the file: shown as text only.
 */
export function momentText(m: { oneMoment: boolean; notOneMoment: string | null; writesHeldMs: number; tablesHeld: number } | undefined | null, clean: (s: string) => string): string | null {
  if (!m) return null;
  if (!m.oneMoment) return `Not one moment: ${clean(m.notOneMoment ?? 'no reason recorded')}. Tables may not agree with each other (a payment without its split, say); check the newest rows in Open Dental.`;
  if (m.tablesHeld === 0) return 'One moment: every table is as it was at the same instant.';
  return `One moment: every table is as it was at the same instant; the office's writes to ${m.tablesHeld} MyISAM/Aria tables waited at most ${(m.writesHeldMs / 1000).toFixed(1)} s for it.`;
}

export const WHOLE_TEXT = (total: number) => `all ${total.toLocaleString('en-US')} of its parts check out`;
