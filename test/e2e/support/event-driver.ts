import { EVENT_SCHEMAS, type TaskDispatched } from '@flotilla/contracts';
import { AvroSerde, EventPublisher } from '@flotilla/messaging';
import { stack, testKafka, uniqueNamespace, waitFor } from '@flotilla/testing';
import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';

/** Test support for the e2e specs: publishes and follows Avro events on a namespace's topics, the way the services talk to each other. */
export class EventDriver {
  readonly kafka = testKafka('e2e-driver');
  readonly serde = AvroSerde.create(stack.registryUrl, EVENT_SCHEMAS);
  private readonly publisher = new EventPublisher(this.kafka, this.serde);

  constructor(private readonly namespace: string) {}

  topic(name: string): string {
    return `${this.namespace}.${name}`;
  }

  connect(): Promise<void> {
    return this.publisher.connect();
  }

  disconnect(): Promise<void> {
    return this.publisher.disconnect();
  }

  dispatch(agentType: string, durationMs: number): TaskDispatched {
    return { executionId: randomUUID(), customerId: 'acme', taskId: `${agentType}-task`, attempt: 1, agentType, input: { duration_ms: String(durationMs) }, dispatchedAt: Date.now() };
  }

  /** Publishes dispatches straight to the pools' topics, as the orchestrator's outbox would. */
  send(dispatches: readonly TaskDispatched[]): Promise<void> {
    return this.publish(dispatches.map((d) => ({ topic: `flotilla.tasks.${d.agentType}`, key: d.executionId, type: 'flotilla.task.TaskDispatched', payload: d })));
  }

  /** One produce request: events for the same partition arrive in one fetch. */
  publish(events: readonly { topic: string; key: string; type: string; payload: unknown; eventId?: string }[]): Promise<void> {
    return this.publisher.publish(
      events.map((e) => ({
        topic: this.topic(e.topic),
        key: e.key,
        envelope: { eventId: e.eventId ?? randomUUID(), eventType: e.type, aggregateId: e.key, aggregateVersion: 1, occurredAt: Date.now(), correlationId: e.key, causationId: null, traceparent: null, tracestate: null, payload: e.payload },
      })),
    );
  }

  /** Follows a topic from its beginning, decoding every event into `events` as it arrives. */
  async tail<T = Record<string, unknown>>(topic: string): Promise<TopicTail<T>> {
    const tail = new TopicTail<T>(this.kafka, this.kafka.consumer({ groupId: `tail-${uniqueNamespace()}`, maxWaitTimeInMs: 100 }), this.serde);
    await tail.start(this.topic(topic));
    return tail;
  }
}

export class TopicTail<T> {
  /** In arrival order (in offset order within a partition); `eventId` from the envelope's header, so that a republished copy can be told from a second event. */
  readonly events: { readonly type: string; readonly key: string | null; readonly eventId: string | null; readonly payload: T }[] = [];
  /** Per partition, the offset of the next message to read. */
  private readonly positions = new Map<number, number>();
  private topic = '';

  constructor(
    private readonly kafka: Kafka,
    private readonly consumer: Consumer,
    private readonly serde: AvroSerde,
  ) {}

  async start(topic: string): Promise<void> {
    this.topic = topic;
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ partition, message }) => {
        const { type, payload } = await this.serde.decode(message.value);
        this.events.push({ type, key: message.key?.toString() ?? null, eventId: message.headers?.['flotilla-event-id']?.toString() ?? null, payload: payload as T });
        this.positions.set(partition, Number(message.offset) + 1);
      },
    });
  }

  /** Resolves once `events` holds every message the topic had when this was called. */
  async caughtUp(timeoutMs = 30_000): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(this.topic).finally(() => admin.disconnect());
    await waitFor(`the tail of ${this.topic} to reach ${ends.map((e) => `[${e.partition}] ${e.high}`).join(', ')}`, () =>
      ends.every((end) => (this.positions.get(end.partition) ?? Number(end.low)) >= Number(end.high)),
    { timeoutMs });
  }

  of<U = T>(type: string): U[] {
    return this.events.filter((e) => e.type === type).map((e) => e.payload as unknown as U);
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}

/** A gauge's value for one agent type from a service's /metrics, NaN when absent. */
export async function gauge(url: string, name: string, agentType: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = new RegExp(`^${name}\\{[^}]*agent_type="${agentType}"[^}]*\\} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : Number.NaN;
}
