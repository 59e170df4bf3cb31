import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import pLimit from 'p-limit';
import type { AvroSerde } from './avro-serde';
import { CompletedPrefix } from './completed-prefix';
import { DEAD_LETTER_HEADERS, headersToMetadata, type EventEnvelope } from './envelope';
import { isProgrammingError, MessagingError } from './errors';
import type { EventPublisher } from './event-publisher';
import { DEFAULT_RETRY, describeError, RetriesExhaustedError, withRetry, type RetryOptions } from './retry';
import { contextFromTraceparent, inSpan, SpanKind } from '@flotilla/observability';

export interface ConsumedEvent<T = unknown> {
  readonly envelope: EventEnvelope<T>;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
}

export type EventHandler = (event: ConsumedEvent) => Promise<void>;

export interface DeadLetter {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly error: unknown;
  readonly attempts: number;
}

export interface EventConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly deadLetterTopic: string;
  readonly handler: EventHandler;
  /** Messages of one partition handled at once; messages with the same key still run in order. */
  readonly concurrencyPerPartition?: number;
  /**
   * 'key' (default): messages of one key in order, keys concurrently. 'partition': every message of
   * a partition in offset order, one at a time, for handlers that checkpoint the last offset they
   * applied and skip what is at or below it (a key-ordered batch can apply a later offset of one key
   * before an earlier offset of another).
   */
  readonly ordering?: 'key' | 'partition';
  readonly partitionsConsumedConcurrently?: number;
  readonly retry?: RetryOptions;
  readonly fromBeginning?: boolean;
  readonly onDeadLetter?: (deadLetter: DeadLetter) => void;
  readonly sessionTimeoutMs?: number;
}

/**
 * Consumes registry-framed Avro events. Within a fetched batch, messages run concurrently by key
 * (same key: in order), and only the completed prefix of offsets is committed. A message that cannot
 * be decoded, or whose handler still fails after its retries, goes to the dead-letter topic with the
 * cause in its headers; the partition goes on.
 */
export class EventConsumer {
  private readonly consumer: Consumer;
  private readonly limitPerBatch: number;

  constructor(
    kafka: Kafka,
    private readonly serde: AvroSerde,
    private readonly publisher: EventPublisher,
    private readonly options: EventConsumerOptions,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 100,
    });
    this.limitPerBatch = options.concurrencyPerPartition ?? 32;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    // Retriable metadata errors (a topic created a moment ago) are retried rather than failing the start.
    await withRetry(() => this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: this.options.fromBeginning ?? true }), { maxAttempts: 8, initialDelayMs: 250, maxDelayMs: 5_000 });
    await this.consumer.run({
      autoCommit: true,
      autoCommitInterval: 500,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.handleBatch(payload),
    });
  }

  /** Stops fetching, lets in-flight handlers finish, commits what finished, leaves the group. */
  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private async handleBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const prefix = new CompletedPrefix(batch.messages.map((m) => m.offset));
    const lanes = new Map<string, KafkaMessage[]>();
    for (const message of batch.messages) {
      const lane = this.options.ordering === 'partition' ? 'partition' : message.key ? message.key.toString('utf8') : `offset:${message.offset}`;
      const queue = lanes.get(lane) ?? [];
      queue.push(message);
      lanes.set(lane, queue);
    }
    const limit = pLimit(this.limitPerBatch);
    let lastHeartbeat = Date.now();
    await Promise.all(
      [...lanes.values()].map((lane) =>
        limit(async () => {
          for (const message of lane) {
            if (!isRunning() || isStale()) return;
            await this.handleMessage(batch.topic, batch.partition, message);
            const committable = prefix.complete(message.offset);
            if (committable !== null) resolveOffset(committable);
            if (Date.now() - lastHeartbeat > 1_000) {
              lastHeartbeat = Date.now();
              await heartbeat();
            }
          }
        }),
      ),
    );
    await commitOffsetsIfNecessary();
  }

  private async handleMessage(topic: string, partition: number, message: KafkaMessage): Promise<void> {
    let decoded: { type: string; payload: unknown };
    try {
      decoded = await withRetry(() => this.serde.decode(message.value), this.options.retry ?? DEFAULT_RETRY);
    } catch (error) {
      const exhausted = error as RetriesExhaustedError;
      return this.deadLetter(topic, partition, message, exhausted.lastError ?? error, exhausted.attempts ?? 1);
    }
    const metadata = headersToMetadata(message.headers, {
      eventType: decoded.type,
      key: message.key?.toString('utf8') ?? null,
      topic,
      partition,
      offset: message.offset,
      timestamp: message.timestamp,
    });
    const event: ConsumedEvent = {
      envelope: { ...metadata, payload: decoded.payload },
      topic,
      partition,
      offset: message.offset,
      key: message.key?.toString('utf8') ?? null,
    };
    const parent = contextFromTraceparent(metadata.traceparent, metadata.tracestate);
    try {
      await inSpan(
        `kafka.consume ${metadata.eventType}`,
        {
          kind: SpanKind.CONSUMER,
          parent,
          attributes: {
            'messaging.system': 'kafka',
            'messaging.destination.name': topic,
            'messaging.kafka.destination.partition': partition,
            'messaging.kafka.message.offset': Number(message.offset),
            'messaging.consumer.group.name': this.options.groupId,
            'flotilla.event_type': metadata.eventType,
            'flotilla.correlation_id': metadata.correlationId,
          },
        },
        () => withRetry(() => this.options.handler(event), this.options.retry ?? DEFAULT_RETRY),
      );
    } catch (error) {
      const exhausted = error as RetriesExhaustedError;
      await this.deadLetter(topic, partition, message, exhausted.lastError ?? error, exhausted.attempts ?? 1);
    }
  }

  private async deadLetter(topic: string, partition: number, message: KafkaMessage, error: unknown, attempts: number): Promise<void> {
    const headers: IHeaders = {
      ...(message.headers ?? {}),
      [DEAD_LETTER_HEADERS.errorName]: error instanceof Error ? error.name : 'Error',
      [DEAD_LETTER_HEADERS.errorMessage]: describeError(error).slice(0, 4_000),
      [DEAD_LETTER_HEADERS.errorCode]: errorCode(error),
      [DEAD_LETTER_HEADERS.attempts]: String(attempts),
      [DEAD_LETTER_HEADERS.originalTopic]: topic,
      [DEAD_LETTER_HEADERS.originalPartition]: String(partition),
      [DEAD_LETTER_HEADERS.originalOffset]: message.offset,
      [DEAD_LETTER_HEADERS.consumerGroup]: this.options.groupId,
      [DEAD_LETTER_HEADERS.failedAt]: String(Date.now()),
    };
    // If the dead-letter topic itself cannot be written, throwing makes kafkajs retry the batch from
    // the last committed offset: the message is delayed, never dropped.
    await this.publisher.sendRaw(this.options.deadLetterTopic, { key: message.key, value: message.value, headers });
    this.options.onDeadLetter?.({ topic, partition, offset: message.offset, error, attempts });
  }
}

function errorCode(error: unknown): string {
  if (error instanceof MessagingError) return error.code;
  if (isProgrammingError(error)) return 'PROGRAMMING_ERROR';
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'HANDLER_FAILED';
}
