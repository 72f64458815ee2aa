/**
 * `lastresort definers --target T --to USER@HOST`: the one command the
 * restore report gives IT for re-pointing the restored objects, once they
 * have checked them, from the confined account a restore defines them by
 * (lr_objects_<database>) to an account IT chooses (restore/repoint.ts).
 */
import { connect } from '../db/connect.js';
import { printJson, say } from '../cli/output.js';
import { LrError } from '../errors.js';
import { checkTargetArgument, resolveTarget } from '../restore/resolve-target.js';
import { definerAccount } from '../restore/definers.js';
import { repointDefiners } from '../restore/repoint.js';
import { safeText } from '../text.js';

export async function definersCommand(o: { target: string; to: string; database?: string; dbPasswordFile?: string; json?: boolean }): Promise<void> {
  checkTargetArgument(o.target);
  const to = definerAccount(o.to);
  if (!to) throw new LrError('LR_USAGE', `--to must name an account as user@host (for example 'opendental@localhost'), not ${safeText(o.to, 80)}.`);
  const target = await resolveTarget(o.target, o.database ?? '', { dbPasswordFile: o.dbPasswordFile });
  if (!target.dsn.database) throw new LrError('LR_USAGE', 'Name the database with --database (a sandbox target does not name one).');
  const conn = await connect(target.dsn);
  try {
    const done = await repointDefiners(conn, target.dsn.database, to);
    if (o.json) printJson({ database: target.dsn.database, definer: `${to.user}@${to.host}`, objects: done });
    else say(done.length ? `${done.length} view(s), routine(s), trigger(s) or event(s) of ${target.dsn.database} now run as ${to.user}@${to.host}.` : `No object of ${target.dsn.database} was defined by the restore's own account; nothing was changed.`);
  } finally {
    await conn.end();
  }
}
