/**
 * `identify` of a backup in the store: one ranged read of the file's start,
 * which holds the magic line and the first header copy (a second read only
 * for an unusually long header). A damaged first copy needs the copy at the
 * end: that is left to a fetched file.
 */
import { LrError } from '../errors.js';
import { probeHeaderFrame } from '../format/header.js';
import { FORMAT_VERSIONS, LIMITS, MAGIC_LINE, MAGIC_MAX, MAGIC_PREFIX } from '../format/limits.js';
import { identityOf, type Identity } from '../identify/identify.js';
import { describeSource, readRange, type RemoteSource } from './remote.js';

/** Enough for the magic line and a typical header; larger headers take one more read. */
export const FIRST_READ_BYTES = 8 * 1024;

export async function identifyRemote(src: RemoteSource): Promise<Identity> {
  const first = await readRange(src, 0, FIRST_READ_BYTES - 1);
  const text = first.data.subarray(0, MAGIC_MAX).toString('latin1');
  const m = /^lastresort-backup v(\d{1,6})\n/.exec(text);
  // Every version this reader opens has a magic line of the same length (one digit).
  if (!(m && FORMAT_VERSIONS.includes(Number(m[1])) && m[0].length === MAGIC_LINE.length)) {
    if (m) throw new LrError('LR_UNSUPPORTED_VERSION', `This backup uses format version ${m[1]}, which this version of lastresort cannot read. Install a newer lastresort.`);
    if (!text.startsWith(MAGIC_PREFIX.slice(0, 8))) throw new LrError('LR_NOT_BACKUP', `${describeSource(src)} is not a lastresort backup (.lrb). Check the address.`);
  }
  let start = first.data.subarray(MAGIC_LINE.length);
  let probe = probeHeaderFrame(start);
  if (probe.kind === 'need' && probe.bytes <= 8 + LIMITS.headerJsonMax + 36 && first.total > FIRST_READ_BYTES) {
    start = (await readRange(src, MAGIC_LINE.length, MAGIC_LINE.length + probe.bytes - 1)).data;
    probe = probeHeaderFrame(start);
  }
  if (probe.kind !== 'ok') {
    throw new LrError('LR_HEADER_DAMAGED', `The first header copy of ${describeSource(src)} is damaged or cut short; fetch the whole file (lastresort vendor fetch) and run identify on it to use the copy at its end.`);
  }
  return identityOf(probe.frame.header, first.total, false);
}
