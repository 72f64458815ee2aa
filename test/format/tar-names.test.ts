/**
 * The tar writer gives every entry its real path in the ustar header, not
 * only in the pax record (tar-stream names both "PaxHeader"): when the pax
 * block is lost, the surviving header still says which table and piece it is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TarWriter } from '../../src/archive/tar-writer.js';
import { decodeHeader, readTar } from '../../src/archive/tar-reader.js';
import { roleOf } from '../../src/archive/layout.js';
import type { Segment } from '../../src/format/reader.js';

async function tarOf(entries: [string, string, Record<string, string>?][]): Promise<Buffer> {
  const w = new TarWriter();
  const parts: Buffer[] = [];
  const done = (async () => {
    for await (const b of w.stream) parts.push(b as Buffer);
  })();
  for (const [name, body, pax] of entries) await w.entry(name, Buffer.from(body), pax);
  w.finish();
  await done;
  return Buffer.concat(parts);
}

test('each ustar header carries the real path; a lost pax block leaves the entry named by its own header', async () => {
  const tar = await tarOf([
    ['catalog.json', '{}'],
    ['tables/00001/schema.sql', 'CREATE TABLE t (a INT)', { 'LR.table': 't' }],
    ['tables/00002/data/000003.tsv', '1\tx\n2\ty\n', { 'LR.table': 'patient', 'LR.rows': '2', 'LR.firstRow': '40' }],
    ['manifest.json', '{}'],
  ]);
  // Every header block: the pax ones say "PaxHeader/<path>", the entries their path; all checksums hold.
  const names: string[] = [];
  for (let at = 0; at + 512 <= tar.length; at += 512) {
    const h = decodeHeader(tar.subarray(at, at + 512));
    if (h) names.push(`${h.type} ${h.path}`);
  }
  assert.ok(names.includes('x PaxHeader/tables/00002/data/000003.tsv'), names.join(', '));
  assert.ok(names.some((n) => n.endsWith(' tables/00002/data/000003.tsv') && !n.startsWith('x ')), names.join(', '));
  assert.ok(!names.some((n) => / PaxHeader$/.test(n)), 'no header is named only "PaxHeader"');

  // Lose the pax header and body of the data piece (as a lost chunk would), keep the rest.
  const paxAt = tar.indexOf('PaxHeader/tables/00002/data/000003.tsv');
  const entryAt = paxAt + 1024;
  const segments: Segment[] = [{ offset: 0, data: tar.subarray(0, paxAt) }, { offset: paxAt, hole: 1024 }, { offset: entryAt, data: tar.subarray(entryAt) }];
  async function* source() {
    yield* segments;
  }
  const seen: string[] = [];
  for await (const { entry, body } of readTar(source())) {
    for await (const _ of body) void _;
    if (!entry.orphan) seen.push(entry.path);
  }
  const piece = seen.find((p) => p.startsWith('tables/00002/'));
  assert.equal(piece, 'tables/00002/data/000003.tsv', `entries read: ${seen.join(', ')}`);
  assert.deepEqual(roleOf(piece!), { role: 'data', table: 2, piece: 3 });
});
