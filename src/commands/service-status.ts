import { EXIT } from '../errors.js';
import { printJson, say, setResultCode } from '../cli/output.js';
import { humanBytes, humanDate, safeText } from '../text.js';
import { loadConfig } from '../service/config.js';
import { defaultConfigPath } from '../system/paths.js';
import { gatherStatus, type ServiceStatus } from '../service/status.js';

/** Exit code: 0 when no alert stands, 1 when one does (for monitoring scripts). */
export async function statusCommand(o: { config?: string; json?: boolean }): Promise<void> {
  const status = await gatherStatus(await loadConfig(o.config ?? defaultConfigPath()));
  if (o.json) printJson(status);
  else printStatus(status);
  if (status.alerts.length > 0) setResultCode(EXIT.failure);
}

function printStatus(s: ServiceStatus): void {
  say(`Nightly backups: ${s.enabled ? 'on' : 'OFF'}   (settings: ${s.configFile}${s.configExists ? '' : ', not created yet'})`);
  say(`Database: ${s.source ?? '(not set)'}`);
  const b = s.lastSuccess;
  say(b ? `Last backup: ${humanDate(b.at)}, ${b.file} (${humanBytes(b.bytes)}${b.uncompressedBytes !== undefined ? `, ${humanBytes(b.uncompressedBytes)} uncompressed` : ''}, ${b.rows} rows); opens with ${safeText(b.admin, 80)}'s password.` : 'Last backup: never');
  const c = s.lastCopy;
  say(c ? (c.ok ? `Last copy: ${humanDate(c.at)}, ${c.file} (verified)` : `Last copy: ${humanDate(c.at)} FAILED`) : 'Last copy: none');
  const o = s.lastOffsite;
  if (o) say(o.ok ? `Last offsite copy: ${humanDate(o.at)}, ${safeText(o.url ?? '', 200)} (${humanBytes(o.bytes ?? 0)})` : `Last offsite copy: ${humanDate(o.at)} FAILED`);
  const planned = s.nextWindow.plannedAt ? `; tonight's backup starts at ${humanDate(s.nextWindow.plannedAt)}` : '';
  say(`Window: ${humanDate(s.nextWindow.start)} to ${humanDate(s.nextWindow.end)}${planned}`);
  const a = s.admin;
  if (a.userName) say(`Tonight's backup is for ${safeText(a.userName, 80)}: ${!a.hasPassword ? 'NO PASSWORD' : a.enrolled ? `key enrolled${a.keyStale ? ' (password changed since; backups open with the old one until they enroll again)' : ''}` : 'NOT ENROLLED'}.`);
  else say(`Admin: ${a.problem ?? 'unknown'}`);
  for (const d of s.disk) say(`Disk ${d.path}: ${d.freeBytes === null ? d.problem : `${humanBytes(d.freeBytes)} free of ${humanBytes(d.totalBytes ?? 0)}`}`);
  if (s.alerts.length === 0) say('Alerts: none');
  for (const alert of s.alerts) say(`ALERT (${alert.code}): ${alert.message}`);
}
