import { BaseRpcContext, CustomTransportStrategy, Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import type { OwnedPartitions } from '../consumer-lag';
import type { ConsumedEvent, EventConsumer } from '../event-consumer';

/** Handed to `@Ctx()` in an `@EventPattern` handler. */
export class KafkaEventContext extends BaseRpcContext<[ConsumedEvent]> {
  get event(): ConsumedEvent {
    return this.args[0];
  }
}

/**
 * A NestJS custom transport whose patterns are event types: `@EventPattern('flotilla.task.TaskCompleted')`
 * receives a `ConsumedEvent`. Events of a type no handler claims are acknowledged and skipped (several
 * types share a topic). A handler that throws is retried and then dead-lettered by the consumer.
 * A consumer in hand-off mode ignores the handlers: its sink takes the events.
 */
export class KafkaEventsTransport extends Server implements CustomTransportStrategy, OwnedPartitions {
  private consumer: EventConsumer | null = null;

  constructor(private readonly createConsumer: (handler: (event: ConsumedEvent) => Promise<void>) => Promise<EventConsumer>) {
    super();
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      this.consumer = await this.createConsumer((event) => this.dispatch(event));
      await this.consumer.start();
      callback();
    } catch (error) {
      callback(error);
    }
  }

  async close(): Promise<void> {
    await this.consumer?.stop();
    this.consumer = null;
  }

  /** What its consumer owns now: nothing before it has started (for ConsumerLag). */
  partitionsOf(topic: string): readonly number[] {
    return this.consumer?.partitionsOf(topic) ?? [];
  }

  nextToTake(topic: string, partition: number): bigint | null {
    return this.consumer?.nextToTake(topic, partition) ?? null;
  }

  /** Event types that have a handler; the service uses it to decide which topics to subscribe to. */
  get handledEventTypes(): string[] {
    return [...this.messageHandlers.keys()];
  }

  private async dispatch(event: ConsumedEvent): Promise<void> {
    const handler = this.getHandlerByPattern(event.envelope.eventType);
    if (!handler) return;
    const result = await handler(event, new KafkaEventContext([event]));
    if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
  }
}
