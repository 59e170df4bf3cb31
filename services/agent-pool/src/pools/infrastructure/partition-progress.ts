/**
 * What a consumer has taken from one partition and what of it has finished, possibly out of order.
 * The fetch position moves on as soon as a message is handed to a pool; the committed offset only
 * up to the first message not finished yet, so a crash redelivers everything unfinished and nothing
 * else is lost. Also recognises messages fetched again (after a rebalance the fetch restarts from the
 * committed offset) so that they are not run twice by this process.
 */
export class PartitionProgress {
  /** Every offset below it has finished (or was committed before this process took the partition). */
  private floor: bigint | null = null;
  private highest: bigint | null = null;
  /** Offsets at or above the floor: true once finished. */
  private readonly taken = new Map<bigint, boolean>();
  private committed: bigint | null = null;

  /** False for an offset already taken (or finished) here: the caller skips it. */
  isNew(offset: string): boolean {
    const o = BigInt(offset);
    return !(this.floor !== null && o < this.floor) && !this.taken.has(o);
  }

  /** Returns false (and changes nothing) for an offset that is not new. */
  take(offset: string): boolean {
    if (!this.isNew(offset)) return false;
    const o = BigInt(offset);
    if (this.floor === null) this.floor = o;
    this.taken.set(o, false);
    if (this.highest === null || o > this.highest) this.highest = o;
    return true;
  }

  finish(offset: string): void {
    const o = BigInt(offset);
    if (this.taken.has(o)) this.taken.set(o, true);
    this.advance();
  }

  /** The offset to commit (the next one to consume) if it moved since the last `committedAt`, else null. */
  toCommit(): string | null {
    if (this.floor === null) return null;
    return this.committed === this.floor ? null : this.floor.toString();
  }

  committedAt(offset: string): void {
    this.committed = BigInt(offset);
  }

  /** Taken here and not finished yet. */
  get pending(): number {
    let n = 0;
    for (const finished of this.taken.values()) if (!finished) n++;
    return n;
  }

  /** The next offset this process would take: messages from here to the end are not taken yet. */
  get nextToTake(): bigint | null {
    return this.highest === null ? null : this.highest + 1n;
  }

  private advance(): void {
    if (this.floor === null) return;
    // The floor moves over finished offsets, and over gaps (offsets never delivered, e.g. control records).
    const ordered = [...this.taken.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    let floor = this.floor;
    for (const o of ordered) {
      if (!this.taken.get(o)) {
        floor = o;
        break;
      }
      this.taken.delete(o);
      floor = o + 1n;
    }
    this.floor = floor;
  }
}
