/**
 * What a person or a script reads: JSON on stdout with --json, plain lines
 * otherwise. Every line goes through `neutralise`, since names from a backup
 * (tables, the admin, the database) can end up in any of them.
 */
import { jsonSafe, neutralise } from '../text.js';

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
