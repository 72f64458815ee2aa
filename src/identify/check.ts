/**
 * `check`: is the file whole? Without the password it walks the frames
 * with the same walker as the restore (format/walker.ts), judging each frame
 * by its checksums and a plausible index instead of authentication, so on
 * accidental damage both find the same chunks lost. A chunk that passes here
 * can still fail authentication if someone altered it on purpose; restore
 * will say so.
 *
 * With the password it decrypts instead (authentication is the judge) and
 * walks the tar, to say which tables each damaged stretch falls in. Entries
 * come in table-index order, so a stretch between an entry of table i and
 * one of table j touches exactly tables i..j, even those it swallowed whole.
 */
import { locateHeader, newDamageReport, payloadFrames, readTailHeaderCopy, shapeOf, type ByteSource, type DamageReport, type LocatedHeader, type Segment } from '../format/reader.js';
import { acceptAuthentic, acceptByChecksum, walkFrames } from '../format/walker.js';
import type { FrameEvent } from '../format/chunks.js';
import { fileTagOf } from '../format/header.js';
import { indexFrameIntact, readIndexFrameBytes } from '../format/index-frame.js';
import { openBackup } from '../decrypt/open.js';
import { readTar, readWhole } from '../archive/tar-reader.js';
import { PAX_TABLE, roleOf, type Catalog, type Manifest } from '../archive/layout.js';
import { AUTHENTIC_BASIS, HEADS_BASIS, SizeTally, type PayloadSizes } from './sizes.js';

export interface CheckResult {
  intact: boolean;
  complete: boolean;
  chunks: number;
  damagedChunks: number;
  damagedRanges: [number, number][];
  truncated: boolean;
  headerCopyUsed: boolean;
  firstHeaderIntact: boolean;
  strayBytes: number;
  fileBytes: number;
  /** crc32 of each chunk's sealed bytes, for comparing a copy without the password. */
  chunkChecksums?: number[];
  /** With the password only: what each damaged stretch holds. */
  places?: DamagedPlace[];
  /**
   * False when only the two header copies were checked (checkHeaderCopies):
   * the parts are then checked as the restore reads them, and the figures
   * above say nothing of them.
   */
  partsChecked?: boolean;
  /** File, compressed and uncompressed sizes; absent when the parts were not read (checkHeaderCopies) or, with the password, for a file in the store. */
  sizes?: PayloadSizes;
}

export interface DamagedPlace {
  /** Inclusive chunk range; `to` null: from `from` to the end (the file is cut short). */
  from: number;
  to: number | null;
  /** Tables some of whose rows or definition lie there (catalog order). */
  tables: string[];
  /** Other parts it holds: 'catalog', 'objects' (views, triggers, routines, events), 'manifest'. */
  other: string[];
}

export async function checkFile(file: string | ByteSource, opts: { located?: LocatedHeader; password?: string; onProgress?: (fileOffset: number, fileBytes: number) => void } = {}): Promise<CheckResult> {
  const located = opts.located ?? (await locateHeader(file));
  if (opts.password !== undefined) return checkWithPassword(located, opts.password);
  return checkFrames(located, payloadFrames(located), { onProgress: opts.onProgress });
}

export interface FrameCheckOptions {
  onProgress?: (fileOffset: number, fileBytes: number) => void;
  /** End at the first lost chunk, the rest unread. */
  stopAtDamage?: boolean;
  /** Where to read the header copy at the end from, once the frames are through (default: the file's source). */
  tailFrom?: () => Promise<ByteSource>;
}

/** The check without the password of frames read by the caller (`vendor fetch` checks them as they arrive). */
export async function checkFrames(located: LocatedHeader, frames: AsyncIterable<FrameEvent>, o: FrameCheckOptions = {}): Promise<CheckResult> {
  const shape = shapeOf(located);
  const damage = newDamageReport(located.headerCopyUsed);
  const steps = walkFrames(withProgress(frames, located.fileBytes, o.onProgress), shape, acceptByChecksum(shape), damage);
  const tally = new SizeTally();
  for await (const step of steps) {
    // the walk fills in `damage`
    if (step.kind === 'chunk') tally.frame(step.frame);
    else tally.hole(step.to - step.from + 1, step.bytes);
    if (o.stopAtDamage && step.kind === 'hole') break;
  }
  return { ...resultFrom(located, damage), intact: await isWhole(located, damage, o.tailFrom), sizes: tally.result(located, HEADS_BASIS, damage.truncated) };
}

/**
 * For a backup read from the store: its two header copies only (a few small
 * ranged GETs). The restore checks every part as it reads it and reports the
 * damage, so the file crosses the network once instead of twice.
 */
export async function checkHeaderCopies(located: LocatedHeader): Promise<CheckResult> {
  const tailIntact = located.headerCopyUsed || (await readTailHeaderCopy(located.source, located.fileBytes)) !== null;
  return {
    intact: located.firstCopyIntact && tailIntact,
    complete: true,
    chunks: 0,
    damagedChunks: 0,
    damagedRanges: [],
    truncated: false,
    headerCopyUsed: located.headerCopyUsed,
    firstHeaderIntact: located.firstCopyIntact,
    strayBytes: 0,
    fileBytes: located.fileBytes,
    partsChecked: false,
  };
}

/** Reports each frame's file offset as it passes. */
async function* withProgress(frames: AsyncIterable<FrameEvent>, fileBytes: number, onProgress?: (fileOffset: number, fileBytes: number) => void): AsyncGenerator<FrameEvent> {
  for await (const ev of frames) {
    if (ev.type === 'frame') onProgress?.(ev.fileOffset, fileBytes);
    yield ev;
  }
}

/**
 * Every chunk there, and both header copies: without the second, one bad
 * sector in the first loses the file. In version 3 also the index frame
 * (without it nothing is lost, but the restore must read the file in order).
 */
async function isWhole(located: LocatedHeader, d: DamageReport, tailFrom?: () => Promise<ByteSource>): Promise<boolean> {
  if (d.truncated || d.damagedChunks > 0 || !located.firstCopyIntact) return false;
  const source = tailFrom ? await tailFrom() : located.source;
  if (!located.headerCopyUsed && (await readTailHeaderCopy(source, located.fileBytes)) === null) return false;
  if (located.header.formatVersion !== 3) return true;
  const index = await readIndexFrameBytes((at, n) => source.readAt(at, n), located.fileBytes, located.frame.frameLength);
  return index !== null && indexFrameIntact(index, fileTagOf(located.header), d.chunks);
}

const CATALOG_KEY = -1;
const OBJECTS_KEY = 1e9;
const MANIFEST_KEY = 1e9 + 1;

/** Where an entry sits in the payload's order: the catalog, then tables by index, objects, the manifest. */
function orderKey(path: string): number | null {
  const role = roleOf(path);
  if (role.role === 'catalog') return CATALOG_KEY;
  if (role.role === 'schema' || role.role === 'data' || role.role === 'summary') return role.table;
  if (role.role === 'object') return OBJECTS_KEY;
  if (role.role === 'manifest') return MANIFEST_KEY;
  return null;
}

async function checkWithPassword(located: LocatedHeader, password: string): Promise<CheckResult> {
  const opened = await openBackup(located.source, password, located);
  const damage = newDamageReport(located.headerCopyUsed);
  const tally = new SizeTally();
  const segments = authenticSegments(located, opened.unlocked.payloadKey, damage, tally);
  // Each entry's tile runs from the end of the one before to the end of its own padded body.
  const tiles: { key: number; start: number; end: number }[] = [];
  const names = new Map<number, string>();
  const listed = new Map<number, string>();
  let tileStart = 0;
  for await (const { entry, body } of readTar(segments)) {
    const key = entry.orphan ? null : orderKey(entry.path);
    if (key === null) continue;
    if (key === CATALOG_KEY || key === MANIFEST_KEY) {
      // Either list of tables names the ones a stretch swallowed whole.
      const buf = await readWhole(body, entry.size);
      try {
        const list = buf ? (JSON.parse(buf.toString('utf8')) as Catalog | Manifest).tables : [];
        for (const t of list) listed.set(t.index, t.name);
      } catch {
        // a damaged list names nothing
      }
    }
    if (entry.pax[PAX_TABLE] !== undefined && key >= 0 && key < OBJECTS_KEY) names.set(key, entry.pax[PAX_TABLE]);
    const end = entry.offset + Math.ceil(entry.size / 512) * 512;
    tiles.push({ key, start: tileStart, end });
    tileStart = end;
  }
  for (const [i, n] of listed) names.set(i, n);
  return {
    ...resultFrom(located, damage),
    intact: await isWhole(located, damage),
    places: placesOf(damage, tiles, names, located.header.chunkSize),
    sizes: tally.result(located, AUTHENTIC_BASIS, damage.truncated),
  };
}

/**
 * The payload as readPayload gives it (the one walker, authentication the
 * judge), counting each chunk used and each stretch lost for the sizes: a
 * chunk's uncompressed length is then its authenticated plaintext's.
 */
async function* authenticSegments(located: LocatedHeader, payloadKey: Buffer, damage: DamageReport, tally: SizeTally): AsyncGenerator<Segment> {
  const shape = shapeOf(located);
  const { chunkSize } = shape;
  for await (const step of walkFrames(payloadFrames(located), shape, acceptAuthentic(payloadKey, shape.version), damage)) {
    if (step.kind === 'hole') {
      tally.hole(step.to - step.from + 1, step.bytes);
      if (step.bytes > 0) yield { offset: step.from * chunkSize, hole: step.bytes };
    } else {
      tally.frame(step.frame);
      if (step.value.length > 0) yield { offset: step.index * chunkSize, data: step.value };
    }
  }
}

function resultFrom(located: LocatedHeader, d: DamageReport): CheckResult {
  return {
    intact: false,
    complete: !d.truncated,
    chunks: d.chunks,
    damagedChunks: d.damagedChunks,
    damagedRanges: d.damagedRanges,
    truncated: d.truncated,
    headerCopyUsed: located.headerCopyUsed,
    firstHeaderIntact: located.firstCopyIntact,
    strayBytes: d.strayBytes,
    fileBytes: located.fileBytes,
  };
}

function placesOf(d: DamageReport, tiles: { key: number; start: number; end: number }[], names: Map<number, string>, chunkSize: number): DamagedPlace[] {
  const stretches: { from: number; to: number | null }[] = d.damagedRanges.map(([from, to]) => ({ from, to }));
  if (d.truncated) stretches.push({ from: d.chunks, to: null });
  return stretches.map(({ from, to }) => {
    const start = from * chunkSize;
    const end = to === null ? Infinity : (to + 1) * chunkSize;
    const keys = tiles.filter((t) => t.start < end && start < t.end).map((t) => t.key);
    // A stretch past the last entry found (a cut, a lost end) reaches the end of the payload.
    if (end > (tiles[tiles.length - 1]?.end ?? 0)) keys.push(MANIFEST_KEY);
    if (start < (tiles[0]?.start ?? 0) || tiles.length === 0) keys.push(CATALOG_KEY);
    const lo = Math.min(...keys);
    const hi = Math.max(...keys);
    const tables = [...names.entries()].filter(([i]) => i >= lo && i <= hi).sort((a, b) => a[0] - b[0]).map(([, n]) => n);
    const other = [lo <= CATALOG_KEY && 'catalog', lo <= OBJECTS_KEY && hi >= OBJECTS_KEY && 'objects', hi >= MANIFEST_KEY && 'manifest'].filter((x): x is string => !!x);
    return { from, to, tables, other };
  });
}
