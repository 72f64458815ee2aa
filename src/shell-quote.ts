/** Single-quoted for a POSIX shell unless plainly safe, so that a printed command can be pasted as it is. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
