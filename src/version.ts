import { readFileSync } from 'node:fs';

// The Windows executable's bundle has no package.json beside it: esbuild writes the version in (scripts/package-windows.mjs).
declare const LASTRESORT_BUNDLED_VERSION: string | undefined;

/** The producer version written into every header, read once from package.json. */
export const VERSION: string = (() => {
  if (typeof LASTRESORT_BUNDLED_VERSION === 'string') return LASTRESORT_BUNDLED_VERSION;
  try {
    return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version as string;
  } catch {
    return '0.0.0';
  }
})();
