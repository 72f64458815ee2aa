/**
 * How fast an admin's password falls to an offline attack on the hash Open
 * Dental itself keeps in `userod.Password`. That hash is one salted SHA3-512
 * or MD5 (see opendental/password.ts): whoever can read the table (a copy of
 * the database, a stolen server backup) can test guesses at graphics-card
 * speed, and the right guess opens every backup made for that admin, however
 * costly our own argon2id is. So the guess count comes from zxcvbn-ts (a
 * maintained estimator with common-password and English dictionaries, keyboard
 * patterns, dates and l33t), and the speed from the hash format.
 */
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';
import type { OpenDentalHashFormat } from '../opendental/password.js';

/**
 * Guesses per second of one current graphics card, by hashcat's published
 * benchmarks for a high-end card (MD5 about 1.6e11/s; SHA3-512 a few 1e9/s),
 * rounded up: an attacker with several cards or a rented rig goes faster still.
 */
export const GPU_GUESSES_PER_SECOND: Readonly<Record<OpenDentalHashFormat, number>> = {
  SHA3_512: 5e9,
  MD5: 2e11,
  legacy: 2e11,
  MD5_ECW: 2e11,
};

/** "Found quickly": within one day on one such card. */
export const QUICK_SECONDS = 86_400;

export interface PasswordStrength {
  /** log10 of zxcvbn's estimate of the guesses a smart attacker needs. */
  guessesLog10: number;
  hashFormat: OpenDentalHashFormat;
  /** Expected time for one graphics card to reach that many guesses. */
  oneGpuSeconds: number;
  weak: boolean;
}

let estimator: ZxcvbnFactory | undefined;
function factory(): ZxcvbnFactory {
  estimator ??= new ZxcvbnFactory({
    translations: en.translations,
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...en.dictionary },
  });
  return estimator;
}

/**
 * The password's strength against `hashFormat`. `context` are words an
 * attacker would try first (the user name, the practice's database name).
 */
export async function estimateStrength(password: string, hashFormat: OpenDentalHashFormat, context: string[] = []): Promise<PasswordStrength> {
  const words = [...context, 'open dental', 'opendental', 'dental', 'lastresort'].filter((w) => w.length > 0);
  const result = await factory().check(password, words);
  const guessesLog10 = result.guessesLog10;
  const oneGpuSeconds = 10 ** guessesLog10 / GPU_GUESSES_PER_SECOND[hashFormat];
  return { guessesLog10, hashFormat, oneGpuSeconds, weak: oneGpuSeconds < QUICK_SECONDS };
}

/** "under a second", "about 3 minutes", "about 5 hours". */
export function humanDuration(seconds: number): string {
  if (seconds < 1) return 'under a second';
  if (seconds > 86_400 * 365 * 1e6) return 'more than a million years';
  const units: [number, string][] = [[86_400 * 365, 'year'], [86_400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];
  for (const [size, name] of units) {
    if (seconds >= size) {
      const n = Math.round(seconds / size);
      return `about ${n} ${name}${n === 1 ? '' : 's'}`;
    }
  }
  return 'under a second';
}

const HASH_NAMES: Record<OpenDentalHashFormat, string> = { SHA3_512: 'salted SHA3-512', MD5: 'salted MD5', legacy: 'unsalted MD5', MD5_ECW: 'unsalted MD5' };

export function hashName(format: OpenDentalHashFormat): string {
  return HASH_NAMES[format];
}
