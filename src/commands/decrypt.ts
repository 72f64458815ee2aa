import { unlockLocated } from '../cli/password.js';
import { decryptToFile } from '../decrypt/decrypt.js';
import { locateNamed } from '../open/index.js';
import { readingInterruptibly } from '../cli/interrupt.js';
import { LrError } from '../errors.js';
import { note, printJson } from '../cli/output.js';
import { humanBytes } from '../text.js';
import { refuseUnusableOutput } from '../system/atomic-file.js';

export async function decryptCommand(file: string, o: { out: string; passwordFile?: string; recoveryCodeFile?: string; force?: boolean; json?: boolean }): Promise<void> {
  // Said before the password is asked; checked again when the file is put in place. A device or FIFO is written into.
  if (o.out !== '-') await refuseUnusableOutput(o.out, !!o.force);
  const r = await readingInterruptibly(file, async (signal) => decryptToFile(await unlockLocated(await locateNamed(file, signal), o), o.out, { replace: !!o.force }));
  const lost = r.damage.damagedChunks > 0 || r.damage.truncated;
  if (o.json && o.out !== '-') printJson({ out: r.out, bytes: r.bytes, damage: r.damage });
  else if (o.out !== '-') note(`Decrypted ${humanBytes(r.bytes)} to ${r.out}.`);
  if (lost) {
    throw new LrError('LR_DAMAGED', `The backup is damaged: ${r.damage.damagedChunks} chunk(s) lost${r.damage.truncated ? ', and it is cut short' : ''}; lost stretches were written as zeros. Use restore to recover the intact rows.`);
  }
}
