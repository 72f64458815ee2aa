import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatDsn, parseDsn } from '../../src/db/dsn.js';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a child process, as a person or a script would (no terminal). */
export function runCli(args: string[], opts: { env?: Record<string, string | undefined>; input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...opts.env };
    for (const name of ['LASTRESORT_PASSWORD', 'LASTRESORT_DB_PASSWORD']) {
      delete env[name];
      if (opts.env?.[name]) env[name] = opts.env[name];
    }
    const child = spawn(process.execPath, [CLI, ...withoutServerPassword(args, env)], { env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * The CLI refuses a password inside a DSN. When the test server has one
 * (LASTRESORT_TEST_DSN), DSNs made by test/helpers/db.ts carry it: it moves to
 * LASTRESORT_DB_PASSWORD, as a person would give it. Other passwords stay, so
 * tests of the refusal still see theirs.
 */
function withoutServerPassword(args: string[], env: Record<string, string | undefined>): string[] {
  const serverPassword = parseDsn(process.env.LASTRESORT_TEST_DSN ?? 'mysql://root@127.0.0.1:3306/', { requireDatabase: false }).password;
  if (!serverPassword) return args;
  return args.map((arg) => {
    if (!/^mysql:\/\//.test(arg)) return arg;
    const dsn = parseDsn(arg, { requireDatabase: false });
    if (dsn.password !== serverPassword) return arg;
    env.LASTRESORT_DB_PASSWORD ??= serverPassword;
    return formatDsn(dsn);
  });
}
