/**
 * The encrypting writer: a Transform from plaintext (the tar stream) to the
 * bytes of a .lrb file. Stateful, state kept in the closure:
 *   - magic line and header frame first;
 *   - plaintext cut into chunkSize pieces; one piece is held back until more
 *     plaintext arrives, because only the last piece carries the final flag;
 *   - on flush: the final chunk, the header copy and the trailer.
 */
import { randomBytes } from 'node:crypto';
import { Transform } from 'node:stream';
import { deriveFileKeys, headerMac, newFileKey, sealChunk, wrapFileKey, type SealedKey } from '../keys/crypto.js';
import { encodeChunkFrame } from './chunks.js';
import { encodeHeaderFrame, fileTagOf, headerMacInput, type AdminIdentity, type BackupHeader } from './header.js';
import { CIPHER, DEFAULT_CHUNK_SIZE, FORMAT_VERSION, MAGIC_LINE, TRAILER_BYTES, TRAILER_MARKER } from './limits.js';
import { crc32 } from 'node:zlib';

export interface WriterOptions {
  database: string;
  serverVersion: string;
  producerVersion: string;
  admin: AdminIdentity;
  /** The admin's enrolled key: public key, sealed private key, KDF parameters. */
  key: SealedKey;
  createdAt?: Date;
  chunkSize?: number;
}

export interface WriterStats {
  chunks: number;
  plaintextBytes: number;
  fileBytes: number;
}

export function buildHeader(opts: WriterOptions, fileKey: Buffer): BackupHeader {
  return {
    format: 'lastresort-backup',
    formatVersion: FORMAT_VERSION,
    createdAt: (opts.createdAt ?? new Date()).toISOString(),
    database: opts.database,
    serverVersion: opts.serverVersion,
    producerVersion: opts.producerVersion,
    admin: opts.admin,
    kdf: opts.key.kdf,
    key: { algorithm: 'x25519', publicKey: opts.key.publicKey, sealedPrivateKey: opts.key.sealedPrivateKey },
    wrappedFileKey: wrapFileKey(fileKey, opts.key.publicKey),
    cipher: CIPHER,
    chunkSize: opts.chunkSize ?? DEFAULT_CHUNK_SIZE,
    fileId: randomBytes(16).toString('base64'),
  };
}

export function encodeTrailer(headerCopyLength: number): Buffer {
  const t = Buffer.alloc(TRAILER_BYTES);
  TRAILER_MARKER.copy(t, 0);
  t.writeUInt32BE(headerCopyLength, 8);
  t.writeUInt32BE(crc32(t.subarray(0, 12)), 12);
  return t;
}

export function createEncryptingWriter(opts: WriterOptions): { stream: Transform; header: BackupHeader; stats: WriterStats } {
  const fileKey = newFileKey();
  const header = buildHeader(opts, fileKey);
  const { payloadKey, headerMacKey } = deriveFileKeys(fileKey, Buffer.from(header.fileId, 'base64'));
  fileKey.fill(0);
  const macInput = headerMacInput(Buffer.from(JSON.stringify(header), 'utf8'));
  const headerFrame = encodeHeaderFrame(macInput, headerMac(headerMacKey, Buffer.concat([Buffer.from(MAGIC_LINE), macInput])));
  const fileTag = fileTagOf(header);
  const chunkSize = header.chunkSize;
  const stats: WriterStats = { chunks: 0, plaintextBytes: 0, fileBytes: 0 };

  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let held: Buffer | null = null; // a full chunk not yet known to be non-final

  const emit = (t: Transform, buf: Buffer) => {
    stats.fileBytes += buf.length;
    t.push(buf);
  };
  const sealAndEmit = (t: Transform, plaintext: Buffer, final: boolean) => {
    const index = stats.chunks++;
    emit(t, encodeChunkFrame(fileTag, index, final, sealChunk(payloadKey, index, final, plaintext)));
  };

  const stream = new Transform({
    construct(cb) {
      emit(this, Buffer.from(MAGIC_LINE));
      emit(this, headerFrame);
      cb();
    },
    transform(data: Buffer, _enc, cb) {
      stats.plaintextBytes += data.length;
      pending.push(data);
      pendingBytes += data.length;
      if (pendingBytes > chunkSize) {
        let all = Buffer.concat(pending, pendingBytes);
        let at = 0;
        // Leave at least one byte behind so the held chunk is never the last.
        while (all.length - at > chunkSize) {
          if (held) sealAndEmit(this, held, false);
          held = all.subarray(at, at + chunkSize);
          at += chunkSize;
        }
        all = all.subarray(at);
        pending = [all];
        pendingBytes = all.length;
      }
      cb();
    },
    flush(cb) {
      const rest = Buffer.concat(pending, pendingBytes);
      if (held && rest.length > 0) {
        sealAndEmit(this, held, false);
        held = null;
      }
      if (rest.length > 0 && rest.length <= chunkSize) sealAndEmit(this, rest, true);
      else if (held) sealAndEmit(this, held, true);
      else sealAndEmit(this, Buffer.alloc(0), true);
      emit(this, headerFrame);
      emit(this, encodeTrailer(headerFrame.length));
      payloadKey.fill(0);
      cb();
    },
  });
  return { stream, header, stats };
}
