/**
 * The producer's offsite leg: after the night's backup is written and
 * verified, send it to prefix/practices/<practiceId>/<file> with the
 * practice's write-only key, then write the pointer beside it.
 */
import { basename } from 'node:path';
import { defaultWriteVersion } from '../format/limits.js';
import { LrError } from '../errors.js';
import type { Clock } from '../system/clock.js';
import { makeClient } from './client.js';
import { readCredentialsFile } from './credentials.js';
import { backupKey, parseStoreUrl, pointerKey } from './location.js';
import { writePointer, type Pointer } from './pointer.js';
import { withRetry } from './retry.js';
import { uploadFile } from './upload.js';

export interface OffsiteSent {
  key: string;
  bytes: number;
  sha256: string;
  retries: number;
  url: string;
}

/** The settings an offsite copy needs (a part of the service's settings, which are kept in service/config.ts). */
export interface OffsiteConfig {
  offsite: string | null;
  offsiteEndpoint: string | null;
  offsiteRegion: string | null;
  offsiteCredentialsFile: string | null;
  practiceId: string | null;
  maxRate: number | null;
}

export interface SendOptions {
  config: OffsiteConfig;
  backup: { file: string; bytes: number; database: string; admin: string; at: string };
  clock: Clock;
  deadline: Date;
  signal?: AbortSignal;
}

/** Every offsite setting present, or a plain line naming the missing one. */
export function offsiteSettings(config: OffsiteConfig): { store: string; practiceId: string; credentialsFile: string } {
  if (!config.offsite) throw new LrError('LR_BAD_CONFIG', 'No offsite store is set.');
  if (!config.practiceId) throw new LrError('LR_BAD_CONFIG', 'The offsite copy needs this practice\'s id from the vendor: lastresort config set practiceId ID');
  if (!config.offsiteCredentialsFile) throw new LrError('LR_BAD_CONFIG', 'The offsite copy needs the store key file from the vendor: lastresort config set offsiteCredentialsFile /path/credentials (mode 0600)');
  return { store: config.offsite, practiceId: config.practiceId, credentialsFile: config.offsiteCredentialsFile };
}

export async function sendOffsite(o: SendOptions): Promise<OffsiteSent> {
  const s = offsiteSettings(o.config);
  const loc = parseStoreUrl(s.store, 'The setting offsite');
  const credentials = await readCredentialsFile(s.credentialsFile);
  const client = makeClient({ endpoint: o.config.offsiteEndpoint, region: o.config.offsiteRegion, credentials, maxAttempts: 1 });
  try {
    const file = basename(o.backup.file);
    const key = backupKey(loc, s.practiceId, file);
    const sent = await uploadFile({ client, bucket: loc.bucket, key, file: o.backup.file, clock: o.clock, deadline: o.deadline, maxRate: o.config.maxRate, signal: o.signal });
    const pointer: Pointer = { format: 'lastresort-offsite-pointer', pointerVersion: 1, practiceId: s.practiceId, key, file, bytes: sent.bytes, sha256: sent.sha256, uploadedAt: o.clock.now().toISOString(), backupAt: o.backup.at, admin: o.backup.admin, formatVersion: defaultWriteVersion(), database: o.backup.database };
    const retries = { count: sent.retries };
    await withRetry({ clock: o.clock, deadline: o.deadline, signal: o.signal, retries }, 'writing the pointer', () => writePointer(client, loc.bucket, pointerKey(loc, s.practiceId), pointer, o.signal));
    return { key, bytes: sent.bytes, sha256: sent.sha256, retries: retries.count, url: `s3://${loc.bucket}/${key}` };
  } finally {
    client.destroy();
  }
}
