import type { TaskDispatched } from '@flotilla/contracts';
import type { ConsumedEvent, HandedOff, HandOffSink } from '@flotilla/messaging';
import type { DispatchSink } from './ports';

const TASK_DISPATCHED = 'flotilla.task.TaskDispatched';

/**
 * The pools as the sink of the dispatch consumer (EventConsumer in hand-off mode): each dispatch
 * topic is its agent type's pool, so a full pool pauses only its own topic. Only dispatches run;
 * anything else on a dispatch topic is settled at once.
 */
export class DispatchHandOff implements HandOffSink {
  /** @param agentTypeByTopic physical dispatch topic → agent type */
  constructor(
    private readonly pools: DispatchSink,
    private readonly agentTypeByTopic: ReadonlyMap<string, string>,
  ) {}

  get topics(): string[] {
    return [...this.agentTypeByTopic.keys()];
  }

  hasRoom(topic: string): boolean {
    return this.pools.hasRoom(this.agentTypeOf(topic));
  }

  whenRoom(topic: string, listener: () => void): void {
    this.pools.whenRoom(this.agentTypeOf(topic), listener);
  }

  offer(handedOff: HandedOff): void {
    if (handedOff.event.envelope.eventType !== TASK_DISPATCHED) return handedOff.settle();
    this.pools.offer({
      event: handedOff.event as ConsumedEvent<TaskDispatched>,
      agentType: this.agentTypeOf(handedOff.event.topic),
      takenAt: handedOff.takenAt,
      traceContext: handedOff.traceContext,
      settle: () => handedOff.settle(),
      deadLetter: (error) => handedOff.deadLetter(error),
    });
  }

  partitionsRevoked(revoked: (topic: string, partition: number) => boolean): void {
    this.pools.dropQueued(revoked);
  }

  drain(timeoutMs: number): Promise<boolean> {
    return this.pools.drain(timeoutMs);
  }

  private agentTypeOf(topic: string): string {
    const agentType = this.agentTypeByTopic.get(topic);
    if (!agentType) throw new Error(`${topic} is not a dispatch topic of this instance`);
    return agentType;
  }
}
