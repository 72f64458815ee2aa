/**
 * The practice's store key, read from a file in the AWS shared-credentials
 * format. Never from the settings, argv or the environment of the service:
 * a file with mode 0600 is the one place it may sit, and a file others can
 * read is refused rather than used.
 */
import { readFile, stat } from 'node:fs/promises';
import { LrError } from '../errors.js';
import { openToOthers, privateFix } from '../system/private-file.js';

export interface StoreCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export async function readCredentialsFile(path: string, profile = 'default'): Promise<StoreCredentials> {
  let text: string;
  try {
    await stat(path);
    const seen = openToOthers(path);
    if (seen.open) throw new LrError('LR_BAD_CONFIG', `The store credentials file ${path} may be read by other accounts (${seen.how}). Run: ${privateFix(path)}`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof LrError) throw err;
    throw new LrError('LR_BAD_CONFIG', `Cannot read the store credentials file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}). Check that it exists and this account may read it.`, { cause: err });
  }
  const values = profileValues(text, profile);
  const accessKeyId = values.get('aws_access_key_id');
  const secretAccessKey = values.get('aws_secret_access_key');
  if (!accessKeyId || !secretAccessKey) {
    throw new LrError('LR_BAD_CONFIG', `The store credentials file ${path} needs a [${profile}] section with aws_access_key_id and aws_secret_access_key.`);
  }
  return { accessKeyId, secretAccessKey };
}

/** key = value lines of one [section]; comments (# or ;) and other sections ignored. */
function profileValues(text: string, profile: string): Map<string, string> {
  const values = new Map<string, string>();
  let inside = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (section) {
      inside = section[1] === profile;
      continue;
    }
    const kv = /^([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(line);
    if (inside && kv) values.set(kv[1]!.toLowerCase(), kv[2]!.trim());
  }
  return values;
}
