/** The TypeScript files under src/, for the house-check scripts beside this one. */
import fs from 'node:fs';
import path from 'node:path';

export const SRC = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'src');

export function sourceFiles(dir = SRC, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) sourceFiles(p, out);
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}
