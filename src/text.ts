/**
 * Text for people from any stage: names from a backup made harmless for a
 * terminal or a report (`neutralise`, `safeText`, `jsonSafe`) and sizes and dates
 * in words. No output here: `cli/output.ts` prints, `report/` renders.
 */
// C0 and C1 controls, DEL, zero-width and bidi overrides: a terminal obeys them, a person cannot see them.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const visible = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Control characters and terminal escape sequences are made visible (ESC becomes \u001b), never obeyed. */
export function neutralise(text: string): string {
  return text.replace(UNSAFE, visible);
}

const UNSAFE_IN_JSON = /[\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON text with what JSON.stringify leaves raw (C1, DEL, bidi) escaped too:
 * the same JSON value. C0 is already escaped inside strings, and the newlines
 * between values are the layout's.
 */
export function jsonSafe(json: string): string {
  return json.replace(UNSAFE_IN_JSON, visible);
}

/** Text that comes from a file, neutralised and cut to `max` characters. */
export function safeText(text: string, max = 200): string {
  const cleaned = neutralise(text);
  return cleaned.length > max ? cleaned.slice(0, max) + '…' : cleaned;
}

export function humanBytes(n: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function humanDate(iso: string | null): string {
  if (!iso) return 'never';
  const d = new Date(iso.includes('T') ? iso : iso.replace(' ', 'T'));
  if (Number.isNaN(d.getTime())) return safeText(iso, 40);
  return d.toLocaleString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}
