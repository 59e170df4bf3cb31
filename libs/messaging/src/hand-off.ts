import type { Context } from '@opentelemetry/api';
import { CompletedPrefix } from './completed-prefix';
import type { ConsumedEvent } from './event-consumer';

/** A message a hand-off consumer has handed to its sink; the sink settles it when it is done with it, possibly long after. */
export interface HandedOff<T = unknown> {
  readonly event: ConsumedEvent<T>;
  /** When the consumer took it off the topic (ms since the epoch). */
  readonly takenAt: number;
  /** The context of the consumer's `kafka.consume <type>` span: the work done for the message joins the trace under it. */
  readonly traceContext: Context;
  /** Done with it (its work recorded, or nothing to do): its offset may be committed. */
  settle(): void;
  /**
   * Its work kept failing: park it on the dead-letter topic, then settle. A failure because a
   * dependency is away (`isUnavailable`) is not the message's fault: it is offered again once the
   * sink has room, rather than dead-lettered.
   */
  deadLetter(error: unknown): Promise<void>;
}

/** What a hand-off consumer hands its messages to: bulkheads that run them, with room per topic. */
export interface HandOffSink {
  /** Whether a message of `topic` would be taken now. Synchronous, so that checking and offering cannot interleave with another batch. */
  hasRoom(topic: string): boolean;
  offer(handedOff: HandedOff): void;
  /** Calls `listener` once, as soon as `topic` has room again: the consumer resumes fetching it. */
  whenRoom(topic: string, listener: () => void): void;
  /** Partitions were taken away (rebalance): forget what waits for room there; their new owner runs it. */
  partitionsRevoked(revoked: (topic: string, partition: number) => boolean): void;
  /** Lets running work finish, at most `timeoutMs`; whether it all did. */
  drain(timeoutMs: number): Promise<boolean>;
}

/**
 * Hand-off mode: each decoded message is offered to the sink and the consumer goes on at once,
 * without waiting for the message to be done; the fetch loop never waits on a busy sink. A topic
 * whose sink has no room is paused until it has. Offsets are committed periodically, per partition
 * up to the first message the sink has not settled yet, so after a crash everything unsettled comes
 * back.
 */
export interface HandOffMode {
  readonly kind: 'hand-off';
  readonly sink: HandOffSink;
  /** How often the settled prefixes are committed; 200 ms by default. */
  readonly commitIntervalMs?: number;
  /** On stop, how long the sink may take to drain before what is unsettled is left to redelivery; 10 s by default. */
  readonly drainTimeoutMs?: number;
}

/** One offset taken for hand-off: settling it counts only while its partition is still owned by the same assignment. */
export interface TakenOffset {
  settle(): void;
  /** False once its partition was revoked (its new owner runs the message) or taken again from scratch. */
  readonly stillOwned: boolean;
}

export interface OffsetToCommit {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to consume, as Kafka commits it. */
  readonly offset: string;
}

interface PartitionState {
  readonly prefix: CompletedPrefix;
  committed: string | null;
}

/**
 * A hand-off consumer's bookkeeping, free of Kafka: the partitions it owns, what it took from each
 * and what of that the sink settled, and which offsets to commit. A partition's progress lives as
 * long as the consumer owns it; a revoked partition is forgotten, and late settles of what was taken
 * from it change nothing.
 */
export class HandOffProgress {
  private readonly owned = new Map<string, readonly number[]>();
  private readonly partitions = new Map<string, PartitionState>();

  /** The assignment of a group join. Forgets the partitions no longer owned; returns which partitions were revoked. */
  assigned(assignment: Readonly<Record<string, readonly number[]>>): (topic: string, partition: number) => boolean {
    this.owned.clear();
    for (const [topic, partitions] of Object.entries(assignment)) this.owned.set(topic, [...partitions]);
    const owns = (topic: string, partition: number) => this.owned.get(topic)?.includes(partition) ?? false;
    for (const k of [...this.partitions.keys()]) {
      const { topic, partition } = splitKey(k);
      if (!owns(topic, partition)) this.partitions.delete(k);
    }
    return (topic, partition) => !owns(topic, partition);
  }

  partitionsOf(topic: string): readonly number[] {
    return this.owned.get(topic) ?? [];
  }

  nextToTake(topic: string, partition: number): bigint | null {
    return this.partitions.get(key(topic, partition))?.prefix.nextToTake ?? null;
  }

  /** False for a message taken here before (running or settled) or below what is committed: skip it. */
  isNew(topic: string, partition: number, offset: string): boolean {
    return this.partitions.get(key(topic, partition))?.prefix.isNew(offset) ?? true;
  }

  /** Takes a message for hand-off; null when it is not new. */
  take(topic: string, partition: number, offset: string): TakenOffset | null {
    const k = key(topic, partition);
    let state = this.partitions.get(k);
    if (!state) {
      state = { prefix: new CompletedPrefix(), committed: null };
      this.partitions.set(k, state);
    }
    if (!state.prefix.take(offset)) return null;
    const taken = state;
    const progress = this.partitions;
    return {
      get stillOwned() {
        return progress.get(k) === taken;
      },
      settle() {
        if (progress.get(k) === taken) taken.prefix.complete(offset);
      },
    };
  }

  /** Per partition, the offset past its settled prefix, where that moved since it was last committed. */
  toCommit(): OffsetToCommit[] {
    return [...this.partitions.entries()].flatMap(([k, state]) => {
      const offset = state.prefix.commitOffset;
      return offset === null || offset === state.committed ? [] : [{ ...splitKey(k), offset }];
    });
  }

  /** These offsets are committed now (for partitions still owned by the same assignment). */
  committed(offsets: readonly OffsetToCommit[]): void {
    for (const { topic, partition, offset } of offsets) {
      const state = this.partitions.get(key(topic, partition));
      if (state && (state.committed === null || BigInt(offset) > BigInt(state.committed))) state.committed = offset;
    }
  }
}

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function splitKey(k: string): { topic: string; partition: number } {
  const at = k.lastIndexOf('\u0000');
  return { topic: k.slice(0, at), partition: Number(k.slice(at + 1)) };
}
