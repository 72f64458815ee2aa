/**
 * The benchmark's figures: medians over rounds, the ratios the goals are
 * stated in (issues 2 and 3), and the same table as text and as Markdown.
 */
import type { Measured } from './measure.js';
import type { SourceInfo } from './source.js';

export interface Figure {
  label: string;
  command: string;
  /** Median over rounds. */
  seconds: number;
  samples: number[];
  peakRssMiB: number | null;
  /** lastresort restore only: peak before / after key derivation. */
  kdfPeakRssMiB?: number | null;
  streamingPeakRssMiB?: number | null;
  cpuSeconds: number | null;
  /** CPU the database server used meanwhile (median), when it runs on this machine. */
  serverCpuSeconds: number | null;
  /** 1-minute load averages seen before and after each sample. */
  load: [number, number][];
  processes: { name: string; peakRssMiB: number | null; cpuSeconds: number | null }[];
  /** MyISAM: how long the tool held the office's writes (median ms), and how that is known. */
  writesHeldMs?: number;
  writesHeldHow?: string;
  /** --writer: the office's longest UPDATE meanwhile (median over rounds, ms). */
  writerLongestMs?: number;
}

/** Per tool, the writes-held figure of each round (ms) and where it comes from. */
export interface HeldSamples {
  samples: number[];
  how: string;
  /** --writer: the office's longest UPDATE during each round's run (ms). */
  writerSamples?: number[];
}

export interface Ratio {
  what: string;
  value: number | null;
  goal: string;
  met: boolean | null;
}

export interface BenchResult {
  when: string;
  command: string;
  git: string;
  machine: { cores: number; cpu: string; memoryGiB: number; node: string; server: Record<string, string> };
  source: SourceInfo;
  sizes: Record<string, number>;
  figures: Record<string, Figure>;
  ratios: Ratio[];
  /** The engine of the source's tables: the goals differ (issue 27: MyISAM at most 0.45x myloader). */
  engine?: 'InnoDB' | 'MyISAM';
}

const mib = (kib: number | null | undefined) => (kib === null || kib === undefined ? null : Math.round(kib / 1024));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const max = (xs: (number | null | undefined)[]) => {
  const v = xs.filter((x): x is number => typeof x === 'number');
  return v.length ? Math.max(...v) : null;
};
const round2 = (x: number) => Math.round(x * 100) / 100;

export function summarise(input: Omit<BenchResult, 'figures' | 'ratios'> & { samples: Record<string, Measured[]>; held?: Record<string, HeldSamples> }): BenchResult {
  const figures: Record<string, Figure> = {};
  for (const [key, ms] of Object.entries(input.samples)) {
    const f: Figure = {
      label: ms[0].label,
      command: ms[0].command,
      seconds: round2(median(ms.map((m) => m.seconds))),
      samples: ms.map((m) => m.seconds),
      peakRssMiB: mib(max(ms.map((m) => m.peakRssKiB))),
      cpuSeconds: round2(median(ms.map((m) => m.cpuSeconds ?? 0))),
      serverCpuSeconds: ms.every((m) => m.serverCpuSeconds !== null) ? round2(median(ms.map((m) => m.serverCpuSeconds ?? 0))) : null,
      load: ms.map((m) => m.load),
      processes: ms[0].processes.map((p, i) => ({ name: p.name, peakRssMiB: mib(max(ms.map((m) => m.processes[i]?.peakRssKiB))), cpuSeconds: p.cpuSeconds })),
    };
    if (ms.some((m) => m.phases)) {
      f.kdfPeakRssMiB = mib(max(ms.map((m) => m.phases?.beforeMarkerPeakKiB)));
      f.streamingPeakRssMiB = mib(max(ms.map((m) => m.phases?.afterMarkerPeakKiB)));
    }
    const h = input.held?.[key];
    if (h && h.samples.length > 0) {
      f.writesHeldMs = Math.round(median(h.samples));
      f.writesHeldHow = h.how;
      if (h.writerSamples?.length) f.writerLongestMs = Math.round(median(h.writerSamples));
    }
    figures[key] = f;
  }
  const { samples: _samples, held: _held, ...rest } = input;
  void _samples;
  void _held;
  const ratio = (what: string, a: string, b: string, limit: number): Ratio => {
    const fa = figures[a];
    const fb = figures[b];
    const value = fa && fb ? round2(fa.seconds / fb.seconds) : null;
    return { what, value, goal: `<= ${limit.toFixed(2)}`, met: value === null ? null : value <= limit };
  };
  const rss = (what: string, v: number | null | undefined): Ratio => ({ what, value: v ?? null, goal: '< 150 MiB', met: v === null || v === undefined ? null : v < 150 });
  const myisam = input.engine === 'MyISAM';
  const ratios = [
    myisam ? ratio('backup / (mysqldump --lock-all-tables | age)', 'lastresort backup', 'mysqldump | age', 0.8) : ratio('backup / (mysqldump | age)', 'lastresort backup', 'mysqldump | age', 1),
    ratio('restore / mysql client', 'lastresort restore', 'mysql < dump.sql', 0.35),
    ratio('restore / myloader', 'lastresort restore', 'myloader', input.engine === 'MyISAM' ? 0.45 : 0.5),
    rss('backup peak RSS (MiB)', figures['lastresort backup']?.peakRssMiB),
    rss('restore peak RSS after key derivation (MiB)', figures['lastresort restore']?.streamingPeakRssMiB),
  ];
  if (myisam) ratios.push(heldGoal(figures));
  return { ...rest, figures, ratios };
}

/** MyISAM (issue 25): writes held no longer than reading the held tables takes, plus a second. */
function heldGoal(figures: Record<string, Figure>): Ratio {
  const held = figures['lastresort backup']?.writesHeldMs;
  const readS = figures['read held']?.seconds;
  const read = readS === undefined ? undefined : readS * 1000;
  const what = 'backup writes held (s)';
  if (held === undefined || read === undefined) return { what, value: held === undefined ? null : round2(held / 1000), goal: '<= read + 1 s', met: null };
  return { what, value: round2(held / 1000), goal: `<= ${((read + 1000) / 1000).toFixed(2)}`, met: held <= read + 1000 };
}

const fmtS = (s: number | null | undefined) => (s === null || s === undefined ? '-' : s.toFixed(1));
const fmtM = (m: number | null | undefined) => (m === null || m === undefined ? '-' : `${m} MiB`);

function rows(r: BenchResult): { section: string; name: string; f: Figure; vs: string }[] {
  const out: { section: string; name: string; f: Figure; vs: string }[] = [];
  const push = (section: string, key: string, name: string, base?: string) => {
    const f = r.figures[key];
    if (!f) return;
    const b = base ? r.figures[base] : undefined;
    out.push({ section, name, f, vs: b && key !== base ? `${(f.seconds / b.seconds).toFixed(2)}x` : '' });
  };
  // The backup rows are named by what ran (MyISAM's baselines are not InnoDB's).
  const label = (key: string, fallback: string) => r.figures[key]?.label ?? fallback;
  push('backup', 'lastresort backup', 'lastresort backup', 'mysqldump | age');
  push('backup', 'mysqldump', label('mysqldump', 'mysqldump --single-transaction > dump.sql'), 'mysqldump | age');
  push('backup', 'mysqldump | age', label('mysqldump | age', 'mysqldump --single-transaction | age'), 'mysqldump | age');
  push('backup', 'mydumper', 'mydumper --threads 2', 'mysqldump | age');
  push('backup', 'read held', label('read held', 'read the held tables'), 'mysqldump | age');
  push('restore', 'lastresort restore', 'lastresort restore (key derivation included)', 'mysql < dump.sql');
  push('restore', 'mysql < dump.sql', 'mysql < dump.sql', 'mysql < dump.sql');
  push('restore', 'age -d | mysql', 'age -d | mysql', 'mysql < dump.sql');
  push('restore', 'myloader', 'myloader --threads 2', 'mysql < dump.sql');
  return out;
}

const hasHeld = (r: BenchResult) => Object.values(r.figures).some((f) => f.writesHeldMs !== undefined);
/** Seconds the office's writes were held (blank for a row that has no such figure). */
const fmtHeld = (f: Figure) => (f.writesHeldMs === undefined ? '' : `${(f.writesHeldMs / 1000).toFixed(1)} s${f.writerLongestMs === undefined ? '' : ` (office ${(f.writerLongestMs / 1000).toFixed(1)} s)`}`);

function rssText(f: Figure): string {
  if (f.streamingPeakRssMiB !== undefined) return `${fmtM(f.streamingPeakRssMiB)} (${fmtM(f.kdfPeakRssMiB)} during key derivation)`;
  if (f.processes.length > 1) return f.processes.map((p) => `${p.name} ${fmtM(p.peakRssMiB)}`).join(', ');
  return fmtM(f.peakRssMiB);
}

export function renderText(r: BenchResult, other?: BenchResult): string {
  const lines: string[] = [];
  const s = r.machine.server;
  lines.push('');
  lines.push(`${r.source.database}: ${r.source.rows.toLocaleString('en-US')} rows · ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB · MariaDB ${s.version ?? '?'}, buffer pool ${Math.round(Number(s.innodb_buffer_pool_size) / 2 ** 20)} MiB · node ${r.machine.node} · ${r.when}`);
  lines.push('');
  const w = Math.max(48, ...rows(r).map((row) => row.name.length + 3));
  let section = '';
  const heldCol = hasHeld(r);
  const hw = Math.max(12, ...Object.values(r.figures).map((f) => fmtHeld(f).length));
  const heldText = (f: Figure) => (heldCol ? ` ${fmtHeld(f).padStart(hw)}` : '');
  lines.push(`${''.padEnd(w)} ${'seconds'.padStart(8)} ${'ratio'.padStart(7)}${heldCol ? ` ${'writes held'.padStart(hw)}` : ''} ${'CPU s'.padStart(7)} ${'server'.padStart(7)}  peak RSS`);
  for (const row of rows(r)) {
    if (row.section !== section) {
      section = row.section;
      lines.push(section);
    }
    lines.push(`  ${row.name.padEnd(w - 2)} ${fmtS(row.f.seconds).padStart(8)} ${row.vs.padStart(7)}${heldText(row.f)} ${fmtS(row.f.cpuSeconds).padStart(7)} ${fmtS(row.f.serverCpuSeconds).padStart(7)}  ${rssText(row.f)}`);
  }
  if (heldCol) {
    lines.push('');
    lines.push('writes held: how each figure is known');
    for (const row of rows(r)) if (row.f.writesHeldHow) lines.push(`  ${row.name.padEnd(w - 2)} ${row.f.writesHeldHow}`);
    if (Object.values(r.figures).some((f) => f.writerLongestMs !== undefined)) lines.push("  (office N s): an office UPDATE on a MyISAM table every 20 ms during that run, the longest one took N s");
  }
  lines.push('');
  lines.push('goals');
  for (const q of r.ratios) lines.push(`  ${q.what.padEnd(w - 2)} ${(q.value === null ? '-' : String(q.value)).padStart(8)} ${q.goal.padStart(12)}  ${q.met === null ? 'not measured' : q.met ? 'met' : 'NOT met'}`);
  if (other) {
    const a = [r, other].sort((x, y) => x.source.rows - y.source.rows);
    lines.push('');
    lines.push('peak RSS at both sizes (the other from its last run, bench/results/)');
    for (const key of ['lastresort backup', 'lastresort restore']) {
      const v = a.map((x) => (key === 'lastresort restore' ? x.figures[key]?.streamingPeakRssMiB : x.figures[key]?.peakRssMiB));
      lines.push(`  ${key.padEnd(w - 2)} ${a.map((x, i) => `${(x.source.rows / 1e6).toFixed(1)}M rows: ${fmtM(v[i])}`).join(' · ')}`);
    }
  }
  lines.push('');
  return lines.join('\n');
}

export function renderMarkdown(r: BenchResult): string {
  const s = r.machine.server;
  const out: string[] = [];
  out.push(`\`${r.command}\` on ${r.source.database} (${r.source.rows.toLocaleString('en-US')} rows; ${(r.sizes['dump.sql'] / 1e6).toFixed(0)} MB as a mysqldump file, ${(r.sizes['lastresort .lrb'] / 1e6).toFixed(0)} MB as a .lrb), ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, MariaDB ${s.version ?? '?'} with default settings (buffer pool ${Math.round(Number(s.innodb_buffer_pool_size) / 2 ** 20)} MiB), node ${r.machine.node}, ${r.when.slice(0, 10)}:`);
  out.push('');
  const heldCol = hasHeld(r);
  const cell = (f: Figure) => (heldCol ? ` ${fmtHeld(f)} |` : '');
  out.push(`| | seconds | ratio |${heldCol ? ' writes held |' : ''} CPU s (client) | CPU s (server) | peak RSS |`);
  out.push(`| --- | ---: | ---: |${heldCol ? ' ---: |' : ''} ---: | ---: | --- |`);
  let section = '';
  for (const row of rows(r)) {
    if (row.section !== section) {
      section = row.section;
      out.push(`| **${section}** | | | |${heldCol ? ' |' : ''} | |`);
    }
    out.push(`| ${row.name.replace(/\|/g, '\\|')} | ${fmtS(row.f.seconds)} | ${row.vs} |${cell(row.f)} ${fmtS(row.f.cpuSeconds)} | ${fmtS(row.f.serverCpuSeconds)} | ${rssText(row.f)} |`);
  }
  if (heldCol) {
    out.push('');
    if (Object.values(r.figures).some((f) => f.writerLongestMs !== undefined)) out.push("(office N s): an office UPDATE on a MyISAM table every 20 ms during that run, the longest one took N s.", '');
    out.push('Writes held: ' + rows(r).filter((row) => row.f.writesHeldHow).map((row) => `${row.name.replace(/\|/g, '\\|')}: ${row.f.writesHeldHow}`).join('; ') + '.');
  }
  out.push('');
  out.push('| goal | measured | target | |');
  out.push('| --- | ---: | ---: | --- |');
  for (const q of r.ratios) out.push(`| ${q.what.replace(/\|/g, '\\|')} | ${q.value ?? '-'} | ${q.goal} | ${q.met === null ? 'not measured' : q.met ? 'met' : 'not met'} |`);
  out.push('');
  return out.join('\n');
}
