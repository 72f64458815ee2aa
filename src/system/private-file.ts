/**
 * Files only their owner's side may read. On Linux that is mode 0600 (set as
 * each file is opened, as before). On Windows a mode means nothing (a file
 * reads back as 0666), so each file the tool writes gets an ACL instead, set
 * as it is created: SYSTEM, Administrators and the file's owner (OWNER RIGHTS),
 * full control, nothing inherited from the folder. SIDs, not names: the names
 * are translated on a German or French Windows, the SIDs are not.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, win32 } from 'node:path';
import { LrError } from '../errors.js';
import { log } from '../log.js';

/** The accounts a private file is open to: SYSTEM, BUILTIN\Administrators, OWNER RIGHTS. */
export const PRIVATE_SIDS = ['S-1-5-18', 'S-1-5-32-544', 'S-1-3-4'] as const;
/** The same accounts as SDDL writes them (icacls /save prints the short forms for well-known SIDs). */
const ALLOWED_TRUSTEES = new Set<string>([...PRIVATE_SIDS, 'SY', 'BA', 'OW']);

export function isWindows(platform: string = process.platform): boolean {
  return platform === 'win32';
}

/** icacls.exe by its full path, never through PATH. */
export function icaclsPath(env: NodeJS.ProcessEnv = process.env): string {
  return win32.join(env.SystemRoot ?? env.windir ?? 'C:\\Windows', 'System32', 'icacls.exe');
}

/** The icacls arguments that make `path` private: inheritance removed, then only the three accounts granted. */
export function privateAclArgs(path: string, opts: { folder?: boolean } = {}): string[] {
  // A folder's grant is inherited by what is made inside it later: (OI)(CI).
  const rights = opts.folder ? '(OI)(CI)(F)' : '(F)';
  return [path, '/inheritance:r', '/grant:r', ...PRIVATE_SIDS.map((sid) => `*${sid}:${rights}`), '/Q'];
}

/**
 * Makes a file (or folder) private. POSIX: nothing to do here, its mode was set as
 * it was opened. Windows: runs icacls; a failure is an error, since the file
 * would otherwise stay open to every user of the PC.
 */
export function makePrivate(path: string, opts: { folder?: boolean } = {}): void {
  if (!isWindows()) return;
  try {
    execFileSync(icaclsPath(), privateAclArgs(path, opts), { stdio: 'ignore', windowsHide: true, timeout: 30_000 });
  } catch (err) {
    throw new LrError('LR_IO', `Could not make ${path} readable by administrators only (icacls failed). Check that this account may change the file's permissions.`, { cause: err });
  }
}

export interface AclVerdict {
  /** private: only the allowed accounts, nothing inherited; open: someone else may read it; unknown: the ACL could not be read. */
  state: 'private' | 'open' | 'unknown';
  /** The trustees (SIDs, or SDDL short forms) that should not be there, or that an entry is inherited. */
  problems: string[];
}

/** Judges an SDDL string such as icacls /save writes: "D:PAI(A;;FA;;;SY)(A;;FA;;;BA)". */
export function judgeSddl(sddl: string): AclVerdict {
  const dacl = /D:([A-Z]*)((?:\([^)]*\))*)/.exec(sddl);
  if (!dacl) return { state: 'unknown', problems: [] };
  const problems: string[] = [];
  if (!dacl[1]!.includes('P')) problems.push('inherits from its folder');
  for (const ace of dacl[2]!.match(/\(([^)]*)\)/g) ?? []) {
    const [type, flags, , , , trustee] = ace.slice(1, -1).split(';');
    if (type === 'D') continue; // a deny entry takes nothing away from privacy
    if (flags?.includes('ID')) problems.push(`${trustee} (inherited)`);
    else if (!ALLOWED_TRUSTEES.has(trustee ?? '')) problems.push(trustee ?? '?');
  }
  return { state: problems.length ? 'open' : 'private', problems };
}

/** Reads a file's ACL on Windows (icacls /save writes its SDDL, in UTF-16) and judges it. */
export function windowsAcl(path: string): AclVerdict {
  const dir = mkdtempSync(join(tmpdir(), 'lr-acl-'));
  try {
    const saved = join(dir, 'acl.txt');
    execFileSync(icaclsPath(), [path, '/save', saved, '/Q'], { stdio: 'ignore', windowsHide: true, timeout: 30_000 });
    return judgeSddl(readFileSync(saved).toString('utf16le'));
  } catch {
    return { state: 'unknown', problems: [] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Whether other accounts may read `path`: POSIX by its mode, Windows by its ACL.
 * A Windows ACL that cannot be read (icacls missing, or Wine's, which prints
 * nothing) is logged and not taken as open: the tool set the ACL itself.
 */
export function openToOthers(path: string, opts: { padMode?: boolean } = {}): { open: boolean; how: string } {
  if (!isWindows()) {
    const mode = statSync(path).mode & 0o777;
    return { open: (mode & 0o077) !== 0, how: `mode ${mode.toString(8).padStart(opts.padMode ? 4 : 0, '0')}` };
  }
  const verdict = windowsAcl(path);
  if (verdict.state === 'unknown') log('system').warn({ path }, 'could not read the file\'s permissions (icacls); not checked');
  return { open: verdict.state === 'open', how: verdict.problems.length ? `open to ${verdict.problems.join(', ')}` : 'ACL' };
}

/** The one command a person runs to fix a file that others may read, for this platform. */
export function privateFix(path: string): string {
  if (!isWindows()) return `chmod 600 ${path}`;
  return `icacls "${path}" /inheritance:r /grant:r ${PRIVATE_SIDS.map((s) => `*${s}:(F)`).join(' ')}`;
}
