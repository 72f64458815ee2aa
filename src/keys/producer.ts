/**
 * The producer's own store: a root-only file (0600) beside the service
 * settings, never in the practice database. It holds
 *   - the Ed25519 key that signs every backup header,
 *   - the secret that keys the password fingerprints,
 *   - the weakest key derivation it accepts at enrollment,
 *   - per database: the admin keys it pinned at enrollment, the recovery
 *     key's public half, and last night's admin.
 * Nothing in it opens a backup. Made on first use; a lost store means new
 * keys: old backups still open (the signing key travels sealed in each),
 * and the admins must enroll again.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LrError } from '../errors.js';
import { log } from '../log.js';
import { writeFileAtomic } from '../system/atomic-file.js';
import { defaultConfigPath } from '../system/paths.js';
import { openToOthers, privateFix } from '../system/private-file.js';
import { DEFAULT_KDF, keyFingerprint, newSigningKey, type KdfCost, type KdfParams, type SigningKey } from './crypto.js';

export const PRODUCER_KEY_ENV = 'LASTRESORT_PRODUCER_KEY';

/** An admin key as the producer pinned it at enrollment: the only copy it encrypts to. */
export interface PinnedKey {
  userNum: number;
  userName: string;
  publicKey: string;
  sealedPrivateKey: string;
  kdf: KdfParams;
  enrolledAt: string;
  /** keyedPasswordFingerprint of userod.Password at enrollment. */
  passwordFingerprint: string;
  /**
   * Set when the password was weak against Open Dental's own hash and the
   * admin enrolled anyway with --accept-weak-password: raised as an alert
   * every night until they enroll again with a stronger one.
   */
  weakPassword?: WeakPasswordRecord;
}

export interface WeakPasswordRecord {
  acceptedAt: string;
  hashFormat: string;
  guessesLog10: number;
  oneGpuSeconds: number;
}

export interface RecoveryPin {
  publicKey: string;
  sealedProducerKey: string;
  createdAt: string;
  fingerprint: string;
}

interface DatabasePins {
  admins: Record<string, PinnedKey>;
  recovery: RecoveryPin | null;
  lastAdmin: number | null;
}

interface StoreFile {
  format: 'lastresort-producer-key';
  version: 2;
  createdAt: string;
  signing: { algorithm: 'ed25519'; publicKey: string; privateKey: string };
  fingerprintKey: string;
  minimumKdf: KdfCost;
  databases: Record<string, DatabasePins>;
}

export interface ProducerStore {
  path: string;
  signingKey: SigningKey;
  fingerprint: string;
  fingerprintKey: Buffer;
  minimumKdf: KdfCost;
  /** True when this call made the store (a new producer key). */
  created: boolean;
  pins(database: string): DatabasePins;
  /** Applies a change to one database's pins and writes the file atomically. */
  update(database: string, change: (pins: DatabasePins) => void): Promise<void>;
  /** Raises the weakest accepted key derivation (never lowers it). */
  raiseMinimumKdf(kdf: KdfCost): Promise<void>;
}

export function defaultProducerKeyPath(): string {
  const env = process.env[PRODUCER_KEY_ENV];
  if (env && env.startsWith('/')) return env;
  return join(dirname(defaultConfigPath()), 'producer-key.json');
}

const emptyPins = (): DatabasePins => ({ admins: {}, recovery: null, lastAdmin: null });

/** Weaker = less memory or fewer passes than the producer's own setting. */
export function weakerThan(kdf: KdfCost, minimum: KdfCost): boolean {
  return kdf.memoryKiB < minimum.memoryKiB || kdf.iterations < minimum.iterations;
}

async function readStore(path: string): Promise<StoreFile | null> {
  let text: string;
  try {
    await stat(path);
    // Root-only (administrators only on Windows): a store that others may read has lost its point.
    if (openToOthers(path).open) throw new LrError('LR_BAD_CONFIG', `The producer key file ${path} can be read by other accounts. Run: ${privateFix(path)}`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof LrError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new LrError('LR_BAD_CONFIG', `Cannot read the producer key file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}). Run lastresort as the account that makes the backups (root).`, { cause: err });
  }
  try {
    const parsed = JSON.parse(text) as StoreFile;
    if (parsed.format === 'lastresort-producer-key' && parsed.version === 2 && parsed.signing?.privateKey) return parsed;
  } catch {
    // below
  }
  throw new LrError('LR_BAD_CONFIG', `The producer key file ${path} is damaged. Move it aside; a new one is made, and every admin must then enroll again.`);
}

const LOCK_WAIT_MS = 10_000;
/** A lock older than this was left by a process that died. */
const LOCK_STALE_MS = 60_000;

async function withLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`;
  const until = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await (await open(lock, 'wx', 0o600)).close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > LOCK_STALE_MS) await unlink(lock).catch(() => {});
      else if (Date.now() > until) throw new LrError('LR_IO', `The producer key file ${path} is locked by another lastresort (${lock}). Try again in a minute.`);
      else await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    return await work();
  } finally {
    await unlink(lock).catch(() => {});
  }
}

function toStore(path: string, file: StoreFile, created: boolean): ProducerStore {
  const signingKey = { publicKey: Buffer.from(file.signing.publicKey, 'base64'), privateKey: Buffer.from(file.signing.privateKey, 'base64') };
  return {
    path,
    signingKey,
    fingerprint: keyFingerprint(signingKey.publicKey),
    fingerprintKey: Buffer.from(file.fingerprintKey, 'base64'),
    minimumKdf: file.minimumKdf,
    created,
    pins: (database) => file.databases[database] ?? emptyPins(),
    update: (database, change) =>
      // Under a lock, from a fresh read: an enrollment and the nightly backup may write at the same moment.
      withLock(path, async () => {
        const fresh = (await readStore(path)) ?? file;
        const pins = fresh.databases[database] ?? emptyPins();
        change(pins);
        fresh.databases[database] = pins;
        await writeFileAtomic(path, JSON.stringify(fresh, null, 2) + '\n', { intoStream: false });
        file.databases = fresh.databases;
      }),
    async raiseMinimumKdf(kdf) {
      await withLock(path, async () => {
        const fresh = (await readStore(path)) ?? file;
        if (!weakerThan(fresh.minimumKdf, kdf)) return;
        fresh.minimumKdf = { memoryKiB: Math.max(fresh.minimumKdf.memoryKiB, kdf.memoryKiB), iterations: Math.max(fresh.minimumKdf.iterations, kdf.iterations), parallelism: kdf.parallelism };
        await writeFileAtomic(path, JSON.stringify(fresh, null, 2) + '\n', { intoStream: false });
        Object.assign(file, fresh);
      });
      this.minimumKdf = file.minimumKdf;
    },
  };
}

/**
 * Loads the store, making it on first use. `minimumKdf` only applies to a
 * store made now (tests make theirs with the cheap test setting).
 */
export async function openProducerStore(opts: { path?: string; minimumKdf?: KdfCost; create?: boolean } = {}): Promise<ProducerStore> {
  const path = opts.path ?? defaultProducerKeyPath();
  const existing = await readStore(path);
  if (existing) return toStore(path, existing, false);
  if (opts.create === false) throw new LrError('LR_BAD_CONFIG', `There is no producer key file at ${path}: no admin has enrolled on this server yet. Run: lastresort keys enroll --user NAME`);
  const signing = newSigningKey();
  const file: StoreFile = {
    format: 'lastresort-producer-key',
    version: 2,
    createdAt: new Date().toISOString(),
    signing: { algorithm: 'ed25519', publicKey: signing.publicKey.toString('base64'), privateKey: signing.privateKey.toString('base64') },
    fingerprintKey: randomBytes(32).toString('base64'),
    minimumKdf: { ...(opts.minimumKdf ?? DEFAULT_KDF) },
    databases: {},
  };
  await writeFileAtomic(path, JSON.stringify(file, null, 2) + '\n', { intoStream: false }); // a key must read back
  log('keys').warn({ path, producerKey: keyFingerprint(signing.publicKey) }, 'made a new producer key; every admin must enroll on this server');
  return toStore(path, file, true);
}

/** The store when there is one, else null: for looking (status, keys list), never for making a key. */
export async function peekProducerStore(path: string = defaultProducerKeyPath()): Promise<ProducerStore | null> {
  const file = await readStore(path);
  return file ? toStore(path, file, false) : null;
}

/** A stand-in with no key and no pins: lets `status` say who would need to enroll before any store exists. */
export function noProducerStore(path: string = defaultProducerKeyPath()): ProducerStore {
  return {
    path,
    signingKey: { publicKey: Buffer.alloc(32), privateKey: Buffer.alloc(32) },
    fingerprint: '(none yet)',
    fingerprintKey: randomBytes(32),
    minimumKdf: { ...DEFAULT_KDF },
    created: false,
    pins: () => emptyPins(),
    update: async () => {
      throw new Error('no producer key file');
    },
    raiseMinimumKdf: async () => {
      throw new Error('no producer key file');
    },
  };
}
