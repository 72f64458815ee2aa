/** The printable page for the practice safe: the code, what it opens, and how to use it. */

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function recoveryPage(p: { code: string; database: string; createdAt: string; fingerprint: string }): string {
  const made = new Date(p.createdAt).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lastresort recovery code</title>
<style>
body { font-family: sans-serif; max-width: 40em; margin: 3em auto; line-height: 1.5; }
.code { font-family: monospace; font-size: 1.6em; letter-spacing: 0.08em; border: 2px solid #000; padding: 0.6em; text-align: center; }
@media print { body { margin: 1em; } }
</style></head>
<body>
<h1>Backup recovery code</h1>
<p>Practice database: <strong>${escapeHtml(p.database)}</strong>. Made on ${escapeHtml(made)}.</p>
<p class="code">${escapeHtml(p.code)}</p>
<p>This code opens every backup of this database made from ${escapeHtml(made)} on, until the recovery key is removed,
when no admin's Open Dental password is known. Keep this page in the practice safe. Anyone holding it and a backup
file can read every patient record in that backup.</p>
<h2>How to use it</h2>
<ol>
<li>Run <code>lastresort recover</code> and choose "I don't have the password", then type the code.</li>
<li>Or save the code in a file and give <code>--recovery-code-file FILE</code> to <code>decrypt</code>, <code>restore</code> or <code>validate</code>.</li>
</ol>
<p>Spaces, dashes and upper or lower case do not matter when typing it. A typing mistake is detected and reported as such.</p>
<p>Key fingerprint (to match with <code>lastresort identify</code>): ${escapeHtml(p.fingerprint)}</p>
</body></html>
`;
}
