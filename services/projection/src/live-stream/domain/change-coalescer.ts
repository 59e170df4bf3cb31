import type { ReadModelChange } from '../../read-models/domain/read-models';

/**
 * Collects changes between two sends and keeps one per (kind, id), the latest: a burst of thousands
 * of events about a few hundred things becomes one message naming each thing once.
 */
export class ChangeCoalescer {
  private readonly pending = new Map<string, ReadModelChange>();

  add(changes: readonly ReadModelChange[]): void {
    for (const change of changes) {
      const key = `${change.kind}:${change.id}`;
      const previous = this.pending.get(key);
      if (!previous || previous.at <= change.at) this.pending.set(key, change);
    }
  }

  get size(): number {
    return this.pending.size;
  }

  drain(): ReadModelChange[] {
    const changes = [...this.pending.values()];
    this.pending.clear();
    return changes;
  }
}

export interface StreamFilter {
  readonly kinds: ReadonlySet<ReadModelChange['kind']>;
  /** Only this customer's changes (always set for a customer's token). */
  readonly customerId: string | null;
}

/** Tenancy first: a customer-scoped stream never carries another customer's or system-wide changes. */
export function visible(change: ReadModelChange, filter: StreamFilter): boolean {
  if (!filter.kinds.has(change.kind)) return false;
  if (filter.customerId === null) return true;
  return change.customerId === filter.customerId;
}
