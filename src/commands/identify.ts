import { identify } from '../identify/identify.js';
import { checkFile } from '../identify/check.js';
import { locateHeader } from '../format/reader.js';
import { EXIT } from '../errors.js';
import { humanBytes, humanDate, printJson, safeText, say, setResultCode } from '../cli/output.js';
import { readPasswordFile } from '../cli/password.js';

/** s3://bucket/key or a link from `vendor share`, as well as a path. */
const isRemote = (file: string) => /^(s3|https?):\/\//i.test(file);

export async function identifyCommand(file: string, o: { json?: boolean }): Promise<void> {
  const id = isRemote(file) ? await (await import('../offsite/remote-identify.js')).identifyRemote((await import('../offsite/remote.js')).remoteSource(file)) : await identify(file);
  if (o.json) {
    printJson(id);
    return;
  }
  const who = safeText(id.admin.userName, 80);
  say(`This backup opens only with the password of Open Dental admin "${who}" (user #${id.admin.userNum}), who last logged on ${humanDate(id.admin.lastLoginAt)}.`);
  say(`Database: ${safeText(id.database, 80)}, backed up ${humanDate(id.createdAt)} from server ${safeText(id.serverVersion, 60)}.`);
  say(`File: ${humanBytes(id.fileBytes)}, format version ${id.formatVersion}, ${id.cipher}, key derivation argon2id (${id.kdf.memoryKiB / 1024} MiB, ${id.kdf.iterations} passes).`);
  if (id.headerCopyUsed) say('Note: the first copy of the header is damaged; the copy at the end of the file was used.');
}

export async function checkCommand(file: string, o: { json?: boolean; passwordFile?: string }): Promise<void> {
  if (isRemote(file)) {
    const { withDownloaded } = await import('../offsite/download.js');
    return withDownloaded((await import('../offsite/remote.js')).remoteSource(file), (path) => checkCommand(path, o));
  }
  const located = await locateHeader(file);
  const password = o.passwordFile ? await readPasswordFile(o.passwordFile) : undefined;
  const r = await checkFile(file, { located, password });
  if (o.json) printJson({ intact: r.intact, complete: r.complete, chunks: r.chunks, damagedChunks: r.damagedChunks, truncated: r.truncated, damagedRanges: r.damagedRanges, headerCopyUsed: r.headerCopyUsed, firstHeaderIntact: r.firstHeaderIntact, strayBytes: r.strayBytes, fileBytes: r.fileBytes, ...(r.places ? { places: r.places } : {}) });
  else if (r.intact) say(`The backup is whole: all ${r.chunks} chunks and both header copies check out.`);
  else {
    const parts: string[] = [];
    if (r.truncated) parts.push(`it is cut short after ${r.chunks} chunks`);
    if (r.damagedChunks > 0) parts.push(`${r.damagedChunks} chunk(s) are damaged (chunks ${r.damagedRanges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(', ')})`);
    if (!r.firstHeaderIntact) parts.push('the first header copy is damaged');
    else if (!r.truncated && r.damagedChunks === 0) parts.push('the header copy at the end is damaged');
    say(`The backup is damaged: ${parts.join('; ')}. A restore will recover what is intact and list what is lost.`);
    for (const p of r.places ?? []) {
      const where = p.to === null ? `chunks ${p.from} to the end` : p.from === p.to ? `chunk ${p.from}` : `chunks ${p.from}-${p.to}`;
      const what = [...p.tables.map((t) => safeText(t, 80)), ...p.other.map((x) => `the ${x}`)];
      say(`  ${where}: ${what.length ? what.join(', ') : 'no table data'}`);
    }
  }
  if (!r.intact) setResultCode(EXIT.damaged);
}
