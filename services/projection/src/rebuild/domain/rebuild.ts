/**
 * A rebuild of the read models: replay every topic from its beginning into a new generation of
 * tables beside the live ones, and swap it in once it has caught up. Pure: the service drives it.
 *
 *   idle ──start──▶ replaying ──reached the end offsets taken at start──▶ switching ──swapped──▶ done
 *                      │                                                      │
 *                      └────────────────────────── error ─────────────────────┴──▶ failed
 *
 * `switching` keeps consuming (the topics go on growing) and tries the swap until the new generation
 * has applied at least what the live one has. done and failed may start again.
 */
export type RebuildState = 'idle' | 'replaying' | 'switching' | 'done' | 'failed';

const TRANSITIONS: Readonly<Record<RebuildState, readonly RebuildState[]>> = {
  idle: ['replaying'],
  replaying: ['switching', 'failed'],
  switching: ['done', 'failed'],
  done: ['replaying'],
  failed: ['replaying'],
};

export class IllegalRebuildTransitionError extends Error {
  constructor(
    readonly from: RebuildState,
    readonly to: RebuildState,
  ) {
    super(from === 'replaying' || from === 'switching' ? 'a rebuild is already running' : `a rebuild cannot go from ${from} to ${to}`);
  }
}

export function transition(from: RebuildState, to: RebuildState): RebuildState {
  if (!TRANSITIONS[from].includes(to)) throw new IllegalRebuildTransitionError(from, to);
  return to;
}

export const isRunning = (state: RebuildState): boolean => state === 'replaying' || state === 'switching';

export interface PartitionPosition {
  readonly topic: string;
  readonly partition: number;
  /** Last offset applied. */
  readonly offset: number;
}

export interface PartitionEnd {
  readonly topic: string;
  readonly partition: number;
  /** The first offset still on the broker: above 0, retention has deleted the partition's oldest events. */
  readonly startOffset: number;
  /** The next offset the partition would be given (Kafka's high watermark) when the rebuild began. */
  readonly endOffset: number;
}

export interface PartitionProgress extends PartitionEnd {
  /** The next offset the rebuild will read (0 before its first), comparable with endOffset. */
  readonly position: number;
}

/**
 * Where the rebuild stands in each partition: the later of its checkpoint and what its consumer
 * group committed (which also moves past messages no handler could decode, which leave no checkpoint).
 */
export function progressOf(ends: readonly PartitionEnd[], applied: readonly PartitionPosition[], committed: readonly PartitionPosition[]): PartitionProgress[] {
  const key = (p: { topic: string; partition: number }) => `${p.topic}/${p.partition}`;
  const checkpoint = new Map(applied.map((p) => [key(p), p.offset + 1]));
  const consumed = new Map(committed.map((p) => [key(p), p.offset]));
  return ends.map((end) => ({ ...end, position: Math.max(checkpoint.get(key(end)) ?? 0, consumed.get(key(end)) ?? 0) }));
}

/** Caught up with the topics as they were at the start: every partition read up to its end offset then. */
export function caughtUp(progress: readonly PartitionProgress[]): boolean {
  return progress.every((p) => p.position >= p.endOffset);
}

/**
 * Partitions whose oldest events retention has already deleted. A rebuild from them would silently
 * drop every read-model row those events made, so it must be asked for knowingly.
 */
export function truncatedPartitions(ends: readonly PartitionEnd[]): PartitionEnd[] {
  return ends.filter((p) => p.startOffset > 0);
}

export class TruncatedHistoryError extends Error {
  constructor(readonly partitions: readonly PartitionEnd[]) {
    super(
      `retention has deleted the oldest events of ${partitions.map((p) => `${p.topic}/${p.partition} (from offset ${p.startOffset})`).join(', ')}; ` +
        'a rebuild would lose the rows they made; start it with allowTruncatedHistory=true to rebuild from what is left',
    );
  }
}

export class RebuildRunningElsewhereError extends Error {
  constructor() {
    super('a rebuild is already running in another projection instance');
  }
}
