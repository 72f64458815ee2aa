/** Checks of the offsite settings, in the shape src/service/config.ts uses for every setting. */
import { LrError } from '../errors.js';
import { checkEndpoint } from './client.js';
import { checkPracticeId, parseStoreUrl } from './location.js';
import { absoluteHint, expandEnvVars, isAbsoluteFor } from '../system/win-path.js';

const bad = (key: string, why: string) => new LrError('LR_BAD_CONFIG', `The setting ${key} ${why}`);

/** A usage error from a shared parser, said as a settings error. */
function asSetting<T>(key: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof LrError) throw new LrError('LR_BAD_CONFIG', err.message);
    throw err;
  }
}

export const OFFSITE_CHECKS = {
  offsite: (v: unknown): string | null => {
    if (v === null) return null;
    if (typeof v !== 'string') throw bad('offsite', 'must look like s3://bucket/prefix.');
    asSetting('offsite', () => parseStoreUrl(v, 'The setting offsite'));
    return v.trim();
  },
  offsiteEndpoint: (v: unknown): string | null => {
    if (v === null) return null;
    if (typeof v !== 'string') throw bad('offsiteEndpoint', 'must be a URL like https://s3.example.com (or empty for AWS).');
    return asSetting('offsiteEndpoint', () => checkEndpoint(v, 'The setting offsiteEndpoint'));
  },
  offsiteRegion: (v: unknown): string | null => {
    if (v === null) return null;
    if (typeof v !== 'string' || !/^[a-z0-9-]{1,40}$/.test(v)) throw bad('offsiteRegion', 'must be a region name like us-east-1.');
    return v;
  },
  offsiteCredentialsFile: (v: unknown): string | null => {
    if (v === null) return null;
    if (typeof v !== 'string' || !isAbsoluteFor(expandEnvVars(v))) throw bad('offsiteCredentialsFile', `must be an absolute path (${absoluteHint()}) to the key file from the vendor.`);
    return v;
  },
  practiceId: (v: unknown): string | null => {
    if (v === null) return null;
    if (typeof v !== 'string') throw bad('practiceId', 'must be the id the vendor gave this practice.');
    return asSetting('practiceId', () => checkPracticeId(v, 'The setting practiceId'));
  },
};
