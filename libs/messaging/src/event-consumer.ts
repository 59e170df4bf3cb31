import type { Consumer, ConsumerRunConfig, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import pLimit from 'p-limit';
import type { AvroSerde } from './avro-serde';
import { CompletedPrefix } from './completed-prefix';
import type { OwnedPartitions } from './consumer-lag';
import { DEAD_LETTER_HEADERS, headersToMetadata, type EventEnvelope } from './envelope';
import { isProgrammingError, MessagingError } from './errors';
import type { EventPublisher } from './event-publisher';
import { HandOffProgress, type HandedOff, type HandOffMode, type HandOffSink, type TakenOffset } from './hand-off';
import { DEFAULT_RETRY, describeError, RetriesExhaustedError, withRetry, type RetryOptions } from './retry';
import { isUnavailable, retryWhileUnavailable, type WhileUnavailableOptions } from './unavailable';
import { contextFromTraceparent, inSpan, SpanKind } from '@flotilla/observability';
import { trace, type Context } from '@opentelemetry/api';

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

interface ConsumerOptionsBase {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly deadLetterTopic: string;
  /** Partitions whose batches run at once: 3 by default when handling, 6 when handing off. */
  readonly partitionsConsumedConcurrently?: number;
  /** Retries of a handler (handle mode) and of decoding. */
  readonly retry?: RetryOptions;
  readonly fromBeginning?: boolean;
  readonly onDeadLetter?: (deadLetter: DeadLetter) => void;
  readonly sessionTimeoutMs?: number;
}

/** Handle mode (the default): the consumer runs the handler for each message and waits for it. */
export interface HandleModeOptions extends ConsumerOptionsBase {
  readonly mode?: { readonly kind: 'handle' };
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
}

/** Hand-off mode: each message is offered to a sink (bulkheads) without waiting for it to run; see HandOffMode. */
export interface HandOffModeOptions extends ConsumerOptionsBase {
  readonly mode: HandOffMode;
}

export type EventConsumerOptions = HandleModeOptions | HandOffModeOptions;

/**
 * Consumes registry-framed Avro events, in one of two modes.
 *
 * - Handle (default): within a fetched batch, messages run concurrently by key (same key: in order),
 *   and only the completed prefix of offsets is committed. A handler that fails is retried, then the
 *   message is dead-lettered.
 * - Hand-off: each message is offered to a sink and the fetch goes on at once; a topic whose sink
 *   has no room is paused until it has. Per partition, only the prefix the sink has settled is
 *   committed; a revoked partition's waiting messages are dropped from the sink (their new owner runs
 *   them); stopping lets the sink drain. The sink may dead-letter a message whose work kept failing.
 *
 * In both: a message that cannot be decoded goes to the dead-letter topic with the cause in its
 * headers, and the partition goes on. A failure because a dependency is away (PostgreSQL
 * restarting, the registry unreachable: `isUnavailable`) is not the message's fault: the message
 * waits, with backoff and heartbeats, until the dependency is back (handed off: it is offered again),
 * and is never dead-lettered for it. A consumer that kafkajs gives up on (a crash it does not
 * restart) is restarted here, with backoff.
 */
export class EventConsumer implements OwnedPartitions {
  private readonly consumer: Consumer;
  private readonly handling: HandleModeOptions | null;
  private readonly handOff: HandOffMode | null;
  /** The partitions owned now (both modes); what was taken and settled of each (hand-off). */
  private readonly progress = new HandOffProgress();
  /** Hand-off: topics paused until their sink has room. */
  private readonly paused = new Set<string>();
  private commitTimer: NodeJS.Timeout | null = null;
  private committing: Promise<void> = Promise.resolve();
  private stopping = false;
  private stopped: Promise<void> | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private restartDelayMs = RESTART_INITIAL_DELAY_MS;
  private crash: string | null = null;
  private lastWaitLog = 0;
  private lastCommitLog = 0;

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
    this.handling = isHandOff(options) ? null : options;
    this.handOff = isHandOff(options) ? options.mode : null;
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => this.crashed(payload.error, payload.restart));
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      this.crash = null;
      this.restartDelayMs = RESTART_INITIAL_DELAY_MS;
      this.assigned(payload.memberAssignment);
    });
  }

  get groupId(): string {
    return this.options.groupId;
  }

  /** Null while it consumes (or joins); what went wrong while it has crashed and is being restarted. */
  get problem(): string | null {
    return this.crash;
  }

  /** Partitions of `topic` this consumer owns now. */
  partitionsOf(topic: string): readonly number[] {
    return this.progress.partitionsOf(topic);
  }

  /** Hand-off: the next offset it would take from a partition, if it took any; null when handling (the committed offset says it). */
  nextToTake(topic: string, partition: number): bigint | null {
    return this.progress.nextToTake(topic, partition);
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    // Retriable metadata errors (a topic created a moment ago) are retried rather than failing the start.
    await withRetry(() => this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: this.options.fromBeginning ?? true }), { maxAttempts: 8, initialDelayMs: 250, maxDelayMs: 5_000 });
    await this.consumer.run(this.runConfig());
    // Not once a stop has begun (it clears the timer only if it was set); unref'd: a periodic commit
    // must never be what keeps a process alive once everything else has closed.
    if (this.handOff && !this.stopping) this.commitTimer = setInterval(() => void this.commitSettled(), this.handOff.commitIntervalMs ?? 200).unref();
  }

  /**
   * Stops fetching, lets in-flight work finish (handlers, or give up waiting for a dependency; the
   * hand-off sink's drain), commits what finished, leaves the group. Once: calling it again waits for the same stop.
   */
  stop(): Promise<void> {
    this.stopped ??= this.stopOnce();
    return this.stopped;
  }

  private async stopOnce(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    if (this.handOff) {
      try {
        this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
      } catch {
        // Not running (crashed, or never started) at this moment: it fetches nothing anyway.
      }
      if (!(await this.handOff.sink.drain(this.handOff.drainTimeoutMs ?? 10_000))) {
        this.consumer.logger().warn(`consumer ${this.options.groupId}: work still running at shutdown; its messages will be redelivered`, { groupId: this.options.groupId });
      }
      if (this.commitTimer) clearInterval(this.commitTimer);
      this.commitTimer = null;
      await this.commitSettled();
    }
    await this.consumer.disconnect();
  }

  private runConfig(): ConsumerRunConfig {
    const { handling, handOff } = this;
    if (handOff) {
      // Offsets are committed by the timer, from what the sink has settled, not as batches end.
      return {
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 6,
        eachBatch: (payload) => this.handOffBatch(handOff, payload),
      };
    }
    return {
      autoCommit: true,
      autoCommitInterval: 500,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.handleBatch(handling!, payload),
    };
  }

  /** A group join's assignment: in hand-off mode the sink forgets what waits for the partitions taken away. */
  private assigned(memberAssignment: Readonly<Record<string, readonly number[]>>): void {
    const revoked = this.progress.assigned(memberAssignment);
    if (!this.handOff) return;
    this.handOff.sink.partitionsRevoked(revoked);
    // A restarted consumer (its own crash recovery, or ours) starts with nothing paused.
    if (this.paused.size === 0) return;
    try {
      this.consumer.pause([...this.paused].map((topic) => ({ topic })));
    } catch {
      // Not running at this moment: the next join pauses them.
    }
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
    this.restartTimer = setTimeout(() => void this.restart(), delayMs).unref();
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

  private async handleBatch(handling: HandleModeOptions, payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, commitOffsetsIfNecessary, isRunning, isStale } = payload;
    const prefix = new CompletedPrefix(batch.messages.map((m) => m.offset));
    const lanes = new Map<string, KafkaMessage[]>();
    for (const message of batch.messages) {
      const lane = handling.ordering === 'partition' ? 'partition' : message.key ? message.key.toString('utf8') : `offset:${message.offset}`;
      const queue = lanes.get(lane) ?? [];
      queue.push(message);
      lanes.set(lane, queue);
    }
    const limit = pLimit(handling.concurrencyPerPartition ?? 32);
    const { waiting, heartbeatIfDue } = this.batchWaiting(payload);
    await Promise.all(
      [...lanes.values()].map((lane) =>
        limit(async () => {
          for (const message of lane) {
            if (!isRunning() || isStale()) return;
            // Not handled: abandoned while waiting for a dependency; its offset stays unresolved.
            if (!(await this.handleMessage(handling.handler, batch.topic, batch.partition, message, waiting))) return;
            const committable = prefix.complete(message.offset);
            if (committable !== null) resolveOffset(committable);
            await heartbeatIfDue();
          }
        }),
      ),
    );
    await commitOffsetsIfNecessary();
  }

  /** False when it gave up waiting for a dependency (see `waiting.abandon`): neither handled nor dead-lettered. */
  private async handleMessage(handler: EventHandler, topic: string, partition: number, message: KafkaMessage, waiting: WhileUnavailableOptions): Promise<boolean> {
    const event = await this.decode(topic, partition, message, waiting);
    if (event === ABANDONED) return false;
    if (event === DEAD_LETTERED) return true;
    try {
      await this.inConsumeSpan(event, () => retryWhileUnavailable(() => withRetry(() => handler(event), this.options.retry ?? DEFAULT_RETRY), waiting));
    } catch (error) {
      if (isUnavailable(error)) return false;
      await this.deadLetter(topic, partition, message, error);
    }
    return true;
  }

  /**
   * Hand-off: takes the batch's messages in offset order and offers each to the sink, without
   * waiting for it to run. Messages taken before (fetched again after a rebalance or a resume) are
   * skipped. When the sink has no room for the topic, the rest of the batch stays unresolved
   * (fetched again on resume) and the topic is paused.
   */
  private async handOffBatch(handOff: HandOffMode, payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    const { waiting } = this.batchWaiting(payload);
    for (const message of batch.messages) {
      if (this.stopping || !isRunning() || isStale() || this.paused.has(topic)) return;
      if (!this.progress.isNew(topic, partition, message.offset)) {
        resolveOffset(message.offset);
        continue;
      }
      const event = await this.decode(topic, partition, message, waiting);
      if (event === ABANDONED) return; // fetched again later
      // Checked again: the partition may have been taken away and given back while decoding waited.
      if (!this.progress.isNew(topic, partition, message.offset)) {
        resolveOffset(message.offset);
        continue;
      }
      if (event === DEAD_LETTERED) {
        this.progress.take(topic, partition, message.offset)?.settle();
        resolveOffset(message.offset);
        continue;
      }
      if (!handOff.sink.hasRoom(topic)) {
        this.pause(handOff.sink, topic);
        return;
      }
      const taken = this.progress.take(topic, partition, message.offset)!;
      // The consumer span ends once the message is handed off; the work done for it joins the trace under it.
      await this.inConsumeSpan(event, async (traceContext) => handOff.sink.offer(this.handedOff(handOff.sink, event, message, taken, traceContext)));
      resolveOffset(message.offset);
    }
  }

  private handedOff(sink: HandOffSink, event: ConsumedEvent, message: KafkaMessage, taken: TakenOffset, traceContext: Context): HandedOff {
    const handedOff: HandedOff = {
      event,
      takenAt: Date.now(),
      traceContext,
      settle: () => taken.settle(),
      deadLetter: async (error) => {
        if (isUnavailable(error)) return this.offerAgain(sink, handedOff, taken, error);
        await this.deadLetter(event.topic, event.partition, message, error);
        taken.settle();
      },
    };
    return handedOff;
  }

  /**
   * The sink could not finish a message's work because a dependency stayed away longer than its own
   * retries: not the message's fault, so it is offered again after a pause, as a redelivery would
   * be. Not once its partition has gone to another consumer (it runs it there) or this one stops
   * (it comes back after the restart).
   */
  private offerAgain(sink: HandOffSink, handedOff: HandedOff, taken: TakenOffset, error: unknown): void {
    const { topic, partition, offset, envelope } = handedOff.event;
    this.consumer.logger().warn(`consumer ${this.options.groupId}: work failed while a dependency is away; the message is offered again, not dead-lettered`, {
      groupId: this.options.groupId,
      topic,
      partition,
      offset,
      eventType: envelope.eventType,
      correlationId: envelope.correlationId,
      inMs: OFFER_AGAIN_DELAY_MS,
      error: describeError(error),
    });
    const stillOurs = () => !this.stopping && taken.stillOwned;
    setTimeout(() => {
      if (!stillOurs()) return;
      sink.whenRoom(topic, () => {
        if (stillOurs()) sink.offer({ ...handedOff, takenAt: Date.now() });
      });
    }, OFFER_AGAIN_DELAY_MS).unref();
  }

  /** Stops fetching `topic` until the sink has room for it again. */
  private pause(sink: HandOffSink, topic: string): void {
    if (this.paused.has(topic)) return;
    this.paused.add(topic);
    this.consumer.pause([{ topic }]);
    sink.whenRoom(topic, () => {
      this.paused.delete(topic);
      if (this.stopping) return;
      try {
        this.consumer.resume([{ topic }]);
      } catch {
        // Not running at this moment (crashed): its restart fetches every topic again.
      }
    });
  }

  /** Hand-off: commits, per partition, up to the first message the sink has not settled yet. One commit at a time. */
  private commitSettled(): Promise<void> {
    this.committing = this.committing.then(async () => {
      const offsets = this.progress.toCommit();
      if (offsets.length === 0) return;
      try {
        await this.consumer.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
        this.progress.committed(offsets);
      } catch (error) {
        // A rebalance in progress, or the broker away: the next round commits again.
        if (Date.now() - this.lastCommitLog < 5_000) return;
        this.lastCommitLog = Date.now();
        this.consumer.logger().warn(`consumer ${this.options.groupId}: settled offsets not committed yet`, { groupId: this.options.groupId, error: describeError(error) });
      }
    });
    return this.committing;
  }

  /**
   * While a message waits for a dependency: give up when the consumer stops or loses the partition
   * (the message is fetched again, by whoever owns it then), and keep the group membership alive.
   */
  private batchWaiting({ batch, heartbeat, isRunning, isStale }: EachBatchPayload): { waiting: WhileUnavailableOptions; heartbeatIfDue: () => Promise<void> } {
    let lastHeartbeat = Date.now();
    const heartbeatIfDue = async () => {
      if (Date.now() - lastHeartbeat < 1_000) return;
      lastHeartbeat = Date.now();
      await heartbeat();
    };
    const waiting: WhileUnavailableOptions = {
      abandon: () => this.stopping || !isRunning() || isStale(),
      onWait: () => heartbeatIfDue().catch(() => undefined),
      onUnavailable: (error, waitingMs) => this.logWaiting(batch.topic, batch.partition, error, waitingMs),
    };
    return { waiting, heartbeatIfDue };
  }

  /** The event; DEAD_LETTERED when it could not be decoded (and was dead-lettered); ABANDONED when it gave up waiting for the registry. */
  private async decode(topic: string, partition: number, message: KafkaMessage, waiting: WhileUnavailableOptions): Promise<ConsumedEvent | typeof DEAD_LETTERED | typeof ABANDONED> {
    let decoded: { type: string; payload: unknown };
    try {
      decoded = await retryWhileUnavailable(() => withRetry(() => this.serde.decode(message.value), this.options.retry ?? DEFAULT_RETRY), waiting);
    } catch (error) {
      if (isUnavailable(error)) return ABANDONED;
      await this.deadLetter(topic, partition, message, error);
      return DEAD_LETTERED;
    }
    const key = message.key?.toString('utf8') ?? null;
    const metadata = headersToMetadata(message.headers, { eventType: decoded.type, key, topic, partition, offset: message.offset, timestamp: message.timestamp });
    return { envelope: { ...metadata, payload: decoded.payload }, topic, partition, offset: message.offset, key };
  }

  /** The consumer span, `kafka.consume <type>`, child of the producer's trace context; `work` gets the span's context. */
  private inConsumeSpan<T>(event: ConsumedEvent, work: (traceContext: Context) => Promise<T>): Promise<T> {
    const { envelope } = event;
    const parent = contextFromTraceparent(envelope.traceparent, envelope.tracestate);
    return inSpan(
      `kafka.consume ${envelope.eventType}`,
      {
        kind: SpanKind.CONSUMER,
        parent,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.destination.name': event.topic,
          'messaging.kafka.destination.partition': event.partition,
          'messaging.kafka.message.offset': Number(event.offset),
          'messaging.consumer.group.name': this.options.groupId,
          'flotilla.event_type': envelope.eventType,
          'flotilla.correlation_id': envelope.correlationId,
        },
      },
      (span) => work(trace.setSpan(parent, span)),
    );
  }

  /** One line every few seconds per consumer while messages wait, not one per message and attempt. */
  private logWaiting(topic: string, partition: number, error: unknown, waitingMs: number): void {
    if (Date.now() - this.lastWaitLog < 5_000) return;
    this.lastWaitLog = Date.now();
    this.consumer.logger().warn(`consumer ${this.options.groupId}: handlers wait for a dependency to come back`, { groupId: this.options.groupId, topic, partition, waitingMs, error: describeError(error) });
  }

  /** Parks the message on the dead-letter topic with the cause (the last error of exhausted retries, and how many attempts) in its headers. */
  private async deadLetter(topic: string, partition: number, message: KafkaMessage, failure: unknown): Promise<void> {
    const error = failure instanceof RetriesExhaustedError ? failure.lastError : failure;
    const attempts = failure instanceof RetriesExhaustedError ? failure.attempts : 1;
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
    // the last committed offset (a hand-off sink leaves the message unsettled): delayed, never dropped.
    await this.publisher.sendRaw(this.options.deadLetterTopic, { key: message.key, value: message.value, headers });
    this.options.onDeadLetter?.({ topic, partition, offset: message.offset, error, attempts });
  }
}

const RESTART_INITIAL_DELAY_MS = 1_000;
const RESTART_MAX_DELAY_MS = 30_000;
const OFFER_AGAIN_DELAY_MS = 1_000;
const DEAD_LETTERED = Symbol('dead-lettered');
const ABANDONED = Symbol('abandoned');

function isHandOff(options: EventConsumerOptions): options is HandOffModeOptions {
  return options.mode?.kind === 'hand-off';
}

function errorCode(error: unknown): string {
  if (error instanceof MessagingError) return error.code;
  if (isProgrammingError(error)) return 'PROGRAMMING_ERROR';
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'HANDLER_FAILED';
}
