/**
 * The report for IT, from real recoveries (one whole, one from a damaged
 * copy) into the real server: its content checked against the server's own
 * counts, nothing secret in it, and the HTML page opened in headless Chromium
 * with screenshots saved under test/artifacts/ for a person to look at.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, open, readFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { scriptAsk } from '../../src/recover/ask.js';
import { recover, type RecoverOutcome } from '../../src/recover/wizard.js';
import { escapeHtml, renderHtml } from '../../src/report/html.js';
import { expectedRows, incompleteTables, missingRows, resultHeadline, rowFigures, tableState, type RecoverReport } from '../../src/report/recover-report.js';
import { nextSteps } from '../../src/recover/result.js';
import { humanDate } from '../../src/text.js';
import { describeLoss } from '../../src/restore/report.js';
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

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--hide-scrollbars', '--run-all-compositor-stages-before-draw', '--virtual-time-budget=2000'];

async function screenshot(html: string, png: string, height = 1600): Promise<void> {
  requireTool('chromium');
  const profile = await scratchDir('lr-chromium-');
  await run('chromium', [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, `--screenshot=${png}`, `--window-size=1200,${height}`, pathToFileURL(html).href], { timeout: 60_000 });
}

/** The page as Chromium parsed and rendered it (its DOM), not the file as written. */
async function renderedDom(html: string): Promise<string> {
  requireTool('chromium');
  const profile = await scratchDir('lr-chromium-');
  const { stdout } = await run('chromium', [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, '--dump-dom', pathToFileURL(html).href], { timeout: 60_000, maxBuffer: 16 << 20 });
  return stdout;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" };
/** The text a person reads in a piece of the DOM: tags dropped, entities decoded, spaces collapsed. */
const textOf = (dom: string) => dom.replace(/<[^>]*>/g, ' ').replace(/&(amp|lt|gt|quot|#39);/g, (_, n: string) => ENTITIES[n]).replace(/\s+/g, ' ').trim();

/** The rows of the "All tables" section, each as the texts of its cells. */
function allTableCells(dom: string): string[][] {
  const section = /<summary>All tables[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(dom);
  assert.ok(section, 'no "All tables" section in the rendered page');
  return [...section[1].matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) => [...row[1].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => textOf(c[1])));
}

/** Every table's row as the page must show it: name, state, rows in backup, restored, missing, check, which rows. */
function expectedCells(r: RecoverReport): string[][] {
  const check = new Map((r.validation?.tables ?? []).map((t) => [t.name, t.status]));
  return r.tables.map((t) => [t.name, tableState(r, t), expectedRows(rowFigures(t)), t.rowsRestored.toLocaleString('en-US'), t.status === 'restored' ? '0' : missingRows(rowFigures(t)), check.get(t.name) ?? '–', describeLoss(t.name, t.lostKeyRanges)]);
}

describe('the recovery report', { timeout: 120_000 }, () => {
  let src: SourceBackup;
  let whole: RecoverOutcome;
  let damaged: RecoverOutcome;
  let cut: RecoverOutcome;

  before(async () => {
    src = await sourceWithBackup({ patients: 200, prefix: 'lr_rrep' });
    const dir = await scratchDir('lr-report-');
    whole = await recoverInto(src.file, join(dir, 'whole'));
    const copy = join(dir, 'damaged.lrb');
    await damagedCopy(src.file, copy);
    damaged = await recoverInto(copy, join(dir, 'damaged'));
    // Cut short at 60%, as an interrupted copy leaves a file.
    const short = join(dir, 'cut.lrb');
    await copyFile(src.file, short);
    await truncate(short, Math.floor((await stat(short)).size * 0.6));
    cut = await recoverInto(short, join(dir, 'cut'));
  });

  it('lists every table with the counts the server holds', async () => {
    for (const outcome of [whole, damaged, cut]) {
      const r = outcome.report;
      const present = await tableNames(r.database);
      assert.equal(r.tables.length, 22);
      const html = await readFile(outcome.saved.html, 'utf8');
      for (const t of r.tables) {
        const onServer = present.includes(t.name) ? await rowCount(r.database, t.name) : 0;
        assert.equal(t.rowsRestored, onServer, `${t.name}: the report says ${t.rowsRestored} rows, the server has ${onServer}`);
        assert.match(html, new RegExp(`<tr><td>${t.name}</td><td><span class="pill [a-z]+">[a-z ]+</span></td><td class="n">${expectedRows(rowFigures(t))}</td><td class="n">${t.rowsRestored.toLocaleString('en-US')}</td>`), `${t.name} is not listed right in the HTML`);
      }
    }
  });

  it('a whole backup: "restored and verified", no incomplete tables', async () => {
    const r = whole.report;
    assert.equal(r.exitCode, 0);
    assert.match(r.summary, /^All 22 tables restored and verified/);
    const html = await readFile(whole.saved.html, 'utf8');
    assert.match(html, /<div class="banner ok" id="outcome">All 22 tables restored and verified/);
    assert.match(html, /None: every table is complete\./);
    assert.match(html, /All 22 tables match the backup, row by row/);
    const md = await readFile(whole.saved.md, 'utf8');
    assert.match(md, /\nAll 22 tables match the backup, row by row \(row counts and content checksums\)/);
    assert.ok(md.includes(`| Made | ${humanDate(r.backup.createdAt)} |`), 'the Markdown report gives the date as people read it');
    assert.doesNotMatch(md, /\d{4}-\d\d-\d\dT\d\d:/, 'no ISO timestamps in the Markdown report');
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
      assert.ok(section[2].includes(`<td class="n">${t.restored!.toLocaleString('en-US')}</td><td class="n">${missingRows(t)}</td>`), `${t.name}: counts wrong`);
    }
    assert.match(html, new RegExp(`Damaged parts</dt><dd>${r.damage.damagedChunks} \\[[\\d, -]+\\] \\(`));
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

  it('every ending says what to do next: failed and interrupted too, in the page as on the screen', () => {
    const failed: RecoverReport = { ...structuredClone(cut.report), outcome: 'failed' };
    failed.summary = resultHeadline(failed);
    assert.deepEqual(nextSteps(failed, cut.saved, ['/backups/monday.lrb', '/backups/sunday.lrb']), [
      'What to do next:',
      `  - Nothing could be restored from this file: do not use ${failed.place.database}.`,
      `  - Send this report to IT (it opens in a web browser): ${cut.saved.html}`,
      '  - Ask support for an earlier backup. In the same folder there are also: monday.lrb, sunday.lrb.',
    ]);
    const unchecked: RecoverReport = { ...structuredClone(whole.report), validation: null, validationNote: 'the check was stopped', exitCode: 1 };
    const checkLines = nextSteps(unchecked, whole.saved, []);
    assert.deepEqual(checkLines.slice(0, 3), ['What to do next:', `  - Everything was restored, but not yet checked against the backup: do not use ${unchecked.place.database} for daily work until it is. To check it, run:`, `    ${unchecked.commands.validate}`]);
    const stopped: RecoverReport = { ...structuredClone(cut.report), interrupted: true };
    const words = nextSteps(stopped, cut.saved, []);
    assert.deepEqual(words, [`What to do next: ${stopped.place.database} is marked as not complete. To finish the restore where it stopped (what is restored so far is kept), run:`, `  ${stopped.commands.resume}`]);
    const html = renderHtml({ ...stopped, nextSteps: words });
    assert.ok(html.includes(`<h2>What to do next</h2><p>${escapeHtml(words[0].slice('What to do next: '.length))}</p><pre>${escapeHtml(stopped.commands.resume)}</pre>`), 'the page does not say how to finish');
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

  it('a file cut short: the cut gets no size, the tables missing entirely are apart, estimates are marked', async () => {
    const r = cut.report;
    assert.equal(r.exitCode, 3);
    assert.equal(r.damage.truncated, true);
    assert.equal(r.damage.bytesLost, 0);
    const never = r.tables.filter((t) => t.status === 'missing');
    assert.ok(never.length > 0);
    for (const t of never) assert.equal(tableState(r, t), 'missing entirely');
    for (const t of r.tables.filter((x) => x.rowsExpected === null)) assert.equal(typeof t.rowsEstimate, 'number', `${t.name}: no estimate where the count was lost`);
    const md = await readFile(cut.saved.md, 'utf8');
    assert.ok(md.includes(`| Cut short | yes: it ends after part [${r.damage.chunks - 1}] and the rest is missing; how much is missing cannot be told (the file does not record its full length) |`), 'the Markdown report does not say the cut has no known size');
    for (const t of never) assert.ok(md.includes(`| ${t.name} | missing entirely | ${t.rowsEstimate ? `about ${t.rowsEstimate.toLocaleString('en-US')}` : 'unknown'} | 0 | all |`), `${t.name} not in the Markdown report`);
    assert.match(md, /## What to do next\n\n- Ask support to send the file again: this copy is cut short, so part of the backup never arrived\.\n- Do not use \w+ for daily work yet/);
  });

  it('opens in headless Chromium: the rendered page says the outcome, what was cut and every table (screenshots in test/artifacts/)', async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    for (const [name, outcome] of [['report', damaged], ['report-cut', cut], ['report-whole', whole]] as const) {
      const r = outcome.report;
      const dom = await renderedDom(outcome.saved.html);
      assert.equal(textOf(/<div class="banner [a-z]+" id="outcome">([\s\S]*?)<\/div>/.exec(dom)?.[1] ?? ''), r.summary, `${name}: the outcome is not what the page shows`);
      assert.deepEqual(allTableCells(dom), expectedCells(r), `${name}: the rendered table rows differ`);
      const next = textOf(/<section class="card next">([\s\S]*?)<\/section>/.exec(dom)?.[1] ?? '');
      assert.ok(next.startsWith('What to do next'), `${name}: no "What to do next" on the page`);
      const facts = textOf(/<h2>Damage found in the file<\/h2>([\s\S]*?)<\/section>/.exec(dom)?.[1] ?? '');
      if (r.damage.truncated) {
        assert.ok(facts.includes('how much is missing cannot be told (the file does not record its full length)'), `${name}: ${facts}`);
        assert.ok(facts.includes('Missing from the file in all the end of the file (how much cannot be told)'), `${name}: ${facts}`);
        assert.ok(next.includes('Open Dental will not start on this database: tables it needs are missing entirely. Among them: userod (logins)') || !r.tables.some((t) => t.name === 'userod' && t.status === 'missing'), next);
      } else {
        assert.ok(facts.includes('Cut short no'), `${name}: ${facts}`);
      }
      const png = join(ARTIFACTS, `${name}.png`);
      await screenshot(outcome.saved.html, png, 2400);
      assert.deepEqual(await pngSize(png), { width: 1200, height: 2400 });
      assert.ok((await stat(png)).size > 20_000, `${png} looks empty`);
    }
  });
});
