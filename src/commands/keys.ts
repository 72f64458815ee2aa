import { enrollAdmin } from '../keys/enroll.js';
import { FAST_TEST_KDF } from '../keys/crypto.js';
import { dsnFromArgument, obtainPassword } from '../cli/password.js';
import { note, printJson, say } from '../cli/output.js';
import { humanDate, safeText } from '../text.js';
import { resolve } from 'node:path';
import { listKeys, removeKey } from '../keys/manage.js';
import { createRecoveryKey, removeRecoveryKey } from '../keys/recovery.js';

export async function enrollCommand(o: { source: string; dbPasswordFile?: string; user: string; passwordFile?: string; testKdf?: boolean; acceptWeakPassword?: boolean; producerKey?: string; json?: boolean }): Promise<void> {
  const source = await dsnFromArgument(o.source, '--source', o.dbPasswordFile);
  const password = await obtainPassword({ passwordFile: o.passwordFile, prompt: `Open Dental password of ${o.user}` });
  if (!o.json) note('Checking the password and making the key (this takes a few seconds)…');
  const result = await enrollAdmin({ source, userName: o.user, password, kdf: o.testKdf ? FAST_TEST_KDF : undefined, producerKeyFile: o.producerKey, acceptWeakPassword: o.acceptWeakPassword });
  if (o.json) printJson(result);
  else say(`${result.userName} is enrolled: from now on, backups made while ${result.userName} is the last admin to log on open with their password.`);
  if (result.weakPassword) note(`ALERT (WEAK_PASSWORD): the password is weak against Open Dental's own hash; this is reported every night until ${result.userName} enrolls again with a stronger one.`);
  if (result.raisedMinimumKdf) note('This server no longer accepts test-strength keys (--test-kdf): keys made with them are no longer used; enroll those admins again.');
}

export async function listCommand(o: { source: string; dbPasswordFile?: string; producerKey?: string; json?: boolean }): Promise<void> {
  const r = await listKeys({ source: await dsnFromArgument(o.source, '--source', o.dbPasswordFile), producerKeyFile: o.producerKey });
  if (o.json) {
    printJson(r);
    return;
  }
  say(r.producerKey ? `This server's backup signing key: ${r.producerKey}.` : 'No admin has enrolled on this server yet: it has no backup signing key.');
  const words: Record<string, string> = { ok: 'enrolled', stale: 'enrolled, but the password changed since (STALE: enroll again)', mismatch: 'MISMATCH: the database row differs from the pinned key', 'not-enrolled': 'not enrolled', 'no-password': 'no Open Dental password' };
  for (const a of r.admins) {
    const since = a.enrolledAt ? ` since ${humanDate(a.enrolledAt)}` : '';
    say(`  ${safeText(a.userName, 60)}: ${words[a.state]}${a.state === 'ok' || a.state === 'stale' ? since : ''}${a.mismatch ? ` (${a.mismatch})` : ''}; last log-on ${humanDate(a.lastLoginAt)}`);
  }
  for (const x of r.others) say(`  ${safeText(x.userName, 60)}: has a key but is no longer a security admin (remove it with: lastresort keys remove --user ${safeText(x.userName, 60)})`);
  say(r.recovery ? `Practice recovery key: yes, made ${humanDate(r.recovery.createdAt)} (fingerprint ${r.recovery.fingerprint}).` : 'Practice recovery key: none (make one with: lastresort keys recovery create).');
  say(r.tonight ? `Tonight's backup opens with ${safeText(r.tonight, 60)}'s password${r.recovery ? ' or the recovery code' : ''}.` : r.recovery ? "Tonight's backup opens only with the recovery code." : 'No backup can be made tonight: no admin is enrolled.');
  for (const p of r.problems) note(`ALERT (${p.code}): ${p.message}`);
}

export async function removeCommand(o: { source: string; dbPasswordFile?: string; user: string; producerKey?: string; json?: boolean }): Promise<void> {
  const r = await removeKey({ source: await dsnFromArgument(o.source, '--source', o.dbPasswordFile), userName: o.user, producerKeyFile: o.producerKey });
  if (o.json) printJson({ removed: r });
  else say(`${safeText(r.userName, 60)}'s backup key is removed: backups from now on do not open with their password. Older backups still do.`);
}

export async function recoveryCreateCommand(o: { source: string; dbPasswordFile?: string; page?: string; producerKey?: string; json?: boolean }): Promise<void> {
  const source = await dsnFromArgument(o.source, '--source', o.dbPasswordFile);
  const pagePath = resolve(o.page ?? `lastresort-recovery-${source.database.replace(/[^A-Za-z0-9_.-]/g, '_')}.html`);
  const r = await createRecoveryKey({ source, producerKeyFile: o.producerKey, pagePath });
  if (o.json) {
    printJson({ code: r.code, createdAt: r.createdAt, fingerprint: r.fingerprint });
    note(`Printable page: ${r.page}`);
    return;
  }
  say('The practice recovery code (shown once; it is not kept anywhere on this server):');
  say('');
  say(`    ${r.code}`);
  say('');
  say(`Print ${r.page}, put it in the practice safe, then delete the file. Every backup from now on also opens with this code.`);
}

export async function recoveryRemoveCommand(o: { source: string; dbPasswordFile?: string; producerKey?: string; json?: boolean }): Promise<void> {
  const was = await removeRecoveryKey({ source: await dsnFromArgument(o.source, '--source', o.dbPasswordFile), producerKeyFile: o.producerKey });
  if (o.json) printJson({ removed: was ? { createdAt: was.createdAt, fingerprint: was.fingerprint } : null });
  else say(was ? `The recovery key made ${humanDate(was.createdAt)} is removed: backups from now on do not open with its code (older ones still do). Destroy the printed page once those have expired.` : 'There was no recovery key.');
}
