import type { ReadModelChange, ReadModelChanges } from '../read-models/domain/read-models';

/** In-process `ReadModelChanges`: the projection publishes after each commit; cache and stream listen. */
export class ChangeFeed implements ReadModelChanges {
  private readonly listeners = new Set<(changes: readonly ReadModelChange[]) => void>();
  private readonly invalidators: Array<(changes: readonly ReadModelChange[]) => Promise<void>> = [];

  /**
   * Runs before any listener hears of a change: a client told by the stream that something changed
   * must not then read the old value from a cache.
   */
  beforeNotifying(invalidator: (changes: readonly ReadModelChange[]) => Promise<void>): void {
    this.invalidators.push(invalidator);
  }

  subscribe(listener: (changes: readonly ReadModelChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async publish(changes: readonly ReadModelChange[]): Promise<void> {
    if (changes.length === 0) return;
    await Promise.all(this.invalidators.map((invalidate) => invalidate(changes).catch(() => undefined)));
    for (const listener of this.listeners) {
      try {
        listener(changes);
      } catch {
        // A failing listener must not undo or block a committed projection.
      }
    }
  }
}
