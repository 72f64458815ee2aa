#!/usr/bin/env node
/**
 * Which folder of src/ imports which (a top-level file counts as its own
 * folder), and whether any two folders import each other, or any longer
 * cycle closes. Exit 1 on either, listing the imports of a pair and the cycle. `-v` also lists every edge.
 *   node scripts/folder-imports.mjs [-v]
 */
import fs from 'node:fs';
import path from 'node:path';
import { SRC, sourceFiles } from './src-files.mjs';

const root = SRC;
const edges = new Map();
const unit = (file) => path.relative(root, file).split(path.sep)[0];

function scan(file) {
  const text = fs.readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
    const from = unit(file);
    const to = unit(path.resolve(path.dirname(file), m[1]));
    if (from === to) continue;
    const key = `${from} -> ${to}`;
    if (!edges.has(key)) edges.set(key, []);
    edges.get(key).push(`${path.relative(root, file)} imports ${m[1]}`);
  }
}


for (const file of sourceFiles()) scan(file);
if (process.argv.includes('-v')) for (const key of [...edges.keys()].sort()) console.log(key);
let pairs = 0;
for (const [key, imports] of edges) {
  const [a, b] = key.split(' -> ');
  const back = edges.get(`${b} -> ${a}`);
  if (!back || a > b) continue;
  pairs++;
  console.log(`${a} <-> ${b}`);
  for (const line of [...imports, ...back]) console.log(`  ${line}`);
}

// Longer cycles (a -> b -> c -> a): any folder that reaches itself through others.
const next = new Map();
for (const key of edges.keys()) {
  const [a, b] = key.split(' -> ');
  if (!next.has(a)) next.set(a, []);
  next.get(a).push(b);
}
function pathBack(start) {
  const seen = new Set();
  const walk = (at, trail) => {
    for (const to of next.get(at) ?? []) {
      if (to === start) return [...trail, to];
      if (seen.has(to)) continue;
      seen.add(to);
      const found = walk(to, [...trail, to]);
      if (found) return found;
    }
    return null;
  };
  return walk(start, [start]);
}
const cycles = new Set();
for (const unit of [...next.keys()].sort()) {
  const cycle = pathBack(unit);
  if (!cycle || cycle.length <= 3) continue; // pairs are listed above
  const ring = cycle.slice(0, -1);
  const first = ring.indexOf([...ring].sort()[0]);
  cycles.add([...ring.slice(first), ...ring.slice(0, first), ring[first]].join(' -> '));
}
for (const c of cycles) console.log(`cycle: ${c}`);
const bad = pairs + cycles.size;
console.log(bad ? `${pairs} pair(s) of folders import each other, ${cycles.size} longer cycle(s)` : `${edges.size} folder-to-folder imports, no two folders import each other, no longer cycle`);
process.exit(bad ? 1 : 0);
