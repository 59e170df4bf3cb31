import type { ReadModelChange, ReadModelChanges } from '../domain/read-models';

/** In-process `ReadModelChanges`: the projection publishes after each commit; cache and stream listen. */
export class ChangeFeed implements ReadModelChanges {
  private readonly listeners = new Set<(changes: readonly ReadModelChange[]) => void>();

  subscribe(listener: (changes: readonly ReadModelChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(changes: readonly ReadModelChange[]): void {
    if (changes.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(changes);
      } catch {
        // A failing listener must not undo or block a committed projection.
      }
    }
  }
}
