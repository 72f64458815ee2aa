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

export const WHOLE_TEXT = (total: number) => `all ${total.toLocaleString('en-US')} of its parts check out`;
