import type { Consumer, ConsumerRunConfig, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import pLimit from 'p-limit';
import type { AvroSerde } from './avro-serde';
import { CompletedPrefix } from './completed-prefix';
import { DEAD_LETTER_HEADERS, headersToMetadata, type EventEnvelope } from './envelope';
import { isProgrammingError, MessagingError } from './errors';
import type { EventPublisher } from './event-publisher';
import { DEFAULT_RETRY, describeError, RetriesExhaustedError, withRetry, type RetryOptions } from './retry';
import { isUnavailable, retryWhileUnavailable, type WhileUnavailableOptions } from './unavailable';
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
 * cause in its headers; the partition goes on. A failure because a dependency is away (PostgreSQL
 * restarting, the registry unreachable: `isUnavailable`) is not the message's fault: the message
 * waits, with backoff and heartbeats, until the dependency is back, and is never dead-lettered for it.
 * A consumer that kafkajs gives up on (a crash it does not restart) is restarted here, with backoff.
 */
export class EventConsumer {
  private readonly consumer: Consumer;
  private readonly limitPerBatch: number;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private restartDelayMs = RESTART_INITIAL_DELAY_MS;
  private crash: string | null = null;
  private lastWaitLog = 0;

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
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => this.crashed(payload.error, payload.restart));
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.crash = null;
      this.restartDelayMs = RESTART_INITIAL_DELAY_MS;
    });
  }

  get groupId(): string {
    return this.options.groupId;
  }

  /** Null while it consumes (or joins); what went wrong while it has crashed and is being restarted. */
  get problem(): string | null {
    return this.crash;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    // Retriable metadata errors (a topic created a moment ago) are retried rather than failing the start.
    await withRetry(() => this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: this.options.fromBeginning ?? true }), { maxAttempts: 8, initialDelayMs: 250, maxDelayMs: 5_000 });
    await this.consumer.run(this.runConfig());
  }

  /** Stops fetching, lets in-flight handlers finish (or give up waiting for a dependency), commits what finished, leaves the group. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    await this.consumer.disconnect();
  }

  private runConfig(): ConsumerRunConfig {
    return {
      autoCommit: true,
      autoCommitInterval: 500,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.handleBatch(payload),
    };
  }

  /**
   * kafkajs restarts a crashed consumer itself only when it deems the error retriable (`restart`);
   * otherwise (no broker reachable for a while, a non-retriable protocol error) the consumer would
   * stay stopped for good while the service looks alive. Restart it then: connect and run again.
   */
  private crashed(error: Error, restart: boolean): void {
    if (this.stopping) return;
    this.crash = `crashed (${describeError(error)}); ${restart ? 'kafkajs restarts it' : 'restarting'}`;
    if (restart) return;
    this.consumer.logger().error(`consumer ${this.options.groupId} crashed and kafkajs will not restart it; restarting in ${this.restartDelayMs} ms`, { groupId: this.options.groupId, error: describeError(error) });
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const delayMs = this.restartDelayMs;
    this.restartDelayMs = Math.min(delayMs * 2, RESTART_MAX_DELAY_MS);
    this.restartTimer = setTimeout(() => void this.restart(), delayMs);
  }

  private async restart(): Promise<void> {
    this.restartTimer = null;
    if (this.stopping) return;
    try {
      // The crash disconnected it; the subscription is kept. A failing join crashes it again (and comes back here).
      await this.consumer.connect();
      await this.consumer.run(this.runConfig());
    } catch (error) {
      if (this.stopping) return;
      this.consumer.logger().error(`consumer ${this.options.groupId} could not be restarted; trying again in ${this.restartDelayMs} ms`, { groupId: this.options.groupId, error: describeError(error) });
      this.scheduleRestart();
    }
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
    // While a message waits for a dependency: give up when the consumer stops or loses the partition
    // (the message is fetched again, by whoever owns it then), and keep the group membership alive.
    const waiting: WhileUnavailableOptions = {
      abandon: () => this.stopping || !isRunning() || isStale(),
      onWait: async () => {
        if (Date.now() - lastHeartbeat < 1_000) return;
        lastHeartbeat = Date.now();
        await heartbeat().catch(() => undefined);
      },
      onUnavailable: (error, waitingMs) => this.logWaiting(batch.topic, batch.partition, error, waitingMs),
    };
    await Promise.all(
      [...lanes.values()].map((lane) =>
        limit(async () => {
          for (const message of lane) {
            if (!isRunning() || isStale()) return;
            // Not handled: abandoned while waiting for a dependency; its offset stays unresolved.
            if (!(await this.handleMessage(batch.topic, batch.partition, message, waiting))) return;
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

  /** False when it gave up waiting for a dependency (see `waiting.abandon`): neither handled nor dead-lettered. */
  private async handleMessage(topic: string, partition: number, message: KafkaMessage, waiting: WhileUnavailableOptions): Promise<boolean> {
    let decoded: { type: string; payload: unknown };
    try {
      decoded = await retryWhileUnavailable(() => withRetry(() => this.serde.decode(message.value), this.options.retry ?? DEFAULT_RETRY), waiting);
    } catch (error) {
      if (isUnavailable(error)) return false;
      const exhausted = error as RetriesExhaustedError;
      await this.deadLetter(topic, partition, message, exhausted.lastError ?? error, exhausted.attempts ?? 1);
      return true;
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
        () => retryWhileUnavailable(() => withRetry(() => this.options.handler(event), this.options.retry ?? DEFAULT_RETRY), waiting),
      );
    } catch (error) {
      if (isUnavailable(error)) return false;
      const exhausted = error as RetriesExhaustedError;
      await this.deadLetter(topic, partition, message, exhausted.lastError ?? error, exhausted.attempts ?? 1);
    }
    return true;
  }

  /** One line every few seconds per consumer while messages wait, not one per message and attempt. */
  private logWaiting(topic: string, partition: number, error: unknown, waitingMs: number): void {
    if (Date.now() - this.lastWaitLog < 5_000) return;
    this.lastWaitLog = Date.now();
    this.consumer.logger().warn(`consumer ${this.options.groupId}: handlers wait for a dependency to come back`, { groupId: this.options.groupId, topic, partition, waitingMs, error: describeError(error) });
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

const RESTART_INITIAL_DELAY_MS = 1_000;
const RESTART_MAX_DELAY_MS = 30_000;

function errorCode(error: unknown): string {
  if (error instanceof MessagingError) return error.code;
  if (isProgrammingError(error)) return 'PROGRAMMING_ERROR';
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'HANDLER_FAILED';
}
