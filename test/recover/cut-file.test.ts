/**
 * A backup cut short at 60% (an interrupted copy or download), recovered
 * through the wizard in a real terminal at 100, 80 and 60 columns, InnoDB
 * and MyISAM. Every number the screen and the reports give is compared with
 * the source and the restored database through SQL: no count may contradict
 * another (never fewer rows "in the backup" than were restored), a count
 * that was lost with the file is "at least" what came back or "unknown",
 * never a low estimate, and the cut is given no size nothing proves.
 */
import assert from 'node:assert/strict';
import { copyFile, readFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAIN_TABLES } from '../../src/opendental/main-tables.js';
import type { RecoverReport } from '../../src/report/recover-report.js';
import { WILL_NOT_START } from '../../src/recover/result.js';
import { backupOf, makeSource } from '../helpers/backup.js';
import { connectServer, createTempDatabase } from '../helpers/db.js';
import { PASSWORD, reportsIn, scratchDir, tableNames, willCreate } from './helpers/setup.js';
import { requireTool, Terminal } from './helpers/terminal.js';
import { quoteId } from '../../src/db/connect.js';

const SERVER = 'mysql://root@127.0.0.1:3306';
const terminals: Terminal[] = [];
const count = (n: number) => n.toLocaleString('en-US');
/** A paragraph as one line, however the terminal width broke it. */
const flat = (text: string) => text.replace(/\/\n +/g, '/').replace(/\s+/g, ' ');

/** Every table's row count, by SQL; a table that does not exist counts 0. */
async function counts(database: string, tables: string[]): Promise<Map<string, number>> {
  const present = new Set(await tableNames(database));
  const conn = await connectServer();
  try {
    const out = new Map<string, number>();
    for (const t of tables) {
      if (!present.has(t)) {
        out.set(t, 0);
        continue;
      }
      const [[r]] = (await conn.query(`SELECT COUNT(*) AS n FROM ${quoteId(database)}.${quoteId(t)}`)) as unknown as [{ n: number | string }[]];
      out.set(t, Number(r.n));
    }
    return out;
  } finally {
    await conn.end();
  }
}

/** "All tables" of the Markdown report: name → [rows in backup, restored, missing] as written. */
function markdownRows(md: string): Map<string, string[]> {
  const section = md.split(/^## All tables.*$/m)[1].split(/^## /m)[0];
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Table '))) {
    const cells = line.slice(2, -2).split(' | ');
    rows.set(cells[0], [cells[2], cells[3], cells[4]]);
  }
  return rows;
}

const cases = [
  // About 31 rows a patient in `opendental`, 320 in the real 2025 schema: some 45,000 rows each.
  { columns: 100, engine: 'InnoDB' as const, kind: 'opendental' as const, patients: 1_500 },
  { columns: 80, engine: 'MyISAM' as const, kind: 'opendental2025' as const, patients: 150 },
  { columns: 60, engine: 'InnoDB' as const, kind: 'opendental' as const, patients: 1_500 },
];

describe('a backup cut short at 60%, recovered in a terminal', { timeout: 300_000 }, () => {
  const sources = new Map<string, { database: string; file: string }>();
  before(async () => {
    requireTool('tmux');
    for (const c of cases) {
      const key = `${c.kind}-${c.engine}`;
      if (sources.has(key)) continue;
      const database = await makeSource({ kind: c.kind, engine: c.engine, patients: c.patients, prefix: 'lr_cut' });
      willCreate(database);
      const dir = await scratchDir('lr-cut-src-');
      sources.set(key, { database, file: (await backupOf(database, dir)).file });
    }
  });
  after(async () => {
    for (const t of terminals) await t.close();
  });

  for (const c of cases) {
    it(`${c.columns} columns, ${c.engine}: numbers that agree with the source through SQL, the tables missing entirely first, ask support to send it again`, async () => {
      const src = sources.get(`${c.kind}-${c.engine}`)!;
      const cwd = await scratchDir('lr-cut-');
      const cut = join(cwd, 'tonight.lrb');
      await copyFile(src.file, cut);
      await truncate(cut, Math.floor((await stat(cut)).size * 0.6));
      const name = willCreate(await createTempDatabase('lr_cut_to', { create: false }));
      const t = await Terminal.start({ cwd, args: ['recover', cut, '--target', `${SERVER}/${name}`], columns: c.columns });
      terminals.push(t);
      await t.answer('Password of jsmith', PASSWORD);
      await t.answer('Start the restore?');
      const { code, text } = await t.exit(120_000);
      assert.equal(code, 3, text);

      const { json, md, html } = await reportsIn(cwd);
      const report = JSON.parse(await readFile(json[0], 'utf8')) as RecoverReport;
      const names = report.tables.map((x) => x.name);
      const source = await counts(src.database, names);
      const restored = await counts(name, names);

      // The cut gets no size: nothing read before it proves how much followed.
      assert.equal(report.damage.truncated, true);
      assert.equal('cutBytesEstimate' in report.damage, false);
      assert.equal(report.damage.bytesLost, 0, 'only the end is missing: no damaged part');
      assert.ok(flat(text).includes('how much is missing cannot be told (the file does not record its full length)'), text);
      assert.doesNotMatch(text, /at its end is missing|about [\d.]+ [KMG]?B/);

      // Per table: what the report and the Markdown say, against SQL.
      const mdRows = markdownRows(await readFile(md[0], 'utf8'));
      let partialSeen = 0;
      for (const x of report.tables) {
        const s = source.get(x.name)!;
        const r = restored.get(x.name)!;
        assert.equal(x.rowsRestored, r, `${x.name}: the report says ${x.rowsRestored} restored, the server holds ${r}`);
        assert.ok(r <= s, `${x.name}: more rows restored than the source holds`);
        if (x.rowsExpected !== null) assert.equal(x.rowsExpected, s, `${x.name}: rows in the backup`);
        if (x.rowsLost !== null) assert.equal(x.rowsLost, s - r, `${x.name}: rows lost`);
        const [inBackup, shownRestored, missing] = mdRows.get(x.name)!;
        assert.equal(shownRestored, count(r), `${x.name}: restored, as the Markdown report says it`);
        if (x.rowsExpected !== null) assert.equal(inBackup, count(s));
        else if (r > 0) {
          partialSeen++;
          assert.equal(inBackup, `at least ${count(r)}`, `${x.name}: a lost count must be at least what came back`);
          assert.equal(missing, 'unknown', `${x.name}: a loss nobody counted must not be guessed`);
        } else {
          assert.match(inBackup, /^(about [\d,]+|unknown)$/);
          assert.equal(missing, 'all');
        }
        if (x.rowsLost !== null) assert.equal(missing, count(s - r));
      }
      assert.ok(partialSeen + report.tables.filter((x) => x.status === 'partial').length > 0, 'the cut did not land inside a table');

      // The totals, on screen, in the JSON and in both reports, from SQL.
      const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
      assert.equal(report.rows!.restored, sum(restored));
      const counted = report.tables.filter((x) => x.rowsLost !== null);
      assert.equal(report.rows!.lostCounted, counted.reduce((a, x) => a + source.get(x.name)! - restored.get(x.name)!, 0));
      assert.equal(report.rows!.uncountedTables, report.tables.length - counted.length);
      assert.equal(report.rows!.lost, null, 'counts were lost with the file, so the total loss is unknown');
      const totals = `Rows restored: ${count(sum(restored))}. Rows lost: unknown: the exact counts of ${report.rows!.uncountedTables} tables were in the missing end of the file`;
      assert.ok(flat(text).includes(totals), `no totals on the screen:\n${text}`);
      const mdText = await readFile(md[0], 'utf8');
      assert.ok(mdText.includes(`| Rows restored | ${count(sum(restored))} |`), 'no total in the Markdown report');
      assert.ok((await readFile(html[0], 'utf8')).includes(`<dt>Rows restored</dt><dd>${count(sum(restored))}</dd>`), 'no total in the HTML report');

      // Tables missing entirely: named, Open Dental's main ones first, and what that means.
      const absent = report.tables.filter((x) => x.status === 'missing');
      assert.ok(absent.length > 0, 'a cut at 60% leaves tables missing entirely');
      for (const x of absent) assert.equal(restored.get(x.name), 0);
      assert.match(report.summary, new RegExp(`${absent.length} (tables are|table is) missing entirely \\(the file ends before them\\)`));
      const section = text.split('Tables missing entirely (the file ends before them):')[1]?.split('Open Dental will not start on this database')[0];
      assert.ok(section, `the tables missing entirely are not listed:\n${text}`);
      // The screen shows 25 and says how many more; Open Dental's main tables are among the first.
      const main = Object.keys(MAIN_TABLES).flatMap((m) => absent.filter((x) => x.name === m));
      const shown = [...main, ...absent.filter((x) => !MAIN_TABLES[x.name])].slice(0, 25);
      const at = shown.map((x) => section.search(new RegExp(`^ +${x.name}( |$)`, 'm')));
      shown.forEach((x, i) => assert.ok(at[i] >= 0, `${x.name} is not listed as missing entirely:\n${section}`));
      assert.deepEqual(at, [...at].sort((a, b) => a - b), "Open Dental's main tables first, then the backup's order");
      if (absent.length > 25) assert.ok(section.includes(`… and ${absent.length - 25} more: see the report.`), section);
      for (const x of absent) assert.ok(mdText.includes(`| ${x.name} | missing entirely |`), `${x.name} not in the Markdown report`);
      assert.ok(!/never reached|affected/.test(text), 'old words on the screen');

      // What to do next: ask for the file again first.
      const next = flat(text.slice(text.lastIndexOf('What to do next:')));
      assert.ok(next.startsWith('What to do next: - Ask support to send the file again: this copy is cut short, so part of the backup never arrived.'), next);
      assert.ok(next.includes(`- ${WILL_NOT_START}`), next);
      assert.deepEqual(t.tooWide(), [], `lines wider than the ${c.columns}-column terminal`);
    });
  }
});
