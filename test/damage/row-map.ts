/**
 * The yardstick for "rows lost": a map from plaintext bytes to rows, built
 * from a good backup's whole plaintext without the reader under test (its
 * own tar walk and LF split), and the theoretical minimum loss for a set of
 * damaged plaintext ranges: the rows whose encoded bytes touch the damage.
 */
import { openBackup } from '../../src/decrypt/open.js';
import { readPayload } from '../../src/format/reader.js';

export interface MappedEntry {
  path: string;
  pax: Record<string, string>;
  /** Plaintext offset of the entry's first header block (the pax header when there is one). */
  headerStart: number;
  dataStart: number;
  dataEnd: number;
}

export interface RowMap {
  entries: MappedEntry[];
  /** Per table name: every row's [start, end) in plaintext (end is past its LF), in file order. */
  rows: Map<string, [number, number][]>;
  /** Per table name: [first byte of its schema entry's header, end of its summary entry). */
  extents: Map<string, [number, number]>;
  plaintextBytes: number;
}

/** Decrypts a good backup to one buffer; throws if the file has any damage. */
export async function decryptWhole(file: string, password: string): Promise<Buffer> {
  const { segments, damage } = readPayload((await openBackup(file, password)).unlocked);
  const parts: Buffer[] = [];
  for await (const s of segments) {
    if (s.hole !== undefined) throw new Error(`decryptWhole: ${file} has a hole at ${s.offset}`);
    parts.push(s.data);
  }
  if (damage.damagedChunks > 0 || damage.truncated) throw new Error(`decryptWhole: ${file} is damaged`);
  return Buffer.concat(parts);
}

function octal(block: Buffer, at: number, len: number): number {
  return parseInt(block.toString('latin1', at, at + len).replace(/[\0 ]+$/, '').trim() || '0', 8);
}

function cstring(block: Buffer, at: number, len: number): string {
  const end = block.indexOf(0, at);
  return block.toString('utf8', at, end < 0 || end > at + len ? at + len : end);
}

function paxRecords(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (let at = 0; at < body.length; ) {
    const space = body.indexOf(0x20, at);
    const len = Number(body.toString('latin1', at, space));
    const record = body.toString('utf8', space + 1, at + len - 1);
    const eq = record.indexOf('=');
    out[record.slice(0, eq)] = record.slice(eq + 1);
    at += len;
  }
  return out;
}

/** Walks an undamaged tar (as tar-stream writes it) and splits every data piece into rows. */
export function mapRows(plaintext: Buffer): RowMap {
  const entries: MappedEntry[] = [];
  const rows = new Map<string, [number, number][]>();
  const extents = new Map<string, [number, number]>();
  let pax: Record<string, string> = {};
  let paxStart = -1;
  for (let at = 0; at + 512 <= plaintext.length; ) {
    const block = plaintext.subarray(at, at + 512);
    if (block.every((b) => b === 0)) break;
    const size = octal(block, 124, 12);
    const type = String.fromCharCode(block[156] || 0x30);
    const name = cstring(block, 0, 100);
    const prefix = cstring(block, 345, 155);
    const dataStart = at + 512;
    const next = dataStart + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      pax = paxRecords(plaintext.subarray(dataStart, dataStart + size));
      paxStart = at;
      at = next;
      continue;
    }
    const path = pax.path ?? (prefix ? `${prefix}/${name}` : name);
    const entry: MappedEntry = { path, pax, headerStart: paxStart >= 0 ? paxStart : at, dataStart, dataEnd: dataStart + size };
    entries.push(entry);
    const table = pax['LR.table'];
    if (table !== undefined && /^tables\/\d{5}\//.test(path)) {
      const ext = extents.get(table) ?? [entry.headerStart, entry.dataEnd];
      extents.set(table, [Math.min(ext[0], entry.headerStart), Math.max(ext[1], next)]);
    }
    if (/^tables\/\d{5}\/data\/\d{6}\.tsv$/.test(path) && table !== undefined) {
      const list = rows.get(table) ?? [];
      rows.set(table, list);
      let start = dataStart;
      for (let lf = plaintext.indexOf(0x0a, start); lf >= 0 && lf < entry.dataEnd; lf = plaintext.indexOf(0x0a, start)) {
        list.push([start, lf + 1]);
        start = lf + 1;
      }
      if (start !== entry.dataEnd) throw new Error(`mapRows: ${path} does not end with a whole row`);
    }
    pax = {};
    paxStart = -1;
    at = next;
  }
  // Summaries (JSON, no pax) close each table's extent.
  for (const e of entries) {
    const m = /^tables\/(\d{5})\/summary\.json$/.exec(e.path);
    if (!m) continue;
    const name = (JSON.parse(plaintext.toString('utf8', e.dataStart, e.dataEnd)) as { name: string }).name;
    const ext = extents.get(name);
    if (ext) ext[1] = Math.max(ext[1], e.dataStart + Math.ceil((e.dataEnd - e.dataStart) / 512) * 512);
    if (!rows.has(name)) rows.set(name, []);
  }
  return { entries, rows, extents, plaintextBytes: plaintext.length };
}

export interface TableMinimum {
  /** Rows whose bytes intersect a damaged range. */
  touched: number;
  /** Damaged ranges that meet the table's extent: each may cost one more row on each side. */
  ranges: number;
}

const meets = (a: [number, number], b: [number, number]) => a[0] < b[1] && b[0] < a[1];

/** Per table: the rows that touch `damaged` ([start, end) plaintext ranges), the theoretical minimum loss. */
export function minimumLoss(map: RowMap, damaged: [number, number][]): Map<string, TableMinimum> {
  const out = new Map<string, TableMinimum>();
  const sorted = [...damaged].sort((a, b) => a[0] - b[0]);
  for (const [table, list] of map.rows) {
    let touched = 0;
    for (const row of list) if (sorted.some((d) => meets(row, d))) touched++;
    const ext = map.extents.get(table);
    const ranges = ext ? sorted.filter((d) => meets(ext, d)).length : 0;
    out.set(table, { touched, ranges });
  }
  return out;
}

/** Chunk index ranges (inclusive) to plaintext byte ranges, clipped to the plaintext. */
export function plaintextRanges(chunkRanges: [number, number][], chunkSize: number, plaintextBytes: number): [number, number][] {
  return chunkRanges.map(([a, b]) => [a * chunkSize, Math.min((b + 1) * chunkSize, plaintextBytes)] as [number, number]).filter(([s, e]) => e > s);
}

/** Chunk indexes to inclusive ranges. */
export function toRanges(chunks: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const c of [...new Set(chunks)].sort((a, b) => a - b)) {
    const last = out[out.length - 1];
    if (last && last[1] + 1 === c) last[1] = c;
    else out.push([c, c]);
  }
  return out;
}
