/**
 * The one way in to a backup the person named: a path on this machine, or a
 * backup in the store (s3://bucket/key, or a link from `vendor share`) read
 * in place, nothing saved on disk. Every command that reads a backup opens
 * it here with the signal its Ctrl-C aborts, so every store read (a pending
 * GET, a pause before resuming) ends at once.
 */
import { locateHeader, type LocatedHeader } from '../format/reader.js';
import { localSource, type ByteSource } from '../format/source.js';

/** s3://bucket/key or an http(s) link, given or pasted instead of a path. */
export function isLink(text: string): boolean {
  return /^(s3|https?):\/\//i.test(text.trim());
}

/**
 * A link as it may be shown: where it points, never its signature (whoever
 * reads the screen or a log could use it until it expires).
 */
export function maskLink(text: string): string {
  const t = text.trim();
  const q = t.indexOf('?');
  return q < 0 ? t : `${t.slice(0, q)}?…`;
}

/** The bytes of what `file` names; `signal` ends every later read of a link too. */
export async function openNamed(file: string, signal?: AbortSignal): Promise<ByteSource> {
  if (!isLink(file)) return localSource(file);
  // Loaded only for a link: a local file needs none of the store's SDK.
  const { remoteSource } = await import('../offsite/remote.js');
  const { openRemote } = await import('../offsite/remote-source.js');
  return openRemote(remoteSource(file.trim()), signal);
}

/** What `file` names, opened once and its header read (no password needed). */
export async function locateNamed(file: string, signal?: AbortSignal): Promise<LocatedHeader> {
  return locateHeader(await openNamed(file, signal));
}
