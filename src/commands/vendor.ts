/**
 * `lastresort vendor ...`: support's side of the offsite copies, with the
 * vendor's own key from the SDK's standard chain (environment or shared
 * files) and --endpoint or AWS_ENDPOINT_URL for a store other than AWS.
 */
import { basename } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { EXIT, LrError } from '../errors.js';
import { note, printJson, say } from '../cli/output.js';
import { humanBytes, humanDate, safeText } from '../text.js';
import { makeClient } from '../offsite/client.js';
import { initBucket, DEFAULT_RETAIN_DAYS } from '../offsite/bucket.js';
import { fetchChecked } from '../offsite/download.js';
import { fleetStatus } from '../offsite/fleet.js';
import { checkPracticeId, parseStoreUrl, storeUrl, type StoreLocation } from '../offsite/location.js';
import { applyPracticePolicy, practiceStatements } from '../offsite/policy.js';
import { identifyRemote } from '../offsite/remote-identify.js';
import { candidates, listBackupVersions, parseAt, type StoredVersion } from '../offsite/versions.js';
import { identifyCommand } from './identify.js';
import { whoOpens } from '../format/header.js';

export interface StoreOptions {
  store: string;
  endpoint?: string;
  region?: string;
  json?: boolean;
}

function open(o: StoreOptions): { client: S3Client; loc: StoreLocation } {
  return { client: makeClient({ endpoint: o.endpoint, region: o.region }), loc: parseStoreUrl(o.store, '--store') };
}

export async function vendorInit(o: StoreOptions & { retainDays?: string }): Promise<void> {
  const { client, loc } = open(o);
  const days = o.retainDays === undefined ? DEFAULT_RETAIN_DAYS : /^\d+$/.test(o.retainDays) ? Number(o.retainDays) : NaN;
  const r = await initBucket(client, loc.bucket, days);
  if (o.json) printJson({ bucket: loc.bucket, ...r });
  else say(`Bucket ${loc.bucket} ${r.created ? 'created' : 'already existed'}: versioning on; every new object locked (COMPLIANCE) for ${r.retainDays} days; old versions removed after ${r.retainDays} days, unfinished uploads after a few days.`);
}

export async function vendorPolicy(o: StoreOptions & { practice: string; user: string; apply?: boolean }): Promise<void> {
  const { client, loc } = open(o);
  const statements = practiceStatements(loc, checkPracticeId(o.practice, '--practice'), o.user);
  if (!o.apply) {
    printJson({ Version: '2012-10-17', Statement: statements });
    return;
  }
  const policy = await applyPracticePolicy(client, loc, o.practice, o.user);
  if (o.json) printJson(policy);
  else say(`Applied: ${o.user} may now only put objects under ${storeUrl(loc)}/practices/${o.practice}/ (no reading, listing or deleting). The bucket policy has ${policy.Statement.length} statements.`);
}

export async function vendorStatus(o: StoreOptions & { staleDays?: string }): Promise<void> {
  const { client, loc } = open(o);
  const staleDays = o.staleDays === undefined ? 2 : Number(o.staleDays);
  if (!Number.isFinite(staleDays) || staleDays <= 0) throw new LrError('LR_USAGE', '--stale-days must be a positive number of days.');
  const rows = await fleetStatus(client, loc, staleDays);
  if (o.json) {
    printJson({ store: storeUrl(loc), staleDays, practices: rows });
    return;
  }
  if (rows.length === 0) say(`No practice has sent anything to ${storeUrl(loc)} yet.`);
  for (const r of rows) {
    const when = r.lastUpload ? humanDate(r.lastUpload) : 'never';
    const what = r.file ? `${safeText(r.file, 100)} (${humanBytes(r.bytes ?? 0)}), opens with ${safeText(r.admin ?? '?', 60)}'s password, format ${r.formatVersion ?? '?'}` : 'no backup found';
    say(`${r.stale ? 'STALE' : 'ok   '} ${safeText(r.practiceId, 64)}: last upload ${when}; ${what}${r.problem && r.source !== 'none' ? ` [${r.problem}]` : ''}`);
  }
  const stale = rows.filter((r) => r.stale).length;
  say(`${rows.length} practices, ${stale} stale (nothing for more than ${staleDays} days).`);
}

interface ChooseOptions extends StoreOptions {
  practice: string;
  latest?: boolean;
  at?: string;
}

async function versionsToTry(client: S3Client, loc: StoreLocation, o: ChooseOptions): Promise<StoredVersion[]> {
  if (o.latest && o.at) throw new LrError('LR_USAGE', 'Give either --latest or --at DATE, not both.');
  const at = o.at ? parseAt(o.at) : undefined;
  const list = candidates(await listBackupVersions(client, loc, checkPracticeId(o.practice, '--practice')), at);
  if (list.length === 0) throw new LrError('LR_NO_FILE', `No backup of practice ${o.practice} is stored in ${storeUrl(loc)}${at ? ` from ${at.toISOString()} or before` : ''}. Check the id with: lastresort vendor status --store ${storeUrl(loc)}`);
  return list;
}

/** A version that is not a whole backup (overwritten with garbage, cut short) is passed over for the one before. */
const MAX_TRIES = 10;
const passable = (err: unknown) => err instanceof LrError && (err.exitCode === EXIT.damaged || err.exitCode === EXIT.notBackup);

export async function vendorFetch(o: ChooseOptions & { out: string }): Promise<void> {
  const { client, loc } = open(o);
  const skipped: { key: string; versionId?: string; storedAt: string; why: string }[] = [];
  for (const v of (await versionsToTry(client, loc, o)).slice(0, MAX_TRIES)) {
    const skip = (why: string) => {
      skipped.push({ key: v.key, versionId: v.versionId, storedAt: v.lastModified.toISOString(), why });
      note(`Passed over ${safeText(basename(v.key), 120)} stored ${humanDate(v.lastModified.toISOString())}: ${why}`);
    };
    try {
      const f = await fetchChecked({ kind: 's3', client, bucket: loc.bucket, key: v.key, versionId: v.versionId }, o.out, basename(v.key));
      if (!f.check.intact) {
        skip(!f.check.firstHeaderIntact ? 'its first header copy is damaged' : f.check.truncated ? 'it is cut short' : 'it is damaged');
        continue;
      }
      if (o.json) {
        printJson({ file: f.path, bytes: f.bytes, key: v.key, versionId: v.versionId ?? null, storedAt: v.lastModified.toISOString(), chunks: f.check.chunks, skipped });
        return;
      }
      say(`Fetched ${safeText(f.path, 300)} (${humanBytes(f.bytes)}), stored ${humanDate(v.lastModified.toISOString())}; whole: all ${f.check.chunks} chunks and both header copies check out.`);
      await identifyCommand(f.path, {});
      return;
    } catch (err) {
      if (!passable(err)) throw err;
      skip((err as Error).message);
    }
  }
  throw new LrError('LR_DAMAGED', `None of the ${skipped.length} newest stored versions of practice ${o.practice} is a whole backup. Try an earlier date with --at.`);
}

/**
 * The command the office pastes. Double quotes keep the link whole in bash,
 * zsh, cmd.exe and PowerShell alike; a presigned link has no character that
 * any of them expands inside them (no $, `, %VAR% or ").
 */
export function recoverCommand(url: string): string {
  if (/["$`\\]/.test(url) || /%[A-Za-z_][A-Za-z0-9_]*%/.test(url)) throw new LrError('LR_INTERNAL', 'The store made a link that cannot be quoted safely.');
  return `lastresort recover "${url}"`;
}

function parseExpires(text: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(text.trim());
  const seconds = m ? Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's'] : NaN;
  // A presigned link can live at most 7 days.
  if (!(seconds >= 60 && seconds <= 7 * 86400)) throw new LrError('LR_USAGE', '--expires must be from 1m to 7d, like 24h.');
  return seconds;
}

export async function vendorShare(o: ChooseOptions & { expires?: string }): Promise<void> {
  const { client, loc } = open(o);
  const expiresIn = parseExpires(o.expires ?? '24h');
  for (const v of (await versionsToTry(client, loc, o)).slice(0, MAX_TRIES)) {
    try {
      const id = await identifyRemote({ kind: 's3', client, bucket: loc.bucket, key: v.key, versionId: v.versionId });
      const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: loc.bucket, Key: v.key, VersionId: v.versionId }), { expiresIn });
      const until = new Date(Date.now() + expiresIn * 1000).toISOString();
      const command = recoverCommand(url);
      if (o.json) printJson({ url, command, expiresAt: until, key: v.key, versionId: v.versionId ?? null, storedAt: v.lastModified.toISOString(), admin: whoOpens(id).userName, bytes: id.fileBytes });
      else {
        say(url);
        note(`This link gives ${safeText(basename(v.key), 120)} (${humanBytes(id.fileBytes)}, stored ${humanDate(v.lastModified.toISOString())}; opens with ${safeText(whoOpens(id).userName, 60)}'s password) until ${humanDate(until)}.`);
        note('Send the office this command, quotes included (without them a shell cuts the link at its first &):');
        note(`  ${command}`);
      }
      return;
    } catch (err) {
      if (!passable(err)) throw err;
      note(`Passed over ${safeText(basename(v.key), 120)} stored ${humanDate(v.lastModified.toISOString())}: ${(err as Error).message}`);
    }
  }
  throw new LrError('LR_DAMAGED', `None of the newest stored versions of practice ${o.practice} has a readable header. Try an earlier date with --at.`);
}
