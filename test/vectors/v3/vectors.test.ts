/**
 * Version 3's vectors (README.md and vectors.json here) through the same
 * suite as version 2's: fed whole, byte by byte and in 321-byte slices, the
 * keyed reader and `check` without the password agreeing, the copy
 * verification calling only the good file whole, `decrypt` writing exactly
 * the plaintext with lost chunks as zeros.
 */
import { VECTOR_CHUNK_SIZE, vectorTextPlaintext } from '../plaintext.js';
import { vectorTests } from '../suite.js';

vectorTests({ folder: new URL('./', import.meta.url), plaintext: vectorTextPlaintext(), chunkSize: VECTOR_CHUNK_SIZE });
