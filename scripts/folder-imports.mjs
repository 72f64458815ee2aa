#!/usr/bin/env node
/**
 * Which folder of src/ imports which (a top-level file counts as its own
 * folder), and whether any two folders import each other. Exit 1 on such a
 * pair, listing the imports that make it. `-v` also lists every edge.
 *   node scripts/folder-imports.mjs [-v]
 */
import fs from 'node:fs';
import path from 'node:path';

const root = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'src');
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

function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (p.endsWith('.ts')) scan(p);
  }
}

walk(root);
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
console.log(pairs ? `${pairs} pair(s) of folders import each other` : `${edges.size} folder-to-folder imports, no two folders import each other`);
process.exit(pairs ? 1 : 0);
