/**
 * Argon2id with two implementations that give the same bytes: the native
 * `argon2` addon (fast; Linux and the usual case), and a WebAssembly build
 * (`hash-wasm`) where the addon cannot load or must not be trusted: the
 * Windows single executable (which can carry no native module), and any
 * machine whose addon fails to load. test/keys/argon2id.test.ts holds both to
 * the RFC 9106 vector and to each other.
 */
import { argon2id as wasmArgon2id } from 'hash-wasm';
import { log } from '../log.js';

export interface Argon2idInput {
  password: string;
  salt: Buffer;
  memoryKiB: number;
  iterations: number;
  parallelism: number;
  hashLength: number;
}

export type Argon2idImpl = 'native' | 'wasm';

type NativeHash = (input: Argon2idInput) => Promise<Buffer>;

let native: Promise<NativeHash | null> | undefined;

/** The addon, loaded once; null when it cannot load here (logged, then the WebAssembly build serves). */
function loadNative(): Promise<NativeHash | null> {
  native ??= (async () => {
    // The Windows executable is built with this set (scripts/package-windows.mjs): it carries no addon.
    if (process.env.LASTRESORT_ARGON2 === 'wasm' || globalThis.__LASTRESORT_SEA__) return null;
    try {
      const mod = (await import('argon2')).default;
      return (i: Argon2idInput) =>
        mod.hash(i.password, { type: mod.argon2id, memoryCost: i.memoryKiB, timeCost: i.iterations, parallelism: i.parallelism, salt: i.salt, hashLength: i.hashLength, raw: true });
    } catch (err) {
      log('keys').warn({ cause: (err as Error).message?.slice(0, 200) }, 'the native argon2 module did not load; using the WebAssembly argon2id');
      return null;
    }
  })();
  return native;
}

export async function wasmHash(i: Argon2idInput): Promise<Buffer> {
  const out = await wasmArgon2id({
    password: i.password,
    salt: i.salt,
    memorySize: i.memoryKiB,
    iterations: i.iterations,
    parallelism: i.parallelism,
    hashLength: i.hashLength,
    outputType: 'binary',
  });
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/** Which implementation `argon2idHash` uses on this machine. */
export async function argon2idImpl(): Promise<Argon2idImpl> {
  return (await loadNative()) ? 'native' : 'wasm';
}

export async function argon2idHash(i: Argon2idInput): Promise<Buffer> {
  const n = await loadNative();
  log('keys').debug({ argon2id: n ? 'native' : 'wasm', memoryKiB: i.memoryKiB, iterations: i.iterations, parallelism: i.parallelism }, 'deriving the key');
  return n ? n(i) : wasmHash(i);
}

declare global {
  // Set by the Windows single executable's entry (scripts/package-windows.mjs).
  var __LASTRESORT_SEA__: boolean | undefined;
}
