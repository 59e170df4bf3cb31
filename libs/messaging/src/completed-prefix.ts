/**
 * Tracks which offsets of a fetched batch have finished, possibly out of order, and tells the
 * highest offset below which everything has finished: only that prefix may be committed, so a crash
 * never skips a message that was still in flight.
 */
export class CompletedPrefix {
  private readonly order: readonly string[];
  private readonly done = new Set<string>();
  private next = 0;

  constructor(offsetsInOrder: readonly string[]) {
    this.order = offsetsInOrder;
  }

  /** Marks `offset` finished; returns the last offset of the completed prefix if it grew, else null. */
  complete(offset: string): string | null {
    this.done.add(offset);
    const before = this.next;
    while (this.next < this.order.length && this.done.has(this.order[this.next])) this.next++;
    return this.next > before ? this.order[this.next - 1] : null;
  }

  get allDone(): boolean {
    return this.next === this.order.length;
  }
}
