/**
 * Makes progress-name.lrb (see README.md):
 *
 *   npx tsx test/vectors/bookkeeping/make-progress-name.ts
 *
 * A genuine backup (the project's tar writer and encrypting writer, the
 * vectors' password and cheap KDF, a producer key made for the run:
 * ../hostile/payload.ts) of the payload in spec.ts.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { encrypt, payloadBytes } from '../hostile/payload.js';
import { progressNamePayload, VECTOR_FILE } from './spec.js';

const DIR = fileURLToPath(new URL('.', import.meta.url));
await writeFile(DIR + VECTOR_FILE, await encrypt(await payloadBytes(progressNamePayload())));
