import { whoOpens } from '../format/header.js';
import { locateHeader, type ByteSource } from '../format/reader.js';
import { openBackup } from '../decrypt/open.js';
import { obtainSecret } from '../cli/password.js';
import { note, printJson, say, setResultCode } from '../cli/output.js';
import { safeText } from '../text.js';
import { EXIT } from '../errors.js';
import { checkTargetArgument, resolveTarget } from '../restore/resolve-target.js';
import { validateRestore } from '../validate/validate.js';
import { Progress } from '../cli/progress.js';

/** FILE may be a path, s3://bucket/key or a link from `vendor share`: a backup in the store is read in place, as restore reads it. */
export async function validateCommand(file: string, o: { target: string; dbPasswordFile?: string; passwordFile?: string; recoveryCodeFile?: string; json?: boolean }): Promise<void> {
  checkTargetArgument(o.target);
  const located = await locateHeader(await openSource(file));
  const password = await obtainSecret({ passwordFile: o.passwordFile, recoveryCodeFile: o.recoveryCodeFile, prompt: `Password of Open Dental admin ${safeText(whoOpens(located.header).userName, 60)}` });
  const opened = await openBackup(located.source, password, located);
  const target = await resolveTarget(o.target, located.header.database, { dbPasswordFile: o.dbPasswordFile });
  const progress = new Progress(!o.json || !!process.stderr.isTTY);
  if (!o.json) note('Comparing every table with the backup…');
  const r = await validateRestore(opened, target.dsn, { onTable: (name, done, total) => progress.update({ done, total, label: `checking ${name}`, unit: 'items' }) });
  progress.done();
  setResultCode(r.match ? EXIT.ok : EXIT.damaged);
  if (o.json) {
    printJson(r);
    return;
  }
  if (r.match) say(`All ${r.tables.length} tables and ${r.objects.length} schema objects match the backup: every row is identical.`);
  else {
    say(`The database differs from the backup in ${r.differences.length} way(s):`);
    for (const d of r.differences) say(`  ${d}`);
  }
}

async function openSource(file: string): Promise<string | ByteSource> {
  if (!/^(s3|https?):\/\//i.test(file)) return file;
  const { remoteSource } = await import('../offsite/remote.js');
  const { openRemote } = await import('../offsite/remote-source.js');
  return openRemote(remoteSource(file));
}
