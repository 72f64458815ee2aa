/**
 * Runs dist/windows/lastresort.exe under Wine (Debian's wine64), as a Windows
 * PC would run it. Wine's pipes fail with EBADF for Windows' node.exe, so
 * stdout and stderr go to files and stdin comes from /dev/null. The Wine
 * prefix is made once (as Windows 10: Node 20 refuses Wine's default,
 * Windows 7) and kept in node_modules/.cache. Timeouts are generous: a loaded
 * 2-core machine starts Wine slowly.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const EXE = join(root, 'dist', 'windows', 'lastresort.exe');
const PREFIX = join(root, 'node_modules', '.cache', 'lastresort-windows', 'wineprefix');

/** Debian puts wine64 outside PATH (dpkg -L wine64). */
export function wineBinary(): string {
  for (const p of ['/usr/lib/wine/wine64', '/usr/bin/wine64', '/usr/bin/wine']) if (existsSync(p)) return p;
  throw new Error('Wine is not installed: apt-get install -y wine64 (npm run test:windows does it as root)');
}

export function wineEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, WINEPREFIX: PREFIX, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=', ...extra };
  // The Linux test run's own variables mean nothing to the Windows program, and a password must come from a file.
  for (const name of ['LASTRESORT_PASSWORD', 'LASTRESORT_DB_PASSWORD', 'LASTRESORT_PRODUCER_KEY', 'NODE_OPTIONS']) if (!(name in extra)) delete env[name];
  return env;
}

/** Makes the prefix (first run: about 10 s) and tells Wine to say Windows 10. */
export function preparePrefix(): void {
  if (existsSync(join(PREFIX, 'system.reg')) && existsSync(join(PREFIX, '.lastresort-win10'))) return;
  mkdirSync(PREFIX, { recursive: true });
  const r = spawnSync(wineBinary(), ['winecfg', '/v', 'win10'], { env: wineEnv(), stdio: 'ignore', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`winecfg /v win10 failed (${r.status ?? r.signal})`);
  spawnSync('wineserver', ['-w'], { env: wineEnv(), stdio: 'ignore', timeout: 120_000 });
  closeSync(openSync(join(PREFIX, '.lastresort-win10'), 'w'));
}

/** A Linux path as the Windows program sees it (Wine maps / to Z:). */
export function winPath(p: string): string {
  return `Z:${resolve(p).replace(/\//g, '\\')}`;
}

export interface ExeResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the executable with `args` (a Windows program's argv) and waits for it. */
export function runExe(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; program?: string } = {}): Promise<ExeResult> {
  const dir = mkdtempSync(join(tmpdir(), 'lr-wine-'));
  const files = { out: join(dir, 'out'), err: join(dir, 'err') };
  const fds = [openSync('/dev/null', 'r'), openSync(files.out, 'w'), openSync(files.err, 'w')];
  return new Promise((done, fail) => {
    const child = spawn(wineBinary(), [opts.program ?? EXE, ...args], { env: wineEnv(opts.env), stdio: fds });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      for (const fd of fds) closeSync(fd);
      const result = { code, stdout: readFileSync(files.out, 'utf8'), stderr: readFileSync(files.err, 'utf8') };
      rmSync(dir, { recursive: true, force: true });
      done(result);
    });
  });
}
