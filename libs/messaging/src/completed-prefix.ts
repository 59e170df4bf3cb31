/**
 * The offsets of one partition that a consumer has taken, and which of them have finished, possibly
 * out of order. Only the completed prefix may be committed, so a crash never skips a message that was
 * still in flight: everything unfinished comes back, nothing else is lost.
 *
 * A handling consumer keeps one per fetched batch (its offsets taken up front). A hand-off consumer
 * keeps one per owned partition for as long as it owns it, taking offsets as it hands them off; there
 * it also recognises messages fetched again (after a rebalance the fetch restarts from the committed
 * offset), which must not be handed off twice by the same process.
 */
export class CompletedPrefix {
  /** Taken offsets in ascending order; those before `head` form the completed prefix and are forgotten. */
  private order: bigint[] = [];
  private head = 0;
  /** Taken offsets not yet past the completed prefix: true once finished. */
  private readonly finished = new Map<bigint, boolean>();
  /** Every offset below it has finished (or was never this consumer's to take). */
  private floor: bigint | null = null;
  private highest: bigint | null = null;

  constructor(offsetsInOrder: readonly string[] = []) {
    for (const offset of offsetsInOrder) this.take(offset);
  }

  /** False for an offset taken before (running or finished) or below the completed prefix: the caller skips it. */
  isNew(offset: string): boolean {
    const o = BigInt(offset);
    return !(this.floor !== null && o < this.floor) && !this.finished.has(o);
  }

  /** Takes `offset`; false (and nothing changes) when it is not new. */
  take(offset: string): boolean {
    if (!this.isNew(offset)) return false;
    const o = BigInt(offset);
    this.floor ??= o;
    this.finished.set(o, false);
    if (this.highest === null || o > this.highest) {
      this.highest = o;
      this.order.push(o);
    } else {
      // Taken out of order (not seen in practice: a partition is fetched in offset order): keep `order` sorted.
      const at = this.order.findIndex((taken, i) => i >= this.head && taken > o);
      this.order.splice(at, 0, o);
    }
    return true;
  }

  /**
   * Marks a taken `offset` finished. Returns the last offset of the completed prefix if the prefix
   * grew (what a kafkajs batch resolves), else null.
   */
  complete(offset: string): string | null {
    const o = BigInt(offset);
    if (this.finished.get(o) !== false) return null;
    this.finished.set(o, true);
    const before = this.head;
    while (this.head < this.order.length && this.finished.get(this.order[this.head])) this.finished.delete(this.order[this.head++]);
    if (this.head === before) return null;
    const last = this.order[this.head - 1];
    // The floor moves over finished offsets and over gaps (offsets never delivered, e.g. control records).
    this.floor = this.head < this.order.length ? this.order[this.head] : last + 1n;
    if (this.head > 1_024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
    return last.toString();
  }

  /** Every taken offset has finished. */
  get allDone(): boolean {
    return this.head === this.order.length;
  }

  /** Taken and not finished yet. */
  get pending(): number {
    let n = 0;
    for (const done of this.finished.values()) if (!done) n++;
    return n;
  }

  /** The offset a commit names (the next one to consume): just past the completed prefix; null before anything was taken. */
  get commitOffset(): string | null {
    return this.floor === null ? null : this.floor.toString();
  }

  /** The next offset to take: from here to the end of the partition nothing is taken yet; null before anything was taken. */
  get nextToTake(): bigint | null {
    return this.highest === null ? null : this.highest + 1n;
  }
}
