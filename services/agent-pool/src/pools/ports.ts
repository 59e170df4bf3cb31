import type { TaskDispatched } from '@flotilla/contracts';
import type { HandedOff } from '@flotilla/messaging';

/** A dispatch taken off its topic by the dispatch consumer and handed to its agent type's pool. */
export interface TakenDispatch extends HandedOff<TaskDispatched> {
  readonly agentType: string;
}

/** The pools, as the dispatch consumer (in hand-off mode, through DispatchHandOff) sees them. */
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
