import { locateNamed } from '../open/index.js';
import { unlockLocated } from '../cli/password.js';
import { readingInterruptibly } from '../cli/interrupt.js';
import { note, printJson, say, setResultCode } from '../cli/output.js';
import { EXIT } from '../errors.js';
import { checkTargetArgument, resolveTarget } from '../restore/resolve-target.js';
import { validateRestore } from '../validate/validate.js';
import { Progress } from '../cli/progress.js';
import { mappingLines } from '../restore/server-names.js';

/** FILE may be a path, s3://bucket/key or a link from `vendor share`: a backup in the store is read in place, as restore reads it. */
export async function validateCommand(file: string, o: { target: string; dbPasswordFile?: string; passwordFile?: string; recoveryCodeFile?: string; json?: boolean }): Promise<void> {
  checkTargetArgument(o.target);
  const progress = new Progress(!o.json || !!process.stderr.isTTY);
  const r = await readingInterruptibly(file, async (signal) => {
    const located = await locateNamed(file, signal);
    const opened = await unlockLocated(located, o);
    const target = await resolveTarget(o.target, located.header.database, { dbPasswordFile: o.dbPasswordFile });
    if (!o.json) note('Comparing every table with the backup…');
    return validateRestore(opened, target.dsn, { onTable: (name, done, total) => progress.update({ done, total, label: `checking ${name}`, unit: 'items' }) });
  }).finally(() => progress.done());
  setResultCode(r.match ? EXIT.ok : EXIT.damaged);
  if (o.json) {
    printJson(r);
    return;
  }
  // What the restore had to map for this server is no difference in the data: said first, then the verdict.
  for (const line of mappingLines(r.collationsMapped)) say(line);
  if (r.match) say(`All ${r.tables.length} tables and ${r.objects.length} schema objects match the backup: every row is identical.`);
  else {
    say(`The database differs from the backup in ${r.differences.length} way(s):`);
    for (const d of r.differences) say(`  ${d}`);
  }
}
