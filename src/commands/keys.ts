import { parseDsn } from '../db/dsn.js';
import { enrollAdmin } from '../keys/enroll.js';
import { FAST_TEST_KDF } from '../keys/crypto.js';
import { obtainPassword } from '../cli/password.js';
import { note, printJson, say } from '../cli/output.js';

export async function enrollCommand(o: { source: string; user: string; passwordFile?: string; testKdf?: boolean; producerKey?: string; json?: boolean }): Promise<void> {
  const source = parseDsn(o.source);
  const password = await obtainPassword({ passwordFile: o.passwordFile, prompt: `Open Dental password of ${o.user}` });
  if (!o.json) note('Checking the password and making the key (this takes a few seconds)…');
  const result = await enrollAdmin({ source, userName: o.user, password, kdf: o.testKdf ? FAST_TEST_KDF : undefined, producerKeyFile: o.producerKey });
  if (o.json) printJson(result);
  else say(`${result.userName} is enrolled: from now on, backups made while ${result.userName} is the last admin to log on open with their password.`);
}
