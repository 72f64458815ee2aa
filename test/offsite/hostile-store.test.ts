/**
 * A store that is not trusted to end a read: an HTTP proxy in front of the
 * real gateway (links are signed for the proxy, which passes the Host header
 * on, so the gateway checks the real signature) stalls, trickles, drops
 * connections or rewrites the answers' headers.
 *
 * - Ctrl-C during `restore LINK` while the store sends nothing ends the
 *   command at once (not after the stall time) with the resume line, which
 *   says a new link from support is needed and never prints the link; during
 *   `check LINK` and `validate LINK` it ends them at once with exit 1 and
 *   the line saying where the read stopped.
 * - A store that stops sending, or sends a little and drops again, makes the
 *   read give up after its tries with one plain line (the stall time and the
 *   pauses made small through their overrides).
 * - An answer without the pinned ETag, or a ranged answer whose total is `*`,
 *   is refused with a plain line.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { basename } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { backupOf, makeSource, passwordFile, tempDir } from '../helpers/backup.js';
import { createTempDatabase, dropTempDatabases, dsnFor } from '../helpers/db.js';
import { CLI, runCli } from '../helpers/cli.js';
import { makeClient } from '../../src/offsite/client.js';
import { uploadFile } from '../../src/offsite/upload.js';
import { openRemote } from '../../src/offsite/remote-source.js';
import { systemClock } from '../../src/system/clock.js';
import { lockedBucket, useGateway, vendorClient, type Gateway } from './gateway.js';

const gateway = useGateway();
let gw: Gateway;
let vendor: S3Client;
let bucket: string;
let key: string;
let fileBytes: number;

before(async () => {
  gw = gateway();
  vendor = vendorClient(gw);
  bucket = await lockedBucket(vendor, 'hostile', 1);
  const source = await makeSource({ patients: 600, prefix: 'lroff_hostile' });
  const b = await backupOf(source, await tempDir('lroff-hostile-'));
  fileBytes = b.bytes;
  key = `practices/p-hostile/${basename(b.file)}`;
  await uploadFile({ client: vendor, bucket, key, file: b.file, clock: systemClock, deadline: new Date(Date.now() + 60_000) });
});
after(async () => {
  vendor?.destroy();
  await dropTempDatabases();
});

interface Proxy {
  port: number;
  /** Answers so far, and body bytes sent on. */
  answers: number;
  sent: number;
  /** Set once the proxy stopped passing bytes on. */
  stalledAt?: number;
  close: () => void;
}

interface Behaviour {
  /** After this many body bytes in all, nothing more is sent, on any connection (sockets stay open). */
  stallAfter?: number;
  /** Each answer's body is cut (its connection destroyed) after this many bytes. */
  dropAfter?: number;
  /** After this many body bytes in all, every answer's body comes one byte each 50 ms. */
  trickleAfter?: number;
  /** Rewrites the store's headers of answer n (0-based). */
  headers?: (n: number, h: IncomingHttpHeaders) => IncomingHttpHeaders;
}

async function proxy(b: Behaviour): Promise<Proxy> {
  const store = new URL(gw.endpoint);
  const p: Proxy = { port: 0, answers: 0, sent: 0, close: () => (server.closeAllConnections(), server.close()) };
  const server: Server = createServer((req, res) => {
    if (p.stalledAt !== undefined) return; // a new request is never answered either
    const up = request({ host: store.hostname, port: store.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const n = p.answers++;
      res.writeHead(answer.statusCode ?? 502, b.headers ? b.headers(n, { ...answer.headers }) : answer.headers);
      res.flushHeaders();
      let mine = 0;
      answer.on('data', (d: Buffer) => {
        if (p.stalledAt !== undefined) return;
        if (b.stallAfter !== undefined && p.sent + d.length > b.stallAfter) {
          p.stalledAt = Date.now();
          answer.destroy();
          return;
        }
        if (b.trickleAfter !== undefined && p.sent + d.length > b.trickleAfter) {
          answer.pause();
          let left = d;
          const drip = setInterval(() => {
            if (res.destroyed || left.length === 0) return clearInterval(drip);
            res.write(left.subarray(0, 1));
            left = left.subarray(1);
            p.sent++;
          }, 50);
          return;
        }
        if (b.dropAfter !== undefined && mine >= b.dropAfter) return;
        if (b.dropAfter !== undefined && mine + d.length > b.dropAfter) {
          p.sent += b.dropAfter - mine;
          answer.destroy();
          res.write(d.subarray(0, b.dropAfter - mine), () => res.destroy());
          mine = b.dropAfter;
          return;
        }
        mine += d.length;
        p.sent += d.length;
        res.write(d);
      });
      answer.on('end', () => res.end());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  p.port = (server.address() as { port: number }).port;
  return p;
}

/** A link to the backup signed for the proxy (valid for the gateway behind it). */
async function linkVia(p: Proxy): Promise<string> {
  const client = makeClient({ endpoint: `http://127.0.0.1:${p.port}`, region: gw.region, credentials: { accessKeyId: gw.vendor.accessKeyId, secretAccessKey: gw.vendor.secretAccessKey } });
  try {
    return await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 3600 });
  } finally {
    client.destroy();
  }
}

const noKeys = { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_ENDPOINT_URL: undefined, AWS_SHARED_CREDENTIALS_FILE: '/nonexistent', AWS_CONFIG_FILE: '/nonexistent' };

/**
 * Runs the CLI with `args` through proxy `p` (its stall time left long, so only Ctrl-C can end
 * the read in time), waits until the store has stalled and the reads wait on it, then sends
 * SIGINT. Returns how long the program took to end after it, its exit code and what it printed.
 */
async function interruptWhenStalled(p: Proxy, args: string[]): Promise<{ took: number; code: number | null; output: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...noKeys, LASTRESORT_STORE_STALL_MS: '120000' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  while (p.stalledAt === undefined && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
  assert.ok(p.stalledAt !== undefined, `the store stalled: ${output}`);
  await new Promise((r) => setTimeout(r, 1500)); // the reads are now waiting on the store
  const sent = Date.now();
  child.kill('SIGINT');
  const code = await exited;
  clearTimeout(killer);
  const took = Date.now() - sent;
  process.stderr.write(`${args[0]} LINK ended ${took} ms after Ctrl-C, saying: ${output.trim().split('\n').slice(-2).join(' | ')}\n`);
  assert.ok(took < 10_000, `ended ${took} ms after Ctrl-C: ${output}`);
  assert.ok(!output.includes('X-Amz-Signature'), 'the link (a key) is never printed');
  return { took, code, output };
}

test('Ctrl-C while the store sends nothing ends restore LINK at once, with the resume line for a new link (the link never printed)', { timeout: 180_000 }, async () => {
  const p = await proxy({ stallAfter: Math.floor(fileBytes / 2) });
  try {
    const link = await linkVia(p);
    const target = await createTempDatabase('lroff_hostile_int', { create: false });
    const pw = await passwordFile(await tempDir());
    const { code, output } = await interruptWhenStalled(p, ['restore', link, '--target', dsnFor(target), '--password-file', pw]);
    assert.equal(code, 1, output);
    assert.match(output, /Stopping cleanly/);
    assert.match(output, new RegExp(`Stopped\\. The database ${target} is marked as incomplete\\. To continue later, with a new link from support: lastresort restore <LINK> --target \\S+ --resume`));
  } finally {
    p.close();
  }
});

test('Ctrl-C during recover LINK (the store sending nothing mid-restore) ends it at once, with the way to continue', { timeout: 180_000 }, async () => {
  const p = await proxy({ stallAfter: Math.floor(fileBytes / 2) });
  try {
    const link = await linkVia(p);
    const pw = await passwordFile(await tempDir());
    const target = await createTempDatabase('lroff_hostile_rec', { create: false });
    // --yes: the wizard from a script. Before the password only the header copies are read; the restore stalls half way.
    const { code, output } = await interruptWhenStalled(p, ['recover', link, '--yes', '--target', dsnFor(target), '--password-file', pw, '--report-dir', await tempDir()]);
    assert.notEqual(code, 0, output);
    assert.match(output, /Stopping cleanly/);
    assert.match(output, /Both copies of its header check out; every part is checked as it is restored/);
    assert.match(output, /new link from support/);
    assert.match(output, /lastresort recover <LINK>|lastresort restore <LINK>/);
  } finally {
    p.close();
  }
});

for (const command of ['check', 'validate'] as const) {
  test(`Ctrl-C while the store sends nothing ends ${command} LINK at once with the contract's exit code and one plain line (the link never printed)`, { timeout: 180_000 }, async () => {
    const p = await proxy({ stallAfter: Math.floor(fileBytes / 2) });
    try {
      const link = await linkVia(p);
      const dir = await tempDir();
      // validate reads the whole backup before it compares; the empty database is never reached.
      const extra = command === 'validate' ? ['--target', dsnFor(await createTempDatabase('lroff_hostile_val')), '--password-file', await passwordFile(dir)] : [];
      const { code, output } = await interruptWhenStalled(p, [command, link, ...extra]);
      assert.equal(code, 1, output);
      assert.match(output, /Stopping cleanly/);
      assert.match(output, /lastresort: Stopped while reading http:\/\/127\.0\.0\.1:\d+\/\S+\.lrb\./);
    } finally {
      p.close();
    }
  });
}

test('a store that stops sending is given up after the stall time and the tries, with one plain line', { timeout: 120_000 }, async () => {
  const p = await proxy({ stallAfter: 200_000 });
  try {
    const link = await linkVia(p);
    const started = Date.now();
    const r = await runCli(['check', link, '--json'], { env: { ...noKeys, LASTRESORT_STORE_STALL_MS: '500', LASTRESORT_STORE_PAUSE_MS: '100' }, timeoutMs: 100_000 });
    const took = Date.now() - started;
    assert.equal(r.code, 1, r.stderr);
    const u = new URL(link);
    assert.match(r.stderr, new RegExp(`^lastresort: The store stopped sending ${u.origin}${u.pathname} at byte \\d+ of ${fileBytes} \\(7 tries\\): nothing, or next to nothing, came for 0\\.5 s, so the read gave up\\. Check the network, then try again\\.\\n$`));
    assert.ok(took < 30_000, `gave up after ${took} ms`);
  } finally {
    p.close();
  }
});

test('a store that trickles (a byte each 50 ms) is cut like a silent one and given up with the same line', { timeout: 120_000 }, async () => {
  const p = await proxy({ trickleAfter: 200_000 });
  try {
    const link = await linkVia(p);
    const r = await runCli(['check', link, '--json'], { env: { ...noKeys, LASTRESORT_STORE_STALL_MS: '500', LASTRESORT_STORE_PAUSE_MS: '100' }, timeoutMs: 100_000 });
    assert.equal(r.code, 1, r.stderr);
    // Cut during a resumed read (with its tries), or, depending on timing, at the first GET (no tries: said at once).
    assert.match(r.stderr, /^lastresort: The store stopped sending \S+( at byte \d+ of \d+ \(7 tries\))?: nothing, or next to nothing, came for 0\.5 s, so the read gave up\. Check the network, then try again\.\n$/);
  } finally {
    p.close();
  }
});

test('a store that sends a little and drops each time runs out of tries (progress under 1 MiB does not start them over)', { timeout: 240_000 }, async () => {
  // 20 KB: even the first read breaks (it is resumed like the others); 150 KB: the first read is whole, the later ones break.
  for (const dropAfter of [20_000, 150_000]) {
    const p = await proxy({ dropAfter });
    try {
      const link = await linkVia(p);
      const r = await runCli(['check', link, '--json'], { env: { ...noKeys, LASTRESORT_STORE_PAUSE_MS: '50' }, timeoutMs: 100_000 });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^lastresort: Reading http:\/\/127\.0\.0\.1:\d+\/\S+ broke off at byte \d+ of \d+ and the store did not answer again \(.*\)\. Check the network, then try again\.\n$/);
      // The first answer and 7 tries per read; never an answer per 20 KB (or 150 KB) of the file.
      assert.ok(p.answers <= 16, `${p.answers} answers for a ${fileBytes}-byte file, ${dropAfter} bytes each`);
    } finally {
      p.close();
    }
  }
});

test('an answer without the pinned ETag is taken as a changed object; a ranged answer with no total is refused', async () => {
  const noEtag = await proxy({ headers: (n, h) => (n === 0 ? h : (delete h.etag, h)) });
  try {
    const url = new URL(await linkVia(noEtag));
    const source = await openRemote({ kind: 'link', url });
    await assert.rejects(() => source.readAt(Math.floor(fileBytes / 2), 100), (err: Error) => {
      assert.equal(err.message, `${url.origin}${url.pathname} changed in the store while it was being read (its size or version is not the same any more), so the read stopped. Ask support for a new link, then start again.`);
      return true;
    });
  } finally {
    noEtag.close();
  }
  const star = await proxy({ headers: (_n, h) => ({ ...h, 'content-range': String(h['content-range']).replace(/\/\d+$/, '/*') }) });
  try {
    const url = new URL(await linkVia(star));
    await assert.rejects(() => openRemote({ kind: 'link', url }), (err: Error) => {
      assert.equal(err.message, `The store did not say how big ${url.origin}${url.pathname} is (its answer to a ranged read has no total size), so the file cannot be read in place. Download it with lastresort vendor fetch instead.`);
      return true;
    });
  } finally {
    star.close();
  }
});
