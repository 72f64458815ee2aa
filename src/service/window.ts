/**
 * The nightly window in local time, e.g. 22:00-04:00. All arithmetic goes
 * through local calendar dates (new Date(y, m, d, h, min)), so a window
 * keeps its wall-clock hours across DST changes: the night the clocks go
 * forward it is an hour shorter, the night they go back an hour longer.
 * A night is named by the local date its window starts on; "one backup per
 * night" means one per name, even when 01:00-01:30 happens twice.
 */
import { LrError } from '../errors.js';

export interface DailyWindow {
  startMinute: number;
  endMinute: number;
}

export interface WindowSpan {
  start: Date;
  end: Date;
  /** Local date the window opens on, YYYY-MM-DD. */
  night: string;
}

export function parseWindow(text: string): DailyWindow {
  const m = /^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(text);
  const minute = (h: string, mm: string) => (Number(h) < 24 && Number(mm) < 60 ? Number(h) * 60 + Number(mm) : NaN);
  const start = m ? minute(m[1]!, m[2]!) : NaN;
  const end = m ? minute(m[3]!, m[4]!) : NaN;
  if (Number.isNaN(start) || Number.isNaN(end)) throw new LrError('LR_BAD_CONFIG', `The setting window must be two local times like 22:00-04:00, not ${JSON.stringify(text)}.`);
  if (start === end) throw new LrError('LR_BAD_CONFIG', 'The setting window must not start and end at the same time. Use e.g. 22:00-04:00.');
  return { startMinute: start, endMinute: end };
}

const pad2 = (n: number) => String(n).padStart(2, '0');
export function localDate(d: Date): string {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

/** The window that opens on local date y-m-d (day may overflow; Date normalises it). */
export function windowOpeningOn(year: number, month: number, day: number, w: DailyWindow): WindowSpan {
  const at = (dayOffset: number, minute: number) => new Date(year, month, day + dayOffset, Math.floor(minute / 60), minute % 60, 0, 0);
  const start = at(0, w.startMinute);
  let end = at(w.endMinute > w.startMinute ? 0 : 1, w.endMinute);
  // A window inside the hour that DST skips would vanish; give it its nominal length instead.
  if (end.getTime() <= start.getTime()) {
    const nominalMinutes = (w.endMinute - w.startMinute + 1440) % 1440;
    end = new Date(start.getTime() + nominalMinutes * 60_000);
  }
  return { start, end, night: localDate(start) };
}

/** The window `now` is inside, else the next one to open. */
export function currentOrNextWindow(now: Date, w: DailyWindow): WindowSpan {
  for (let offset = -1; offset <= 2; offset++) {
    const span = windowOpeningOn(now.getFullYear(), now.getMonth(), now.getDate() + offset, w);
    if (now.getTime() < span.end.getTime()) return span;
  }
  throw new Error('unreachable: a daily window always ends within two days');
}

/** The window after `span` (the next night's). */
export function windowAfter(span: WindowSpan, w: DailyWindow): WindowSpan {
  const s = span.start;
  return windowOpeningOn(s.getFullYear(), s.getMonth(), s.getDate() + 1, w);
}

export function isInside(now: Date, span: WindowSpan): boolean {
  return now.getTime() >= span.start.getTime() && now.getTime() < span.end.getTime();
}

/**
 * A random start time for tonight's backup: uniform between now (or the
 * window's start) and the latest start, which leaves the last quarter of the
 * window (at most an hour) for retries while the database is down.
 */
export function pickRunTime(span: WindowSpan, now: Date, random: () => number): Date {
  const length = span.end.getTime() - span.start.getTime();
  const latest = span.end.getTime() - Math.min(60 * 60_000, length / 4);
  const earliest = Math.max(now.getTime(), span.start.getTime());
  if (earliest >= latest) return new Date(earliest);
  return new Date(earliest + Math.floor(random() * (latest - earliest)));
}
