/**
 * Big row packets taken from the socket reads as they come
 * (src/db/big-packets.ts), against the real server: the sink gets exactly
 * the packet's payload, for packets of 1 MiB, of exactly 16 MiB - 1 (which
 * the protocol follows with an empty part) and one byte either side, and
 * of three parts; the connection's sequence ids stay in step (the next
 * query answers); another query on the same connection gets its big packet
 * from mysql2, whole, as before.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setPartSink } from '../../src/db/big-packets.js';
import { connectServer, raiseMaxAllowedPacket } from '../helpers/db.js';
import type { Connection } from '../../src/db/connect.js';

const MAX_PART = 0xffffff;
const NEEDED_PACKET = 64 << 20;

interface RawQuery {
  on(event: 'end', fn: () => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
}
interface Raw {
  query(o: { sql: string; rowsAsArray: boolean }): RawQuery;
  on(event: 'warn', fn: (err: Error) => void): void;
  off(event: 'warn', fn: (err: Error) => void): void;
}

let conn: Connection;

before(async () => {
  await raiseMaxAllowedPacket(NEEDED_PACKET);
  conn = await connectServer(); // a new session reads the raised limit
});
after(() => conn.end());

/** The row packet of `SELECT 1, REPEAT('a', n)`: '1' as a length-coded string, then the value. */
function expectedPayload(n: number): Buffer {
  const prefix = n < 1 << 24 ? Buffer.from([0xfd, n & 0xff, (n >> 8) & 0xff, n >> 16]) : Buffer.concat([Buffer.from([0xfe]), Buffer.from(new BigUint64Array([BigInt(n)]).buffer)]);
  return Buffer.concat([Buffer.from([1, 0x31]), prefix, Buffer.alloc(n, 0x61)]);
}

test('the sink gets exactly the payload of big packets, at and around the part size, and the connection stays in step', async () => {
  const raw = (conn as unknown as { connection: Raw }).connection;
  // mysql2 warns (and prints) when a packet's sequence id is not the one it expects.
  const warnings: string[] = [];
  const warn = (err: Error) => warnings.push(err.message);
  raw.on('warn', warn);
  // Payload sizes: 1 MiB; 16 MiB - 1 exactly (then an empty part); one byte either side; three parts.
  for (const payload of [1 << 20, MAX_PART, MAX_PART - 1, MAX_PART + 1, 2 * MAX_PART + 100]) {
    const n = payload - 2 - (payload - 6 < 1 << 24 ? 4 : 9);
    const hash = createHash('sha256');
    let bytes = 0;
    let rows = 0;
    const query = raw.query({ sql: `SELECT 1, REPEAT('a', ${n})`, rowsAsArray: true });
    setPartSink(raw, query, {
      part: (buf, start, end) => {
        hash.update(buf.subarray(start, end));
        bytes += end - start;
      },
      end: () => rows++,
    });
    await new Promise<void>((resolve, reject) => {
      query.on('end', resolve);
      query.on('error', reject);
    });
    const want = expectedPayload(n);
    assert.equal(want.length, payload);
    assert.equal(rows, 1, `payload ${payload}: one row ended`);
    assert.equal(bytes, payload, `payload ${payload}: every byte, once`);
    assert.equal(hash.digest('hex'), createHash('sha256').update(want).digest('hex'), `payload ${payload}: the same bytes`);
    const [[again]] = (await conn.query({ sql: 'SELECT 2', rowsAsArray: true })) as unknown as [[number[]]];
    assert.deepEqual(again, [2], 'the next query answers');
  }
  raw.off('warn', warn);
  assert.deepEqual(warnings, [], 'sequence ids in step (the end-of-rows packet came with the id expected)');
});

test('a query the sink is not set for (another command) gets its big packet from mysql2, whole, as before', async () => {
  const n = MAX_PART + 10;
  const [[row]] = (await conn.query({ sql: `SELECT 1, REPEAT('a', ${n})`, rowsAsArray: true })) as unknown as [[[number, string]]];
  assert.equal(row[0], 1);
  assert.equal(row[1].length, n);
});
