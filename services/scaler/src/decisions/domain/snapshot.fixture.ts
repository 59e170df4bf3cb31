import { unknownSnapshot, type PoolSnapshot } from './pool-snapshot';

/** A snapshot for specs: every figure missing unless given; one slot per worker. */
export function snapshotOf(figures: Partial<PoolSnapshot> = {}): PoolSnapshot {
  return { ...unknownSnapshot('code_gen', 0, 1), ...figures };
}
