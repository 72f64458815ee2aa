/**
 * Bytes of encoded rows in flight across every connection of a dump: from
 * the moment they are encoded (a big row counts from its first part) until
 * the consumer has written them. Each connection already keeps at most a
 * few pieces ahead (rows.ts), but a piece holding an image weighs tens of
 * MB: two connections each at an image, with one more being written, would
 * hold three. Over the limit, the readers whose pieces are not the ones
 * being written hold their connections back, and so does the one being
 * written once it has a piece ready or out; each looks again whenever bytes
 * are written (release) or the consumer comes to it.
 *
 * On ordinary rows the limit is never reached (it is set above what the
 * pieces-ahead rule lets the readers hold), so it costs no speed there.
 */
export class PieceBudget {
  used = 0;
  /** The most `used` has been (tests, measurements). */
  peak = 0;
  private readonly watchers = new Set<() => void>();

  constructor(readonly limit: number) {}

  get over(): boolean {
    return this.used > this.limit;
  }

  /** Bytes encoded; once over the limit, every reader looks at once (a reader in the middle of a big row stops its socket there). */
  add(bytes: number): void {
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
    if (this.over) this.lookAll();
  }

  /** Bytes written (or dropped): readers held back look again. */
  release(bytes: number): void {
    this.used -= bytes;
    this.lookAll();
  }

  /** Every reader looks again (the consumer moved on to another read). */
  lookAll(): void {
    for (const look of [...this.watchers]) look();
  }

  /** Calls `look` on every release, and every add over the limit, until the returned function is called. */
  watch(look: () => void): () => void {
    this.watchers.add(look);
    return () => this.watchers.delete(look);
  }
}
