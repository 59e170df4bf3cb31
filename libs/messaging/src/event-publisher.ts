import { CompressionTypes, Partitioners, type Kafka, type Message, type Producer, type TopicMessages } from 'kafkajs';
import type { AvroSerde } from './avro-serde';
import { metadataToHeaders, type OutgoingEvent } from './envelope';

/** Events encoded for Kafka by `EventPublisher.prepare`, to be sent once by `send`. */
export interface PreparedBatch {
  readonly size: number;
  readonly topicMessages: readonly TopicMessages[];
}

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
    await this.send(await this.prepare(events));
  }

  /**
   * Encodes events for `send` without sending anything, so that a caller may encode its next batch
   * while the previous one is in flight. Throws InvalidPayloadError like `publish`.
   */
  async prepare(events: readonly OutgoingEvent[]): Promise<PreparedBatch> {
    for (const event of events) {
      // An await only for a type this process has not encoded yet, not one per event.
      if (!this.serde.isPrepared(event.envelope.eventType)) await this.serde.prepare(event.envelope.eventType);
    }
    const byTopic = new Map<string, Message[]>();
    // Every value of the batch is a view into one buffer: avsc would otherwise allocate one per record.
    const arenaBytes = Math.min(ARENA_BYTES, 256 * events.length);
    let arena = Buffer.allocUnsafe(arenaBytes);
    let used = 0;
    for (const event of events) {
      const { envelope } = event;
      let end = this.serde.encodeInto(envelope.eventType, envelope.payload, arena, used);
      while (end < 0) {
        arena = Buffer.allocUnsafe(Math.max(arenaBytes, 2 * (arena.length - used - end)));
        used = 0;
        end = this.serde.encodeInto(envelope.eventType, envelope.payload, arena, used);
      }
      const value = arena.subarray(used, end);
      used = end;
      let messages = byTopic.get(event.topic);
      if (!messages) byTopic.set(event.topic, (messages = []));
      messages.push({ key: event.key, value, headers: metadataToHeaders(envelope), timestamp: String(envelope.occurredAt) });
    }
    const topicMessages: TopicMessages[] = [];
    for (const [topic, messages] of byTopic) topicMessages.push({ topic, messages });
    return { size: events.length, topicMessages };
  }

  /** Sends a prepared batch; resolves once Kafka acknowledged all of it. */
  async send(batch: PreparedBatch): Promise<void> {
    if (batch.size === 0) return;
    await this.producer.sendBatch({ acks: -1, compression: CompressionTypes.None, topicMessages: [...batch.topicMessages] });
  }

  /** Raw send for dead letters: the bytes are kept as they came, the cause goes into headers. */
  async sendRaw(topic: string, message: Message): Promise<void> {
    await this.producer.send({ topic, acks: -1, messages: [message] });
  }
}

/** Upper bound of one arena: a batch larger than that continues in another. */
const ARENA_BYTES = 64 * 1024;
