import { createHash, type Hash } from 'node:crypto';
import type { TableChecksum } from './layout.js';

/**
 * A table's content checksum over its encoded rows (the exact bytes a
 * backup carries), computed by the same code at backup time and at validation
 * time, so equal checksums mean identical rows whatever the server version.
 * Tables with a primary key are read in key order and hashed as one stream;
 * tables without one get an order-free sum of per-row hashes.
 */
export class TableHasher {
  private readonly ordered: Hash | null;
  private sum = 0n;
  private static readonly MOD = 1n << 256n;

  constructor(readonly algorithm: TableChecksum['algorithm']) {
    this.ordered = algorithm === 'sha256-ordered' ? createHash('sha256') : null;
  }

  /** `rows` holds whole encoded rows, each ending in LF. */
  update(rows: Buffer, rowStarts?: number[]): void {
    if (this.ordered) {
      this.ordered.update(rows);
      return;
    }
    const starts = rowStarts ?? splitRows(rows);
    for (let i = 0; i < starts.length; i++) {
      const end = i + 1 < starts.length ? starts[i + 1] : rows.length;
      const digest = createHash('sha256').update(rows.subarray(starts[i], end)).digest('hex');
      this.sum = (this.sum + BigInt('0x' + digest)) % TableHasher.MOD;
    }
  }

  digest(): TableChecksum {
    const value = this.ordered ? this.ordered.digest('hex') : this.sum.toString(16).padStart(64, '0');
    return { algorithm: this.algorithm, value };
  }
}

function splitRows(rows: Buffer): number[] {
  const starts: number[] = [];
  for (let at = 0; at < rows.length; ) {
    starts.push(at);
    const lf = rows.indexOf(0x0a, at);
    at = lf < 0 ? rows.length : lf + 1;
  }
  return starts;
}
