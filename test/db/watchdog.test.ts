/**
 * The hung-server watch against the real test server: a statement that is
 * silent for longer than the timeout while the server is only busy (SLEEP,
 * like a long index build) is left to finish; the probe that tells the two
 * apart is asked once per quiet stretch. (A frozen server is in
 * test/restore/faults.test.ts and test/service/faults.test.ts.)
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { connect } from '../../src/db/connect.js';
import { parseDsn } from '../../src/db/dsn.js';
import { dbTimeoutSeconds, setDbTimeout } from '../../src/db/watchdog.js';
import { setRootLogger } from '../../src/log.js';
import { ensureServer, serverDsn } from '../helpers/db.js';

const before = dbTimeoutSeconds();
after(() => setDbTimeout(before));

test('a busy server (a statement silent for 3 times the timeout) is waited for, not taken as stopped', async () => {
  await ensureServer();
  const lines: Record<string, unknown>[] = [];
  setRootLogger(pino({ level: 'info' }, new Writable({ write(c, _e, cb) { for (const l of String(c).trim().split('\n')) lines.push(JSON.parse(l)); cb(); } })));
  setDbTimeout(1);
  const conn = await connect(parseDsn(serverDsn(), { requireDatabase: false }), { noDatabase: true });
  try {
    const started = Date.now();
    const [[row]] = (await conn.query('SELECT SLEEP(3.5) AS s, 42 AS answer')) as unknown as [{ answer: number }[]];
    assert.equal(Number(row.answer), 42);
    assert.ok(Date.now() - started >= 3400);
    const busy = lines.filter((l) => l.msg === 'the server is busy with a long statement; still waiting');
    assert.ok(busy.length >= 1 && busy.length <= 3, `asked ${busy.length} times`);
    assert.ok(!lines.some((l) => l.msg === 'the database server stopped answering'));
  } finally {
    await conn.end();
  }
});
