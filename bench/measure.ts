/**
 * Measuring child processes for the benchmark: wall time from this process's
 * clock, and per process peak RSS and CPU time from GNU time (`/usr/bin/time
 * -v`), which reads them from the kernel when the process ends (getrusage),
 * so nothing is sampled and nothing is missed.
 *
 * A pipeline (`mysqldump | age`) runs under bash with every stage wrapped in
 * its own GNU time, so each stage's peak RSS is reported separately.
 *
 * Phases: lastresort restore spends its first second or so in argon2id,
 * which allocates the KDF's memory (256 MiB by default) and frees it before
 * any data moves. When `phaseMarker` matches a line on stderr, the process's
 * peak so far is kept as the first phase's, the kernel's high-water mark is
 * reset (`echo 5 > /proc/PID/clear_refs`), and it is read again until the
 * process ends: that is the streaming phase's peak, the figure that must
 * stay flat whatever the backup size. (The reset also lowers what GNU time
 * reports, the same high-water mark, so the process's peak is the larger of
 * the two phases'; the second is polled every 25 ms.)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ProcessFigures {
  name: string;
  peakRssKiB: number | null;
  cpuSeconds: number | null;
  exitStatus: number | null;
}

export interface Measured {
  label: string;
  command: string;
  seconds: number;
  exitCode: number;
  /** The largest peak RSS of any measured process. */
  peakRssKiB: number | null;
  /** CPU seconds (user + system) of all measured processes. */
  cpuSeconds: number | null;
  processes: ProcessFigures[];
  /** CPU seconds the database server used meanwhile (with everything else it served), when it runs here. */
  serverCpuSeconds: number | null;
  /** The machine's 1-minute load average before and after: how contended the run was. */
  load: [number, number];
  /** Set when a phase marker was seen: peak RSS before it, and after it (reset at the marker). */
  phases?: { beforeMarkerPeakKiB: number | null; afterMarkerPeakKiB: number | null; markerAtSeconds: number };
  stdout: string;
  stderr: string;
}

export interface Stage {
  name: string;
  argv: string[];
}

export interface MeasureOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Files for the pipeline's stdin / stdout (else stdin is empty and stdout is captured). */
  stdinFile?: string;
  stdoutFile?: string;
  /** A line on stderr that ends the first phase (see above); only for a single stage. */
  phaseMarker?: RegExp;
  /** The database server's process, to read its CPU time before and after. */
  serverPid?: number | null;
}

const sh = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export function describeStages(stages: Stage[], opts: MeasureOptions = {}): string {
  return stages.map((s) => s.argv.map(sh).join(' ')).join(' | ') + (opts.stdinFile ? ` < ${sh(opts.stdinFile)}` : '') + (opts.stdoutFile ? ` > ${sh(opts.stdoutFile)}` : '');
}

/** GNU time's -v report: the fields we use. */
export function parseTimeReport(text: string): { peakRssKiB: number | null; cpuSeconds: number | null; exitStatus: number | null } {
  const num = (re: RegExp) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : null;
  };
  const user = num(/User time \(seconds\): ([\d.]+)/);
  const sys = num(/System time \(seconds\): ([\d.]+)/);
  return {
    peakRssKiB: num(/Maximum resident set size \(kbytes\): (\d+)/),
    cpuSeconds: user === null || sys === null ? null : Math.round((user + sys) * 100) / 100,
    exitStatus: num(/Exit status: (\d+)/),
  };
}

/** utime + stime of a process, in seconds (clock ticks are 1/100 s on Linux). */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return null;
  }
}

const loadAverage = () => Math.round(loadavg()[0] * 100) / 100;

function childOf(pid: number): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function statusKiB(pid: number, field: 'VmHWM' | 'VmRSS'): number | null {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Runs `stages` as a pipeline; rejects only when it cannot be started (a failing command gives exitCode != 0). */
export async function measure(label: string, stages: Stage[], opts: MeasureOptions = {}): Promise<Measured> {
  const dir = mkdtempSync(join(tmpdir(), 'lr-bench-'));
  try {
    const reports = stages.map((_, i) => join(dir, `time-${i}.txt`));
    const script = 'set -o pipefail\n' + stages.map((s, i) => ['/usr/bin/time', '-v', '-o', reports[i], ...s.argv].map(sh).join(' ')).join(' | ');
    const stdin = opts.stdinFile ? openSync(opts.stdinFile, 'r') : 'ignore';
    const stdout = opts.stdoutFile ? openSync(opts.stdoutFile, 'w') : 'pipe';
    const loadBefore = loadAverage();
    const serverBefore = opts.serverPid ? processCpuSeconds(opts.serverPid) : null;
    const started = process.hrtime.bigint();
    const child = spawn('/bin/bash', ['-c', script], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: [stdin, stdout, 'pipe'] });
    if (typeof stdin === 'number') closeSync(stdin);
    if (typeof stdout === 'number') closeSync(stdout);
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));

    let phases: Measured['phases'];
    let poll: NodeJS.Timeout | null = null;
    let target: number | null = null;
    const watchPhase = () => {
      if (!opts.phaseMarker || phases || !opts.phaseMarker.test(err)) return;
      const markerAtSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      // bash -> time -> command (bash may have exec'd time itself): go down to the command.
      target = child.pid ?? null;
      while (target !== null && ['bash', 'time'].includes(commOf(target))) target = childOf(target);
      if (target === null) return;
      phases = { beforeMarkerPeakKiB: statusKiB(target, 'VmHWM'), afterMarkerPeakKiB: null, markerAtSeconds };
      try {
        writeFileSync(`/proc/${target}/clear_refs`, '5');
      } catch {
        phases.beforeMarkerPeakKiB = null; // cannot reset: the split is unknown
        return;
      }
      poll = setInterval(() => {
        const hwm = target === null ? null : statusKiB(target, 'VmHWM');
        if (hwm !== null && phases) phases.afterMarkerPeakKiB = Math.max(phases.afterMarkerPeakKiB ?? 0, hwm);
      }, 25);
    };
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err += d;
      watchPhase();
    });
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (poll) clearInterval(poll);
    const serverAfter = opts.serverPid ? processCpuSeconds(opts.serverPid) : null;

    const processes = stages.map((s, i) => {
      let text = '';
      try {
        text = readFileSync(reports[i], 'utf8');
      } catch {
        // the stage never started
      }
      return { name: s.name, ...parseTimeReport(text) };
    });
    const rss = processes.map((p) => p.peakRssKiB).filter((v): v is number => v !== null);
    const cpu = processes.map((p) => p.cpuSeconds).filter((v): v is number => v !== null);
    return {
      label,
      command: describeStages(stages, opts),
      seconds: Math.round(seconds * 100) / 100,
      exitCode,
      // The reset at the marker also resets what GNU time reports (ru_maxrss is the same high-water mark).
      peakRssKiB: rss.length || phases?.beforeMarkerPeakKiB ? Math.max(...rss, phases?.beforeMarkerPeakKiB ?? 0) : null,
      cpuSeconds: cpu.length ? Math.round(cpu.reduce((a, b) => a + b, 0) * 100) / 100 : null,
      processes,
      serverCpuSeconds: serverBefore === null || serverAfter === null ? null : Math.round((serverAfter - serverBefore) * 100) / 100,
      load: [loadBefore, loadAverage()],
      phases,
      stdout: out,
      stderr: err,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
