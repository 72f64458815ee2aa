/**
 * The service loop with an injected clock (nights pass in milliseconds) and
 * real backups: one per night at a random time inside the window, across
 * the March DST change; no second backup after a restart in the same night;
 * retries while the database is down, a success when it comes back, and a
 * night given up (with its alert) when it never does.
 */
process.env.TZ = 'America/New_York';

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { makeSource } from '../helpers/backup.js';
import { dropTempDatabases } from '../helpers/db.js';
import { setRootLogger } from '../../src/log.js';
import { runDaemon } from '../../src/service/daemon.js';
import { setConfigValue } from '../../src/service/config.js';
import { computeAlerts } from '../../src/service/alerts.js';
import { loadState } from '../../src/service/state.js';
import { currentOrNextWindow, isInside, parseWindow } from '../../src/service/window.js';
import type { CycleResult } from '../../src/service/cycle.js';
import { closedPort, configOf, FakeClock, filesIn, serviceDir } from './helpers.js';

let source: string;
const logLines: Record<string, unknown>[] = [];

before(async () => {
  source = await makeSource({ patients: 10, prefix: 'lrsvc_loop' });
  // Capture the service's log lines in memory, to count tries.
  const sink = new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).trim().split('\n')) logLines.push(JSON.parse(l)); cb(); } });
  setRootLogger(pino({ level: 'info' }, sink));
});
after(dropTempDatabases);

const local = (y: number, mo: number, d: number, h: number, mi = 0) => new Date(y, mo - 1, d, h, mi).getTime();
const nightly = parseWindow('22:00-04:00');

/** The local time a backup file's name carries. */
function stampOf(file: string): Date {
  const m = /-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})\.lrb$/.exec(file)!;
  return new Date(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

test('one backup per night at a random time inside the window, across DST, and none again after a restart', async () => {
  const sd = await serviceDir(source, { keep: 10 });
  const clock = new FakeClock(local(2025, 3, 7, 21), local(2025, 3, 12, 0));
  const stop = new AbortController();
  const nights: [string, CycleResult][] = [];
  const randoms = [0.1, 0.5, 0.9];
  await runDaemon({ configPath: sd.configPath, clock, signal: stop.signal, random: () => randoms[nights.length]!, onNight: (night, r) => {
    nights.push([night, r]);
    if (nights.length === 3) stop.abort();
  } });
  assert.deepEqual(nights.map(([n, r]) => [n, r.outcome]), [['2025-03-07', 'ok'], ['2025-03-08', 'ok'], ['2025-03-09', 'ok']]);
  const files = (await filesIn(sd.outDir)).backups.sort();
  assert.equal(files.length, 3);
  const startTimes = files.map((f) => stampOf(f));
  for (const [i, at] of startTimes.entries()) {
    const span = currentOrNextWindow(at, nightly);
    assert.ok(isInside(at, span), `${files[i]} inside its window`);
    assert.equal(span.night, nights[i]![0]);
  }
  // Different random draws give different times of night (10%, 50%, 90% of the allowed range).
  assert.ok(startTimes[0]!.getHours() === 22 || startTimes[0]!.getHours() === 23);
  assert.ok(startTimes[2]!.getHours() >= 2 && startTimes[2]!.getHours() < 3, startTimes[2]!.toString());

  // A restart in the same night (the service was restarted at 03:00) makes no second backup.
  const restartStop = new AbortController();
  const until = local(2025, 3, 10, 5, 0);
  const restartClock = new FakeClock(local(2025, 3, 10, 3, 0), local(2025, 3, 12, 0));
  const sleep = restartClock.sleep.bind(restartClock);
  restartClock.sleep = async (ms) => {
    await sleep(ms);
    if (restartClock.ms >= until) restartStop.abort();
  };
  await runDaemon({ configPath: sd.configPath, clock: restartClock, signal: restartStop.signal });
  assert.equal((await filesIn(sd.outDir)).backups.length, 3);
  assert.equal((await loadState(sd.stateFile)).nightDone, '2025-03-09');
});

/** A doorway to the test server that can be shut (connections refused) and opened again. */
async function doorway(port: number): Promise<{ open(): Promise<void>; shut(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  return {
    async open() {
      server = createServer((client) => {
        const upstream = createConnection(3306, '127.0.0.1');
        sockets.add(client).add(upstream);
        client.pipe(upstream).pipe(client);
        const end = () => { client.destroy(); upstream.destroy(); };
        client.on('error', end).on('close', end);
        upstream.on('error', end).on('close', end);
      });
      await new Promise<void>((r) => server!.listen(port, '127.0.0.1', r));
    },
    async shut() {
      for (const s of sockets) s.destroy();
      if (server) await new Promise((r) => server!.close(r));
      server = null;
    },
  };
}

test('database down at backup time: retries inside the window, succeeds when it comes back', async () => {
  const port = await closedPort();
  const door = await doorway(port);
  const sd = await serviceDir(null, { source: `mysql://root@127.0.0.1:${port}/${source}`, keep: 10 });
  const clock = new FakeClock(local(2025, 6, 2, 12), local(2025, 6, 5, 0));
  const sleep = clock.sleep.bind(clock);
  const comesBackAt = local(2025, 6, 2, 22, 30);
  clock.sleep = async (ms) => {
    await sleep(ms);
    if (clock.ms >= comesBackAt && clock.ms - ms < comesBackAt) await door.open();
  };
  const stop = new AbortController();
  let result: CycleResult | undefined;
  logLines.length = 0;
  try {
    await runDaemon({ configPath: sd.configPath, clock, signal: stop.signal, random: () => 0, onNight: (_n, r) => { result = r; stop.abort(); } });
  } finally {
    await door.shut();
  }
  assert.equal(result?.outcome, 'ok', result?.error?.message);
  const retries = logLines.filter((l) => l.msg === 'backup failed; will try again inside the window');
  // Planned at 22:00 (random 0); tries at 22:00, 22:01, 22:03, 22:08, 22:18 fail; 22:33 finds the server back.
  assert.equal(retries.length, 5);
  assert.ok(retries.every((l) => l.code === 'LR_DB_UNREACHABLE'));
  assert.equal(stampOf(result!.backup!.file).getTime(), local(2025, 6, 2, 22, 33));
  assert.deepEqual(computeAlerts(await configOf(sd), await loadState(sd.stateFile), clock.now()), []);
});

test('database down all night: gives up when the window closes, alerts, and waits for the next night', async () => {
  const sd = await serviceDir(null, { source: `mysql://root@127.0.0.1:${await closedPort()}/opendental` });
  const clock = new FakeClock(local(2025, 6, 2, 12), local(2025, 6, 5, 0));
  const stop = new AbortController();
  const sleep = clock.sleep.bind(clock);
  clock.sleep = async (ms) => {
    await sleep(ms);
    if (clock.ms >= local(2025, 6, 3, 21, 59)) stop.abort(); // just before the next night's window
  };
  const nights: CycleResult[] = [];
  logLines.length = 0;
  await runDaemon({ configPath: sd.configPath, clock, signal: stop.signal, random: () => 0, onNight: (_n, r) => nights.push(r) });
  assert.equal(nights.length, 1);
  assert.equal(nights[0]!.outcome, 'failed');
  const state = await loadState(sd.stateFile);
  assert.equal(state.nightDone, '2025-06-02');
  // The last try came in the window's last quarter hour; none after it closed.
  const lastTry = Date.parse(state.lastAttempt!.at);
  assert.ok(lastTry >= local(2025, 6, 3, 3, 45) && lastTry < local(2025, 6, 3, 4, 0), new Date(lastTry).toString());
  assert.ok(logLines.some((l) => l.msg === 'giving up for tonight: the window closed'));
  const tries = logLines.filter((l) => l.msg === 'backup failed; will try again inside the window').length + 1;
  assert.ok(tries >= 20 && tries <= 30, `${tries} tries`);
  assert.deepEqual(computeAlerts(await configOf(sd), state, clock.now()).map((a) => a.code), ['BACKUP_FAILED']);
});

test('an error in one turn (state file unreachable) is logged and the service keeps going', async () => {
  const sd = await serviceDir(source);
  await writeFile(sd.stateFile, '{}'); // a regular file, so "state.json/state.json" cannot exist
  await setConfigValue(sd.configPath, 'stateFile', join(sd.stateFile, 'state.json'));
  const clock = new FakeClock(local(2025, 6, 2, 12), local(2025, 6, 3, 0));
  const stop = new AbortController();
  const sleep = clock.sleep.bind(clock);
  clock.sleep = async (ms) => {
    await sleep(ms);
    if (clock.ms >= local(2025, 6, 2, 12, 10)) stop.abort();
  };
  logLines.length = 0;
  await runDaemon({ configPath: sd.configPath, clock, signal: stop.signal });
  const errors = logLines.filter((l) => l.level === 50);
  assert.ok(errors.length >= 5, `${errors.length} error lines`);
  assert.ok(errors.every((l) => /ENOTDIR/.test(String(l.cause))));
  assert.equal(logLines.at(-1)!.msg, 'service stopped');
});
