/**
 * The daemon's NOT_ONE_MOMENT alert: raised from the state file's last
 * success when that backup was not one moment (src/backup/moment.ts), with
 * the reason the backup recorded; never for one that was, nor for a record
 * written before the moment was kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeAlerts } from '../../src/service/alerts.js';
import { defaultConfig } from '../../src/service/config.js';

const now = new Date('2026-12-08T02:00:00Z');
const backup = { at: '2026-12-08T01:00:00.000Z', file: '/b/x.lrb', bytes: 1, rows: 1, tables: 3, durationMs: 1, admin: 'jsmith', keyStale: false };
const alertsFor = (lastSuccess: Record<string, unknown>) => computeAlerts(defaultConfig(), { version: 1, firstRunAt: '2026-12-01T00:00:00.000Z', lastSuccess: lastSuccess as never }, now);

test('a backup that is not one moment raises NOT_ONE_MOMENT with its reason; one that is, or an older record, raises nothing', () => {
  const why = 'the database user may not lock tables, so the MyISAM/Aria tables were each read at their own time (GRANT LOCK TABLES ON `od`.* TO the backup\'s database user)';
  const raised = alertsFor({ ...backup, oneMoment: false, notOneMoment: why, writesHeldMs: 0, tablesHeld: 0 });
  assert.deepEqual(raised.map((a) => a.code), ['NOT_ONE_MOMENT']);
  assert.ok(raised[0]!.message.includes(why), raised[0]!.message);
  assert.match(raised[0]!.message, /^The last backup, at 2026-12-08T01:00:00.000Z, is not one moment of the database: .* It restores, but its tables may not agree with each other; fix that before the next backup\.$/);
  assert.deepEqual(alertsFor({ ...backup, oneMoment: true, notOneMoment: null, writesHeldMs: 3864, tablesHeld: 80 }), []);
  assert.deepEqual(alertsFor(backup), [], 'a record from before the moment was kept');
});
