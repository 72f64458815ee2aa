/**
 * The vector suite, for one folder of vectors (version 2 in this folder,
 * version 3 in v3/): every vector fed to the reader whole, byte by byte, and
 * in odd 321-byte slices; scanFrames must yield the same frames and
 * decryptFrames the same segments and damage report every way. Then the
 * result is judged against how the vector was made: data only where the
 * plaintext is, byte for byte; holes exactly at the chunks the damage
 * destroyed. `check` without the password (the same walker judging by
 * checksums) must find the same chunks lost, the copy verification must call
 * only the good file whole, and the real `decrypt` command must write
 * exactly the plaintext, lost chunks as zeros, and never more.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { scanFrames, type FrameEvent } from '../../src/format/chunks.js';
import { decryptFrames, locateHeader, newDamageReport, payloadFrames, shapeOf, unlockBackup, type DamageReport, type Segment } from '../../src/format/reader.js';
import { checkFile } from '../../src/identify/check.js';
import { acceptByChecksum, walkFrames } from '../../src/format/walker.js';
import { fingerprintBackup } from '../../src/service/verify-copy.js';
import { CLI } from '../helpers/cli.js';
import { tempDir } from '../helpers/files.js';
import { fileTagOf } from '../../src/format/header.js';
import { isLrError } from '../../src/errors.js';
import { VECTOR_PASSWORD, type VectorSpec } from './plaintext.js';

export type Feed = 'whole' | 'byte by byte' | '321-byte slices';

export async function* feed(bytes: Buffer, how: Feed): AsyncGenerator<Buffer> {
  if (how === 'whole') yield bytes;
  else {
    const step = how === 'byte by byte' ? 1 : 321;
    for (let at = 0; at < bytes.length; at += step) yield bytes.subarray(at, at + step);
  }
}

/** Frame events as comparable text (sealed bytes by checksum). */
function describeFrames(events: FrameEvent[]): string[] {
  return events.map((e) => (e.type === 'garbage' ? `garbage ${e.fileOffset}+${e.length}` : `frame ${e.index}${e.final ? ' final' : ''} at ${e.fileOffset}+${e.frameLength} sealed ${e.sealed.length}/${e.sealedLength} crc ${crc32(e.sealed)} ${e.bodyIntact ? 'intact' : 'damaged'}`));
}

export function describeSegments(segments: Segment[]): string[] {
  return segments.map((s) => (s.data ? `data ${s.offset}+${s.data.length} crc ${crc32(s.data)}` : `hole ${s.offset}+${s.hole}`));
}

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function* replay<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

export interface VectorFolder {
  /** The folder's URL, ending in '/'. */
  folder: URL;
  plaintext: Buffer;
  chunkSize: number;
}

export function vectorTests({ folder, plaintext, chunkSize }: VectorFolder): void {
  const specs = JSON.parse(readFileSync(new URL('vectors.json', folder), 'utf8')) as VectorSpec[];
  const pathOf = (file: string) => fileURLToPath(new URL(file, folder));
  for (const spec of specs) {
    test(`${spec.file}: ${spec.note}`, async () => {
      const path = pathOf(spec.file);
      if (spec.error) {
        await assert.rejects(locateHeader(path), (err: unknown) => isLrError(err) && err.code === spec.error, `expected ${spec.error}`);
        return;
      }
      const located = await locateHeader(path);
      const unlocked = (await unlockBackup(located, VECTOR_PASSWORD))!;
      assert.ok(unlocked, 'the password opens it');
      const payload = (await readFile(path)).subarray(located.payloadOffset);
      const opts = { fileTag: fileTagOf(located.header), chunkSize: located.header.chunkSize, startOffset: located.payloadOffset, version: located.header.formatVersion };
      const shape = shapeOf(located);

      const runs: { how: Feed; frames: string[]; segments: string[]; damage: DamageReport; raw: Segment[] }[] = [];
      for (const how of ['whole', 'byte by byte', '321-byte slices'] as Feed[]) {
        const frames = await collect(scanFrames(feed(payload, how), opts));
        const damage = newDamageReport(located.headerCopyUsed);
        const raw = await collect(decryptFrames(replay(frames), unlocked.payloadKey, shape, damage));
        // The same walk without the key (check's rule) loses the same chunks, fed each way.
        const unkeyed = newDamageReport(located.headerCopyUsed);
        await collect(walkFrames(replay(frames), shape, acceptByChecksum(shape), unkeyed));
        assert.deepEqual([unkeyed.damagedRanges, unkeyed.chunks, unkeyed.truncated], [damage.damagedRanges, damage.chunks, damage.truncated], `without the key, ${how}`);
        runs.push({ how, frames: describeFrames(frames), segments: describeSegments(raw), damage, raw });
      }
      // The reader proper (file stream, 256 KiB reads, frames straight into decryption) agrees too.
      const fileDamage = newDamageReport(located.headerCopyUsed);
      const fromFile = await collect(decryptFrames(payloadFrames(located), unlocked.payloadKey, shape, fileDamage));
      const [whole] = runs;
      for (const r of runs.slice(1)) {
        assert.deepEqual(r.frames, whole!.frames, `frames ${r.how}`);
        assert.deepEqual(r.segments, whole!.segments, `segments ${r.how}`);
        assert.deepEqual(r.damage, whole!.damage, `damage ${r.how}`);
      }
      assert.deepEqual(describeSegments(fromFile), whole!.segments, 'read from the file');
      assert.deepEqual(fileDamage, whole!.damage, 'damage read from the file');

      // Judged against the truth: data is the plaintext, holes are the destroyed chunks.
      const { raw, damage } = whole!;
      const cs = opts.chunkSize;
      let pos = 0;
      const holes = new Set<number>();
      for (const s of raw) {
        assert.equal(s.offset, pos, 'segments are contiguous from 0');
        if (s.data) assert.ok(s.data.equals(plaintext.subarray(s.offset, s.offset + s.data.length)), `data at ${s.offset} is the plaintext`);
        else for (let c = s.offset / cs; c < (s.offset + s.hole) / cs; c++) holes.add(c);
        pos += s.data ? s.data.length : s.hole;
      }
      assert.equal(damage.truncated, spec.truncated, 'truncated');
      if (spec.truncated) {
        assert.equal(pos, spec.lostChunks[0]! * cs, 'everything before the cut chunk is read');
        assert.deepEqual([...holes], [], 'no holes before the cut');
      } else {
        assert.equal(pos, plaintext.length, 'the whole plaintext is accounted for');
        assert.deepEqual([...holes].sort((a, b) => a - b), spec.lostChunks, 'holes exactly where chunks were destroyed');
        assert.equal(damage.chunks, Math.ceil(plaintext.length / cs));
      }
      assert.equal(damage.damagedChunks, holes.size);
      assert.equal(damage.headerCopyUsed, spec.file.startsWith('zero-first-header'));

      // Without the password, the same walker judging by checksums finds the same.
      const { sizes: plainSizes, ...plain } = await checkFile(path);
      assert.deepEqual({ ranges: plain.damagedRanges, chunks: plain.chunks, truncated: plain.truncated }, { ranges: damage.damagedRanges, chunks: damage.chunks, truncated: damage.truncated }, 'check without the password agrees with the keyed reader');
      const { places: _places, sizes: keyedSizes, ...keyed } = await checkFile(path, { password: VECTOR_PASSWORD });
      assert.deepEqual(plain, keyed, 'check says the same with and without the password');
      // Sizes: exact only where nothing was lost, and then the plaintext's length, with or without the password.
      const lost = damage.damagedChunks > 0 || damage.truncated;
      for (const sizes of [plainSizes!, keyedSizes!]) assert.equal(sizes.exact, !lost, 'sizes exact only when nothing is lost');
      if (!lost) for (const sizes of [plainSizes!, keyedSizes!]) assert.equal(sizes.uncompressedBytes, plaintext.length, 'the uncompressed size is the payload\'s');
      const print = await fingerprintBackup(path);
      assert.equal(print.whole, spec.file === 'good.lrb', 'the copy verification calls only the good file whole');
    });
  }

  /**
   * Runs `decrypt --out -` and keeps its stdout, but stops it once it has
   * written more than `cap` bytes: a reader that declares a giant hole must
   * fail this test, not fill the disk or memory.
   */
  function decryptToStdout(file: string, passwordFile: string, cap: number): Promise<{ code: number | null; out: Buffer; stderr: string; stopped: boolean }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, 'decrypt', file, '--out', '-', '--password-file', passwordFile], { stdio: ['ignore', 'pipe', 'pipe'] });
      const parts: Buffer[] = [];
      let bytes = 0;
      let stderr = '';
      let stopped = false;
      child.stdout.on('data', (d: Buffer) => {
        bytes += d.length;
        if (bytes <= cap) parts.push(d);
        else if (!stopped) (stopped = true), child.kill('SIGKILL');
      });
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out: Buffer.concat(parts), stderr, stopped }));
    });
  }

  test('decrypt (the command) writes the plaintext with lost chunks as zeros, and never more than the plaintext', { timeout: 300_000 }, async (t) => {
    const dir = await tempDir('lr-vectors-');
    const pw = join(dir, 'password.txt');
    await writeFile(pw, `${VECTOR_PASSWORD}\n`, { mode: 0o600 });
    try {
      for (const spec of specs.filter((s) => !s.error)) {
        await t.test(spec.file, async () => {
          const r = await decryptToStdout(pathOf(spec.file), pw, plaintext.length);
          assert.equal(r.stopped, false, `decrypt wrote more than the ${plaintext.length} bytes of plaintext`);
          assert.equal(r.code, spec.lostChunks.length || spec.truncated ? 3 : 0, r.stderr);
          assert.equal(r.out.length, spec.truncated ? spec.lostChunks[0]! * chunkSize : plaintext.length, 'the plaintext up to the cut, or all of it');
          const expected = Buffer.from(plaintext.subarray(0, r.out.length));
          for (const c of spec.lostChunks) if (c * chunkSize < expected.length) expected.fill(0, c * chunkSize, Math.min(expected.length, (c + 1) * chunkSize));
          assert.ok(r.out.equals(expected), 'the plaintext, lost chunks as zeros');
        });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}
