/**
 * The zstd module (src/format/zstd/): the embedded WebAssembly is the
 * installed package's, byte for byte; frames round trip at every span size
 * the format allows; decoding is exact (room for the span, no more, no
 * fewer); the frame rules refuse what docs/format.md 9.3 refuses; the writer's
 * fallback frame of raw blocks passes them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zstd } from '../../src/format/zstd/wasm.js';
import { frameProblem, rawFrame } from '../../src/format/zstd/frame.js';
import { packChunk, unpackChunk } from '../../src/format/zstd/chunk.js';
import { ZSTD_WASM, ZSTD_WASM_SHA256 } from '../../src/format/zstd/zstd-wasm.gen.js';
import { ZSTD_FRAME_SLACK } from '../../src/format/limits.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('the embedded zstd module is the one @bokuweb/zstd-wasm installs (scripts/embed-zstd.mjs --check)', () => {
  const out = execFileSync(process.execPath, [join(ROOT, 'scripts/embed-zstd.mjs'), '--check'], { cwd: ROOT, encoding: 'utf8' });
  assert.match(out, /matches @bokuweb\/zstd-wasm 0\.0\.27/);
  const installed = readFileSync(join(dirname(createRequire(import.meta.url).resolve('@bokuweb/zstd-wasm')), 'zstd.wasm'));
  assert.ok(Buffer.from(ZSTD_WASM, 'base64').equals(installed));
  assert.equal(createHash('sha256').update(installed).digest('hex'), ZSTD_WASM_SHA256);
});

const text = (n: number) => Buffer.from('7\tSmith\tJohn\t1961-03-14\t\\N\tnote for patient\n'.repeat(Math.ceil(n / 44) + 1)).subarray(0, n);

test('frames round trip at every span the format allows, text, random and constant, within the slack', () => {
  for (const n of [0, 1, 255, 256, 1024, 65535, 65791, 65792, 131071, 131072, 131073, 262144, 1048575, 1048576]) {
    for (const [kind, data] of [['text', text(n)], ['random', randomBytes(n)], ['zeros', Buffer.alloc(n)]] as const) {
      const frame = packChunk(data);
      assert.equal(frameProblem(frame, n), null, `${kind} ${n}: the rules pass zstd's frame`);
      assert.ok(frame.length <= n + ZSTD_FRAME_SLACK, `${kind} ${n}: ${frame.length} bytes`);
      assert.ok(unpackChunk(frame, n)?.equals(data), `${kind} ${n}: decodes to the span`);
      assert.equal(unpackChunk(frame, n + 1), null, `${kind} ${n}: not as a longer span`);
      if (n > 0) assert.equal(unpackChunk(frame, n - 1), null, `${kind} ${n}: not as a shorter span`);
      const raw = rawFrame(data);
      assert.equal(frameProblem(raw, n), null, `${kind} ${n}: the rules pass the raw frame`);
      assert.ok(raw.length <= n + 33 && zstd().decompress(raw, n)?.equals(data), `${kind} ${n}: the raw frame`);
    }
  }
});

test('decoding gets room for the span only: a frame of more content fails inside zstd, memory stays put', () => {
  const big = zstd().compress(text(200_000), 3);
  const before = zstd()['memory'].buffer.byteLength;
  assert.equal(zstd().decompress(big, 1024), null);
  assert.equal(zstd()['memory'].buffer.byteLength, before);
});

test('the frame rules refuse each departure from docs/format.md 9.3', () => {
  const span = text(4096);
  const good = packChunk(span);
  const edit = (f: (b: Buffer) => Buffer | void) => {
    const b = Buffer.from(good);
    return f(b) ?? b;
  };
  assert.equal(frameProblem(edit((b) => void (b[0] = 0x29)), 4096), 'not a zstd frame');
  assert.equal(frameProblem(edit((b) => void (b[4] |= 0x01)), 4096), 'dictionary');
  assert.equal(frameProblem(edit((b) => void (b[4] &= ~0x20)), 4096), 'window');
  assert.equal(frameProblem(edit((b) => void (b[4] |= 0x08)), 4096), 'reserved bit');
  assert.equal(frameProblem(good, 4095), 'content size');
  assert.equal(frameProblem(edit((b) => Buffer.concat([b, Buffer.from([0])])), 4096), 'length');
  assert.equal(frameProblem(good.subarray(0, good.length - 1), 4096), 'length');
  assert.equal(frameProblem(Buffer.alloc(3), 0), 'not a zstd frame');
});
