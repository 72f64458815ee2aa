/**
 * The report for IT, from real recoveries (one whole, one from a damaged
 * copy) into the real server: its content checked against the server's own
 * counts, nothing secret in it, and the HTML page opened in headless Chromium
 * with screenshots saved under test/artifacts/ for a person to look at.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { scriptAsk } from '../../src/recover/ask.js';
import { recover, type RecoverOutcome } from '../../src/recover/wizard.js';
import { escapeHtml, renderHtml } from '../../src/report/html.js';
import { formatCount, incompleteTables } from '../../src/report/recover-report.js';
import { createTempDatabase } from '../helpers/db.js';
import { PASSWORD, damagedCopy, rowCount, sourceWithBackup, tableNames, willCreate, scratchDir, type SourceBackup } from './helpers/setup.js';
import { requireTool } from './helpers/terminal.js';

const run = promisify(execFile);
const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

async function recoverInto(file: string, reportDir: string): Promise<RecoverOutcome> {
  const name = willCreate(await createTempDatabase('lr_rreport', { create: false }));
  const ask = scriptAsk(process.stderr, { quiet: true });
  return recover(ask, { file, cwd: reportDir, target: `mysql://root@127.0.0.1:3306/${name}`, password: PASSWORD, reportDir, yes: true, signal: new AbortController().signal });
}

/** Width and height from a PNG's IHDR chunk. */
async function pngSize(path: string): Promise<{ width: number; height: number }> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(24);
    await fh.read(head, 0, 24, 0);
    assert.deepEqual([...head.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'not a PNG');
    return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
  } finally {
    await fh.close();
  }
}

async function screenshot(html: string, png: string): Promise<void> {
  requireTool('chromium');
  const profile = await scratchDir('lr-chromium-');
  await run('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--hide-scrollbars', '--run-all-compositor-stages-before-draw', '--virtual-time-budget=2000', `--user-data-dir=${profile}`, `--screenshot=${png}`, '--window-size=1200,1600', pathToFileURL(html).href], { timeout: 60_000 });
}

describe('the recovery report', { timeout: 120_000 }, () => {
  let src: SourceBackup;
  let whole: RecoverOutcome;
  let damaged: RecoverOutcome;

  before(async () => {
    src = await sourceWithBackup({ patients: 200, prefix: 'lr_rrep' });
    const dir = await scratchDir('lr-report-');
    whole = await recoverInto(src.file, join(dir, 'whole'));
    const copy = join(dir, 'damaged.lrb');
    await damagedCopy(src.file, copy);
    damaged = await recoverInto(copy, join(dir, 'damaged'));
  });

  it('lists every table with the counts the server holds', async () => {
    for (const outcome of [whole, damaged]) {
      const r = outcome.report;
      const present = await tableNames(r.database);
      assert.equal(r.tables.length, 22);
      const html = await readFile(outcome.saved.html, 'utf8');
      for (const t of r.tables) {
        const onServer = present.includes(t.name) ? await rowCount(r.database, t.name) : 0;
        assert.equal(t.rowsRestored, onServer, `${t.name}: the report says ${t.rowsRestored} rows, the server has ${onServer}`);
        assert.match(html, new RegExp(`<tr><td>${t.name}</td><td><span class="pill [a-z]+">[a-z ]+</span></td><td class="n">${formatCount(t.rowsExpected)}</td><td class="n">${formatCount(t.rowsRestored)}</td>`), `${t.name} is not listed right in the HTML`);
      }
    }
  });

  it('a whole backup: "restored and verified", no incomplete tables', async () => {
    const r = whole.report;
    assert.equal(r.exitCode, 0);
    assert.match(r.summary, /^All 22 tables restored and verified/);
    const html = await readFile(whole.saved.html, 'utf8');
    assert.match(html, /<div class="banner ok">All 22 tables restored and verified/);
    assert.match(html, /None: every table is complete\./);
    assert.match(html, /All 22 tables match the backup, row by row/);
    const md = await readFile(whole.saved.md, 'utf8');
    assert.match(md, /The restored database matches the backup/);
  });

  it('a damaged backup: "restored with losses", each incomplete table with its counts, the damage and the differences', async () => {
    const r = damaged.report;
    assert.equal(r.exitCode, 3);
    assert.match(r.summary, /^Restored with losses: /);
    const html = await readFile(damaged.saved.html, 'utf8');
    const section = /<h2>Tables that are not complete \((\d+)\)<\/h2>([\s\S]*?)<\/section>/.exec(html);
    assert.ok(section, 'no section of incomplete tables');
    const rows = incompleteTables(r);
    assert.equal(Number(section[1]), rows.length);
    assert.ok(rows.length > 0);
    for (const t of rows) {
      assert.ok(section[2].includes(`<td>${escapeHtml(t.name)}</td>`), `${t.name} missing from the incomplete tables`);
      assert.ok(section[2].includes(`<td class="n">${formatCount(t.restored)}</td><td class="n">${formatCount(t.lost)}</td>`), `${t.name}: counts wrong`);
    }
    assert.match(html, new RegExp(`Damaged parts</dt><dd>${r.damage.damagedChunks} `));
    assert.ok(r.validation && !r.validation.match);
    for (const d of r.validation.differences.slice(0, 100)) assert.ok(html.includes(`<li>${escapeHtml(d)}</li>`), `difference not shown: ${d}`);
    assert.match(html, /lastresort recover .*damaged\.lrb --target mysql:\/\/root@127\.0\.0\.1:3306\/\w+ --resume/);
  });

  it('is self-contained, private, and holds no password', async () => {
    for (const { saved } of [whole, damaged]) {
      for (const path of [saved.json, saved.html, saved.md]) {
        assert.equal((await stat(path)).mode & 0o777, 0o600, `${path} must be 0600`);
        const text = await readFile(path, 'utf8');
        assert.ok(!text.includes(PASSWORD), `${path} holds the password`);
      }
      const html = await readFile(saved.html, 'utf8');
      assert.doesNotMatch(html, /<script|<link|src=|https?:\/\//i, 'the page must not load anything');
    }
  });

  it('escapes names that come from the backup', () => {
    const r = structuredClone(damaged.report);
    r.tables[0].name = '<img src=x onerror=alert(1)>';
    r.database = 'a&b<c>';
    const html = renderHtml(r);
    assert.ok(!html.includes('<img src=x'));
    assert.ok(html.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(html.includes('<h1>a&amp;b&lt;c&gt;</h1>'));
  });

  it('opens in headless Chromium (screenshot: test/artifacts/report.png)', async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    // The damaged one: it shows every part of the page (losses, differences, damage).
    const png = join(ARTIFACTS, 'report.png');
    await screenshot(damaged.saved.html, png);
    assert.deepEqual(await pngSize(png), { width: 1200, height: 1600 });
    assert.ok((await stat(png)).size > 20_000, `${png} looks empty`);
  });
});
