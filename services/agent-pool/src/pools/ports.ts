import type { TaskDispatched } from '@flotilla/contracts';
import type { ConsumedEvent } from '@flotilla/messaging';
import type { Context } from '@opentelemetry/api';

/** A dispatch taken off its topic and handed to a pool. */
export interface TakenDispatch {
  readonly event: ConsumedEvent<TaskDispatched>;
  readonly agentType: string;
  readonly takenAt: number;
  /** The trace context the dispatch was sent in: the attempt's spans and events join it. */
  readonly traceContext: Context;
  /** The pool is done with it (outcome recorded, or nothing to do): its offset may be committed. */
  settle(): void;
  /** Recording its outcome kept failing: park it on the dead-letter topic, then settle. */
  deadLetter(error: unknown): Promise<void>;
}

/** The pools, as the intake (the consumer of the dispatch topics) sees them. */
export interface DispatchSink {
  /** Synchronous, so that checking for room and offering cannot interleave with another batch. */
  hasRoom(agentType: string): boolean;
  offer(taken: TakenDispatch): void;
  whenRoom(agentType: string, listener: () => void): void;
  /** Partitions were taken away (rebalance): forget what waits for a slot; their new owner runs it. */
  dropQueued(matches: (topic: string, partition: number) => boolean): void;
  /** Lets running attempts finish, at most `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean>;
}
