/** The committed forgery vectors (test/vectors/forged/README.md): each refused with LR_NOT_AUTHENTIC, the genuine one opens. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { locateHeader, readPayload, unlockBackup } from '../../src/format/reader.js';
import { isLrError } from '../../src/errors.js';
import { VECTOR_PASSWORD } from '../vectors/plaintext.js';
import { FORGED, FORGED_DIR } from '../vectors/forged/make-forged.js';

for (const v of FORGED) {
  test(`${v.file}: ${v.error ?? 'opens'}`, async () => {
    const located = await locateHeader(fileURLToPath(new URL(v.file, FORGED_DIR)));
    if (!v.error) {
      const unlocked = await unlockBackup(located, VECTOR_PASSWORD);
      assert.ok(unlocked);
      const parts: Buffer[] = [];
      for await (const s of readPayload(unlocked).segments) if (s.data) parts.push(s.data);
      assert.equal(Buffer.concat(parts).toString(), 'the genuine backup\n');
      return;
    }
    assert.equal(located.header.admin?.userName, 'jsmith', 'the header claims jsmith');
    await assert.rejects(unlockBackup(located, VECTOR_PASSWORD), (e) => isLrError(e, v.error!) && /not made by this practice's backup service/.test((e as Error).message));
  });
}
