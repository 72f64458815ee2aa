/**
 * The words and the drawing, on their own: lost rows named by key (and for
 * Open Dental's main tables in the office's words), lines that fit the
 * terminal, and a bar that reaches 100% only when the work is done. The
 * bar draws into a real stream that says it is an 80-column terminal.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { Progress, fitLine, liveWidth, shortenMiddle, wrapCommand, wrapText } from '../../src/cli/progress.js';
import { describeLoss, describeRange } from '../../src/restore/report.js';
import { damagedPartsText, partNumbers } from '../../src/report/words.js';
import { terminalAsk } from '../../src/recover/ask.js';

function terminal(columns: number): { stream: NodeJS.WriteStream; written: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns }) as unknown as NodeJS.WriteStream;
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString('utf8')));
  return { stream, written: () => text };
}

describe('words', () => {
  it('names lost rows by their key, as a range of whole numbers', () => {
    assert.equal(describeRange({ columns: ['CommlogNum'], after: null, before: ['2'] }), 'rows with CommlogNum 1 to 1');
    assert.equal(describeRange({ columns: ['CommlogNum'], after: ['4'], before: ['10'] }), 'rows with CommlogNum 5 to 9');
    assert.equal(describeRange({ columns: ['CommlogNum'], after: ['4'], before: null }), 'rows with CommlogNum 5 and above');
    assert.equal(describeRange({ columns: ['id'], after: null, before: ['7'] }), 'rows with id up to 6');
    assert.equal(describeRange({ columns: ['Code'], after: ['D0120'], before: ['D0150'] }), 'rows with Code after D0120 and before D0150');
    assert.equal(describeRange({ columns: ['a', 'b'], after: ['1', 'x'], before: null }), 'rows with (a, b) after (1, x)');
    assert.equal(describeRange({ columns: ['PatNum'], after: null, before: null }), 'rows somewhere in the table');
  });

  it("says Open Dental's main tables in the office's words", () => {
    assert.equal(describeLoss('patient', [{ columns: ['PatNum'], after: ['10422'], before: ['10589'] }]), 'patients 10423 to 10588');
    assert.equal(describeLoss('userod', [{ columns: ['UserNum'], after: null, before: ['3'] }, { columns: ['UserNum'], after: ['8'], before: null }]), 'logins 1 to 2; logins 9 and above');
    assert.equal(describeLoss('commlog', [{ columns: ['CommlogNum'], after: null, before: ['2'] }]), 'rows with CommlogNum 1 to 1');
    assert.equal(describeLoss('commlog', undefined), '');
  });

  it('calls the pieces of a file "parts", with their numbers in brackets for support', () => {
    assert.equal(partNumbers([[3, 3], [7, 9]]), '[3, 7-9]');
    assert.equal(damagedPartsText(4, 45, [[3, 3], [7, 9]]), '4 of its 45 parts cannot be read [3, 7-9]');
  });
});

describe('drawing', () => {
  it('wraps at spaces, keeps the hanging indent, never splits a word (a path only after a slash)', () => {
    const lines = wrapText('  - Send this report to IT (it opens in a web browser): /tmp/some-folder/opendental_restored_20261130-20261130-055059.html', 60);
    assert.deepEqual(lines, ['  - Send this report to IT (it opens in a web browser):', '    /tmp/some-folder/', '    opendental_restored_20261130-20261130-055059.html']);
    for (const l of wrapText('word '.repeat(100).trim(), 77)) assert.ok(l.length <= 77 && !l.startsWith(' ') && !l.endsWith(' '), l);
    assert.deepEqual(wrapText('  Backup:   file.lrb: database opendental, made 30 Nov 2026, 03:00 (3.1 MB, whole)', 50), ['  Backup:   file.lrb: database opendental, made 30', '            Nov 2026, 03:00 (3.1 MB, whole)']);
  });

  it('breaks a command so that it still pastes as the same command', () => {
    const command = "lastresort recover /tmp/lr-tty-int-abc/backup.lrb --target mysql://root@127.0.0.1:3306/lr_rtty_int --resume --report-dir '/tmp/a b/it'\\''s'";
    const lines = wrapCommand(`  ${command}`, 50);
    assert.ok(lines.length > 1);
    for (const l of lines) assert.ok(l.length <= 50, l);
    assert.equal(lines.map((l) => l.trim().replace(/ \\$/, '')).join(' '), command);
  });

  it('fits live lines and shortens paths in the middle', () => {
    assert.equal(liveWidth({ columns: 80 }), 77);
    assert.equal(fitLine('x'.repeat(100), 77).length, 77);
    const short = shortenMiddle('/home/office/backups/very/deep/folder/lastresort-sandbox', 30);
    assert.equal(short.length, 30);
    assert.ok(short.startsWith('/home/') && short.endsWith('lastresort-sandbox') && short.includes('…'), short);
  });

  it('the bar puts the time left first, fits 80 columns, and shows 100% only when done', async () => {
    const { stream, written } = terminal(80);
    const bar = new Progress(true, stream);
    const total = 1_000_000;
    for (const done of [100_000, 500_000, total]) {
      await new Promise((r) => setTimeout(r, 120)); // time passes, so there is a rate to tell the time left from
      bar.update({ done, total, label: '21/22 tables · 1,234,567 rows · 31.9 MB of 31.9 MB' });
    }
    bar.done();
    bar.done(); // a second call writes nothing more
    const draws = written().split('\r\x1b[2K').filter(Boolean);
    assert.equal(draws.length, 3, JSON.stringify(written()));
    for (const d of draws) assert.ok([...d].length <= 77, `a live line wider than the terminal: ${d}`);
    assert.match(draws[0], /^█*░* +10% · about \d+ s left · 21\/22 tables/);
    assert.match(draws[2], / 99% · 21\/22 tables/, 'all bytes read is not the end of the work');
    assert.ok(!written().includes('100%'));
    assert.ok(written().endsWith('\r\x1b[2K'), 'done() clears the line');
  });

  it("the wizard's items bar is the same bar in items mode: no byte rate, cleared by a message", async () => {
    const { stream, written } = terminal(80);
    const ask = terminalAsk(stream);
    const bar = ask.progress('items');
    for (const done of [3, 11]) {
      await new Promise((r) => setTimeout(r, 120));
      bar.update({ done, total: 22, label: `${done} of 22 tables checked` });
    }
    ask.say('Checked.');
    bar.done();
    const draws = written().split('\r\x1b[2K').filter(Boolean);
    assert.match(draws[0], /^█*░* +13% · about \d+ s left · 3 of 22 tables checked$/);
    assert.match(draws[1], / 50% · about \d+ s left · 11 of 22 tables checked$/);
    assert.ok(!/\/s\b/.test(written()), 'items have no rate per second');
    assert.equal(draws[2], 'Checked.\n', 'the bar is cleared before the message');
  });
});
