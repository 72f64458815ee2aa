/**
 * Makes opendental.tar, the checked-in plaintext that the tar reader and
 * the row cleaner are tested on without a database
 * (test/damage/tar-stream.test.ts):
 *
 *   npx tsx test/vectors/plaintext/make-plaintext.ts
 *
 * It is the decrypted payload of a real backup, made by the project's own
 * producer from the Open Dental-shaped fixture (15 patients, seed 7) with
 * 1 KiB chunks and 4 KiB data pieces, so that a small file holds many
 * entries, pieces and chunk boundaries. Needs the test server once; the
 * tests that read it do not.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { makeGoodBackup } from '../../damage/good-backup.js';
import { dropTempDatabases } from '../../helpers/db.js';

const out = fileURLToPath(new URL('opendental.tar', import.meta.url));
const good = await makeGoodBackup({ prefix: 'lrplain_src', patients: 15, chunkSize: 1024, pieceBytes: 4096 });
await writeFile(out, good.plaintext);
await good.cleanup();
await dropTempDatabases();
console.log(`${out}: ${good.plaintext.length} bytes`);
