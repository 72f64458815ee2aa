#!/usr/bin/env node
/**
 * The fast loop: the test files that need no server (no MariaDB, no sandbox,
 * no S3 gateway), decided from their imports so the list cannot drift. A file
 * is out when it, or a test-local file it imports (followed through test/),
 * imports a helper that reaches a server, or src/sandbox/ (which starts
 * servers). Everything else runs with Node's test runner, as `npm test` does,
 * with LASTRESORT_TEST_FAST=1: a test whose slowest case the full run covers
 * anyway may skip that case (test/damage/tar-stream.test.ts: byte by byte).
 *   node scripts/unit-tests.mjs            run them (extra arguments go to node --test)
 *   node scripts/unit-tests.mjs --list     print the chosen files, then the others with the reason
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const ROOT = path.resolve(import.meta.dirname, '..');
const TEST = path.join(ROOT, 'test');
const rel = (file) => path.relative(ROOT, file);

/** Test-local files that reach a server when used; importing one puts a test file in the full run only. */
const SERVER_HELPERS = new Set(
  ['helpers/db.ts', 'helpers/backup.ts', 'helpers/second-server.ts', 'helpers/tls-server.ts', 'helpers/office.ts',
    'helpers/outside.ts', 'offsite/gateway.ts'].map((f) => path.join(TEST, f)),
);
/** Under src/: folders whose use starts a server. */
const SERVER_SRC = [path.join(ROOT, 'src', 'sandbox') + path.sep];

function imports(file) {
  const text = fs.readFileSync(file, 'utf8');
  const out = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
    out.push(path.resolve(path.dirname(file), m[1]).replace(/\.js$/, '.ts'));
  }
  return out;
}

/** Why `file` needs a server (the import chain), or null. */
function needsServer(file, seen = new Set()) {
  if (seen.has(file)) return null;
  seen.add(file);
  for (const dep of imports(file)) {
    if (SERVER_HELPERS.has(dep) || SERVER_SRC.some((dir) => dep.startsWith(dir))) return `${rel(file)} imports ${rel(dep)}`;
    if (dep.startsWith(TEST + path.sep) && fs.existsSync(dep)) {
      const why = needsServer(dep, seen);
      if (why) return why;
    }
  }
  return null;
}

const files = fs.readdirSync(TEST, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => fs.readdirSync(path.join(TEST, d.name)).filter((f) => f.endsWith('.test.ts')).map((f) => path.join(TEST, d.name, f)))
  .sort();
const unit = [];
const others = [];
for (const file of files) {
  const why = needsServer(file);
  if (why) others.push(`${rel(file)}: ${why}`);
  else unit.push(rel(file));
}

if (process.argv.includes('--list')) {
  console.log(`${unit.length} of ${files.length} test files need no server:`);
  for (const f of unit) console.log(`  ${f}`);
  console.log(`${others.length} are in the full run only:`);
  for (const f of others) console.log(`  ${f}`);
  process.exit(0);
}
// Some of them run the built CLI (test/helpers/cli.ts): build first when dist/ is older than src/.
const newest = (dir) => fs.readdirSync(dir, { recursive: true }).reduce((t, f) => Math.max(t, fs.statSync(path.join(dir, f)).mtimeMs), 0);
const cli = path.join(ROOT, 'dist', 'cli.js');
if (!fs.existsSync(cli) || fs.statSync(cli).mtimeMs < newest(path.join(ROOT, 'src'))) {
  console.log('dist/ is older than src/: npm run build');
  const b = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...process.argv.slice(2), ...unit], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, LASTRESORT_TEST_FAST: '1' },
});
process.exit(r.status ?? 1);
