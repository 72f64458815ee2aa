import { identify, type Identity } from '../identify/identify.js';
import { shortDate } from '../keys/choose.js';
import { checkFile } from '../identify/check.js';
import { sizesLine } from '../identify/sizes.js';
import { isLink, locateNamed } from '../open/index.js';
import { readingInterruptibly } from '../cli/interrupt.js';
import { EXIT } from '../errors.js';
import { printJson, say, setResultCode } from '../cli/output.js';
import { humanBytes, humanDate, safeText } from '../text.js';
import { readPasswordFile } from '../cli/password.js';
import { cutShortText, damagedPartsText, momentText, WHOLE_TEXT } from '../report/words.js';
import { unlockLocated } from '../cli/password.js';
import { collationsUsed, type CollationsUsed } from '../identify/collations.js';

export async function identifyCommand(file: string, o: { json?: boolean; passwordFile?: string; recoveryCodeFile?: string }): Promise<void> {
  // s3://bucket/key or a link from `vendor share`, as well as a path.
  const id = isLink(file) ? await (await import('../offsite/remote-identify.js')).identifyRemote((await import('../offsite/remote.js')).remoteSource(file.trim())) : await identify(file);
  const secret = o.passwordFile || o.recoveryCodeFile;
  const used = secret ? await readingInterruptibly(file, async (signal) => collationsUsed(await unlockLocated(await locateNamed(file, signal), o))) : undefined;
  if (o.json) {
    printJson(used === undefined ? id : { ...id, collations: used });
    return;
  }
  for (const line of whoOpensLines(id)) say(line);
  say(`Database: ${safeText(id.database, 80)}, backed up ${humanDate(id.createdAt)} from server ${safeText(id.serverVersion, 60)}.`);
  for (const line of collationLines(used)) say(line);
  const kdf = id.kdf ? `, key derivation argon2id (${id.kdf.memoryKiB / 1024} MiB, ${id.kdf.iterations} passes)` : '';
  say(`File: ${humanBytes(id.fileBytes)}, format version ${id.formatVersion}, ${id.cipher}${kdf}, signed by producer key ${safeText(id.signedBy, 40)}.`);
  if (id.sizes) say(sizesLine(id.sizes));
  else say(`Size: the uncompressed size is not counted for a file in the store (it is in the chunk heads: fetch the file, or run check on it).`);
  const moment = momentText(id.moment, (s) => safeText(s, 300));
  if (moment) say(moment);
  if (id.headerCopyUsed) say('Note: the first copy of the header is damaged; the copy at the end of the file was used.');
}

/** A backup in the store is read in place, streamed, like a restore reads it. */
export async function checkCommand(file: string, o: { json?: boolean; passwordFile?: string }): Promise<void> {
  const { r, moment } = await readingInterruptibly(file, async (signal) => {
    const located = await locateNamed(file, signal);
    const password = o.passwordFile ? await readPasswordFile(o.passwordFile) : undefined;
    return { r: await checkFile(located.source, { located, password }), moment: located.header.moment ?? null };
  });
  if (o.json) printJson({ intact: r.intact, complete: r.complete, chunks: r.chunks, damagedChunks: r.damagedChunks, truncated: r.truncated, damagedRanges: r.damagedRanges, headerCopyUsed: r.headerCopyUsed, firstHeaderIntact: r.firstHeaderIntact, strayBytes: r.strayBytes, fileBytes: r.fileBytes, ...(r.sizes ? { sizes: r.sizes } : {}), moment, ...(r.places ? { places: r.places } : {}) });
  else if (r.intact) say(`The backup is whole: ${WHOLE_TEXT(r.chunks)}, and so do both header copies.`);
  else {
    const parts: string[] = [];
    if (r.truncated) parts.push(cutShortText(r.chunks));
    if (r.damagedChunks > 0) parts.push(damagedPartsText(r.damagedChunks, r.chunks, r.damagedRanges));
    if (!r.firstHeaderIntact) parts.push('the first header copy is damaged');
    else if (!r.truncated && r.damagedChunks === 0) parts.push('the header copy at the end is damaged');
    say(`The backup is damaged: ${parts.join('; ')}. A restore will recover what is intact and list what is lost.`);
    for (const p of r.places ?? []) {
      const where = p.to === null ? `parts [${p.from}] to the end` : p.from === p.to ? `part [${p.from}]` : `parts [${p.from}-${p.to}]`;
      const what = [...p.tables.map((t) => safeText(t, 80)), ...p.other.map((x) => `the ${x}`)];
      say(`  ${where}: ${what.length ? what.join(', ') : 'no table data'}`);
    }
  }
  if (!o.json && r.sizes) say(sizesLine(r.sizes));
  const momentLine = momentText(moment, (s) => safeText(s, 300));
  if (momentLine && !o.json) say(momentLine);
  if (!r.intact) setResultCode(EXIT.damaged);
}

/** The collations the tables use and the servers that know them; without the password, how to see them. */
export function collationLines(used: CollationsUsed | null | undefined): string[] {
  if (used === undefined) return ['The collations its tables use are in the encrypted part: add --password-file to list them (what the new server must know).'];
  if (used === null) return ['The collations its tables use cannot be listed: the list of its tables is damaged.'];
  const each = used.collations.map((c) => {
    const where = c.tables === 0 ? 'the database default' : c.tables === 1 ? '1 table' : `${c.tables} tables`;
    return `${safeText(c.name, 64)} (${where}${c.knownBy ? `; known by ${c.knownBy}` : ''})`;
  });
  const lines = [`Collations its tables use: ${each.join(', ')}. Character sets: ${used.charsets.map((cs) => safeText(cs, 32)).join(', ')}.`];
  if (used.collations.some((c) => c.knownBy)) lines.push('A server that does not know one still takes the restore: each is mapped to the nearest it has and listed in the restore report.');
  return lines;
}

/** Every recipient, in words; the admin's line says which password when it has changed since. */
export function whoOpensLines(id: Identity): string[] {
  const lines: string[] = [];
  for (const r of id.recipients) {
    if (r.kind === 'recovery') {
      lines.push(`It also opens with the practice recovery code made ${shortDate(r.createdAt)} (fingerprint ${safeText(r.fingerprint, 40)}).`);
      continue;
    }
    const who = safeText(r.userName, 80);
    const last = id.admin && id.admin.userNum === r.userNum ? `, who last logged on ${humanDate(id.admin.lastLoginAt)}` : '';
    if (r.passwordChangedSince) lines.push(`This backup opens with ${who}'s Open Dental password as it was on ${shortDate(r.enrolledAt)}, when ${who} set up the backup key (${who} has changed it since; user #${r.userNum}${last}).`);
    else lines.push(`This backup opens only with the password of Open Dental admin "${who}" (user #${r.userNum})${last}; the backup key was set up ${shortDate(r.enrolledAt)}.`);
  }
  if (!id.admin) lines.unshift('No admin had set up a backup key when this backup was made: it opens only with the practice recovery code.');
  const last = id.lastToLogOn;
  if (last && id.admin && last.userNum !== id.admin.userNum) lines.push(`${safeText(last.userName, 80)} was the last admin to log on, but had no usable backup key, so this backup was made for ${safeText(id.admin.userName, 80)}.`);
  return lines;
}
