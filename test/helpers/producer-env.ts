/**
 * Each test process gets its own producer key file, as a real producer keeps
 * one beside its settings; CLI children inherit the variable. Made on first
 * use by the first enrollment (with the cheap test key derivation).
 */
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRODUCER_KEY_ENV } from '../../src/keys/producer.js';

process.env[PRODUCER_KEY_ENV] ??= join(tmpdir(), `lrtest-producer-${process.pid}-${randomBytes(4).toString('hex')}`, 'producer-key.json');

export const PRODUCER_KEY_FILE = process.env[PRODUCER_KEY_ENV]!;
