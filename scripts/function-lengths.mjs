#!/usr/bin/env node
/**
 * Functions in src/ longer than a limit (default 100 lines, the house rule:
 * a function is read in one sitting). Exit 1 if any, listing them, longest first.
 *   node scripts/function-lengths.mjs [--max N] [--top K]
 */
import fs from 'node:fs';
import path from 'node:path';
import { SRC, sourceFiles } from './src-files.mjs';
import ts from 'typescript';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const max = arg('--max', 100);
const top = arg('--top', 0);
const root = SRC;
const found = [];

function scan(file) {
  const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && node.body) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart()).line;
      const last = sf.getLineAndCharacterOfPosition(node.end).line;
      const name = node.name ? node.name.getText(sf) : '(anonymous)';
      found.push({ lines: last - first + 1, where: `${path.relative(root, file)}:${first + 1} ${name}` });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}


for (const file of sourceFiles()) scan(file);
found.sort((a, b) => b.lines - a.lines);
const over = found.filter((f) => f.lines > max);
for (const f of top ? found.slice(0, top) : over) console.log(`${String(f.lines).padStart(4)} ${f.where}`);
console.log(over.length ? `${over.length} function(s) over ${max} lines` : `${found.length} functions, none over ${max} lines (longest ${found[0]?.lines ?? 0})`);
process.exit(over.length ? 1 : 0);
