/**
 * What a person or a script reads: JSON on stdout with --json, plain lines
 * otherwise. Every line goes through `neutralise`, since names from a backup
 * (tables, the admin, the database) can end up in any of them.
 */
export function printJson(value: unknown): void {
  process.stdout.write(jsonSafe(JSON.stringify(value, null, 2)) + '\n');
}

export function say(line = ''): void {
  process.stdout.write(neutralise(line) + '\n');
}

/** Progress and notes for a person go to stderr, so stdout stays clean for data. */
export function note(line: string): void {
  process.stderr.write(neutralise(line) + '\n');
}

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

/**
 * A command that finished but whose result is not a success (a partial
 * restore, a validation with differences) sets the exit code here; src/cli.ts
 * turns it into the process's exit code.
 */
let resultCode = 0;
export function setResultCode(code: number): void {
  resultCode = Math.max(resultCode, code);
}
export function getResultCode(): number {
  return resultCode;
}
