/**
 * A queue of Buffers read from a stream, with contiguous access to its front.
 * peek() and take() copy only when the front spans several buffers. The queue
 * takes ownership of what is pushed: a pushed Buffer must not change after, so
 * that what take() returns (often a view of it) stays valid.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0; // bytes of chunks[0] already consumed
  length = 0;

  push(buf: Buffer): void {
    if (buf.length === 0) return;
    this.chunks.push(buf);
    this.length += buf.length;
  }

  /** The first `n` bytes (n <= length) as one Buffer; valid until the next mutation. */
  peek(n: number): Buffer {
    const first = this.chunks[0];
    if (!first) return Buffer.alloc(0);
    if (first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    this.compact(n);
    return this.chunks[0].subarray(0, n);
  }

  /** Removes and returns the first `n` bytes as a Buffer the caller may keep. */
  take(n: number): Buffer {
    const out = this.peek(n);
    this.skip(n);
    return out;
  }

  skip(n: number): void {
    this.length -= n;
    while (n > 0) {
      const first = this.chunks[0];
      const avail = first.length - this.head;
      if (n < avail) {
        this.head += n;
        return;
      }
      n -= avail;
      this.chunks.shift();
      this.head = 0;
    }
  }

  /** Merges buffers so that the first holds at least `n` bytes. */
  private compact(n: number): void {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n && this.chunks.length > 0) {
      const first = this.chunks.shift()!;
      const part = first.subarray(this.head);
      this.head = 0;
      parts.push(part);
      got += part.length;
    }
    this.chunks.unshift(Buffer.concat(parts, got));
  }
}
