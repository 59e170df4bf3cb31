import { CompressionTypes, Partitioners, type Kafka, type Message, type Producer } from 'kafkajs';
import type { AvroSerde } from './avro-serde';
import { metadataToHeaders, type OutgoingEvent } from './envelope';

/**
 * The one way events reach Kafka: idempotent producer, acks from all in-sync replicas, one
 * in-flight request per connection so that a retried batch can never overtake the next one.
 */
export class EventPublisher {
  private readonly producer: Producer;

  constructor(
    kafka: Kafka,
    private readonly serde: AvroSerde,
  ) {
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // The Java client's murmur2 partitioner, so keys land where other Kafka clients put them.
      createPartitioner: Partitioners.DefaultPartitioner,
      // An idempotent producer keeps retrying rather than give up and let the caller resend out of order.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 5_000 },
    });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  /** Publishes in order: events for the same topic and key keep the order they are given in. */
  async publish(events: readonly OutgoingEvent[]): Promise<void> {
    if (events.length === 0) return;
    const byTopic = new Map<string, Message[]>();
    for (const event of events) {
      const value = await this.serde.encode(event.envelope.eventType, event.envelope.payload);
      const messages = byTopic.get(event.topic) ?? [];
      messages.push({ key: event.key, value, headers: metadataToHeaders(event.envelope), timestamp: String(event.envelope.occurredAt) });
      byTopic.set(event.topic, messages);
    }
    await this.producer.sendBatch({
      acks: -1,
      compression: CompressionTypes.None,
      topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
    });
  }

  /** Raw send for dead letters: the bytes are kept as they came, the cause goes into headers. */
  async sendRaw(topic: string, message: Message): Promise<void> {
    await this.producer.send({ topic, acks: -1, messages: [message] });
  }
}
