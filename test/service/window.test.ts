/**
 * The window arithmetic in a zone with DST. TZ is set before any date is
 * made; Node re-reads it when it changes, and each test file runs in its own
 * process.
 */
process.env.TZ = 'America/New_York';

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { currentOrNextWindow, isInside, parseWindow, pickRunTime, windowAfter } from '../../src/service/window.js';

const HOUR = 3_600_000;
const local = (y: number, mo: number, d: number, h: number, mi = 0) => new Date(y, mo - 1, d, h, mi);
const nightly = parseWindow('22:00-04:00');

test('the zone really is New York (EST is UTC-5)', () => {
  assert.equal(new Date('2025-01-15T12:00:00Z').getHours(), 7);
});

test('parseWindow accepts HH:MM-HH:MM and refuses the rest with the reason', () => {
  assert.deepEqual(parseWindow('22:00-04:00'), { startMinute: 1320, endMinute: 240 });
  assert.deepEqual(parseWindow(' 1:30 - 5:15 '), { startMinute: 90, endMinute: 315 });
  for (const bad of ['24:00-04:00', '22:60-04:00', '22-04', '', '22:00-22:00', '10pm-4am']) {
    assert.throws(() => parseWindow(bad), (e: Error & { code?: string }) => e.code === 'LR_BAD_CONFIG' && /window/.test(e.message), bad);
  }
});

test('before the window opens, the next one is tonight and crosses midnight', () => {
  const span = currentOrNextWindow(local(2025, 1, 15, 12), nightly);
  assert.equal(span.start.getTime(), local(2025, 1, 15, 22).getTime());
  assert.equal(span.end.getTime(), local(2025, 1, 16, 4).getTime());
  assert.equal(span.night, '2025-01-15');
  assert.equal(isInside(local(2025, 1, 15, 12), span), false);
});

test('after midnight inside the window, the night is still the evening it opened', () => {
  const now = local(2025, 1, 16, 1, 30);
  const span = currentOrNextWindow(now, nightly);
  assert.equal(span.night, '2025-01-15');
  assert.ok(isInside(now, span));
  assert.equal(span.end.getTime() - span.start.getTime(), 6 * HOUR);
});

test('at the closing minute the window is over and the next opens that evening', () => {
  const span = currentOrNextWindow(local(2025, 1, 16, 4, 0), nightly);
  assert.equal(span.night, '2025-01-16');
  assert.equal(span.start.getTime(), local(2025, 1, 16, 22).getTime());
});

test('a window inside one day (01:00-05:00) does not cross midnight', () => {
  const w = parseWindow('01:00-05:00');
  const span = currentOrNextWindow(local(2025, 1, 15, 23), w);
  assert.equal(span.night, '2025-01-16');
  assert.equal(span.end.getTime() - span.start.getTime(), 4 * HOUR);
});

test('DST forward (9 March 2025): the night is an hour shorter, still 22:00 to 04:00 on the wall clock', () => {
  const span = currentOrNextWindow(local(2025, 3, 8, 23), nightly);
  assert.equal(span.night, '2025-03-08');
  assert.equal(span.end.getTime() - span.start.getTime(), 5 * HOUR);
  assert.equal(span.end.getHours(), 4);
  assert.equal(span.start.toISOString(), '2025-03-09T03:00:00.000Z'); // 22:00 EST
  assert.equal(span.end.toISOString(), '2025-03-09T08:00:00.000Z'); // 04:00 EDT
});

test('DST back (2 November 2025): the night is an hour longer', () => {
  const span = currentOrNextWindow(local(2025, 11, 1, 23), nightly);
  assert.equal(span.end.getTime() - span.start.getTime(), 7 * HOUR);
  assert.equal(span.end.toISOString(), '2025-11-02T09:00:00.000Z'); // 04:00 EST
});

test('a window inside the skipped hour (02:00-03:00 on 9 March) keeps its length instead of vanishing', () => {
  const w = parseWindow('02:00-03:00');
  const span = currentOrNextWindow(local(2025, 3, 9, 0), w);
  assert.equal(span.night, '2025-03-09');
  assert.equal(span.end.getTime() - span.start.getTime(), HOUR);
});

test('a window inside the repeated hour (01:00-01:30 on 2 November) is one night, not two', () => {
  const w = parseWindow('01:00-01:30');
  const first = currentOrNextWindow(local(2025, 11, 2, 0), w);
  assert.equal(first.night, '2025-11-02');
  // 40 minutes after it closes (01:30 EDT) the wall clock reads 01:10 again (EST): still no second window that night.
  const repeated = new Date(first.end.getTime() + 40 * 60_000);
  assert.equal(`${repeated.getHours()}:${repeated.getMinutes()}`, '1:10');
  const next = currentOrNextWindow(repeated, w);
  assert.equal(next.night, '2025-11-03');
});

test('windowAfter steps night by night across DST', () => {
  let span = currentOrNextWindow(local(2025, 3, 7, 12), nightly);
  const nights: string[] = [];
  const lengths: number[] = [];
  for (let i = 0; i < 4; i++) {
    nights.push(span.night);
    lengths.push((span.end.getTime() - span.start.getTime()) / HOUR);
    span = windowAfter(span, nightly);
  }
  assert.deepEqual(nights, ['2025-03-07', '2025-03-08', '2025-03-09', '2025-03-10']);
  assert.deepEqual(lengths, [6, 5, 6, 6]);
});

test('pickRunTime stays inside the window and leaves the last quarter (max 1 h) for retries', () => {
  const span = currentOrNextWindow(local(2025, 1, 15, 12), nightly);
  const earliest = pickRunTime(span, local(2025, 1, 15, 12), () => 0);
  const latest = pickRunTime(span, local(2025, 1, 15, 12), () => 0.999999);
  assert.equal(earliest.getTime(), span.start.getTime());
  assert.ok(latest.getTime() <= span.end.getTime() - HOUR && latest.getTime() > span.end.getTime() - HOUR - 60_000);
  // Started late in the window: run now, not later.
  const late = local(2025, 1, 16, 3, 30);
  assert.equal(pickRunTime(span, late, () => 0.5).getTime(), late.getTime());
  // Random values spread over the allowed range.
  const seen = new Set(Array.from({ length: 50 }, (_, i) => pickRunTime(span, local(2025, 1, 15, 12), () => i / 50).getHours()));
  assert.ok(seen.size >= 5, `spread over hours: ${[...seen]}`);
});
