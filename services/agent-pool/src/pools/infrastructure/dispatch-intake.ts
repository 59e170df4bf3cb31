import type { TaskDispatched } from '@flotilla/contracts';
import { DEAD_LETTER_HEADERS, describeError, ensureTopics, headersToMetadata, isUnavailable, retryWhileUnavailable, withRetry, type TopicDeclaration, type AvroSerde, type ConsumedEvent, type EventPublisher } from '@flotilla/messaging';
import { contextFromTraceparent, inSpan, SpanKind, type Logger } from '@flotilla/observability';
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import type { Consumer, ConsumerRunConfig, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { PartitionProgress } from './partition-progress';
import type { DispatchSink, TakenDispatch } from '../ports';

export type { DispatchSink, TakenDispatch } from '../ports';

export interface DispatchIntakeOptions {
  readonly kafka: Kafka;
  readonly serde: AvroSerde;
  readonly publisher: EventPublisher;
  readonly logger: Logger;
  readonly groupId: string;
  readonly deadLetterTopic: TopicDeclaration;
  /** Physical dispatch topic → agent type. */
  readonly agentTypeByTopic: ReadonlyMap<string, string>;
  readonly sink: DispatchSink;
  readonly commitIntervalMs?: number;
  readonly drainTimeoutMs?: number;
  readonly sessionTimeoutMs?: number;
}

/**
 * Takes dispatches off the per-agent-type topics and hands them to the pools without waiting for
 * them to run: the fetch loop never waits on a busy pool, so one pool's slow tasks cannot delay
 * another's (kafkajs fetches every partition of a broker together and waits for all their batches).
 * A pool whose bulkhead is full has its topic paused until it has room again. The fetch position
 * moves on at hand-off; the committed offset only when the pool settles the attempt, after its
 * outcome is recorded in PostgreSQL, so a crash loses nothing (redelivered dispatches are applied
 * once thanks to the attempt's state and inbox).
 *
 * A dependency away is nobody's fault: a dispatch that cannot be decoded because the registry is
 * unreachable waits for it, and one whose outcome could not be recorded because PostgreSQL is away
 * is offered to its pool again rather than dead-lettered. A consumer that kafkajs gives up on (a
 * crash it does not restart) is restarted here, with backoff.
 */
export class DispatchIntake extends Server implements CustomTransportStrategy {
  private consumer: Consumer | null = null;
  private closing = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private restartDelayMs = RESTART_INITIAL_DELAY_MS;
  private readonly progress = new Map<string, PartitionProgress>();
  private readonly assignment = new Map<string, number[]>();
  private readonly paused = new Set<string>();
  private commitTimer: NodeJS.Timeout | null = null;
  private committing: Promise<void> = Promise.resolve();

  constructor(private readonly options: DispatchIntakeOptions) {
    super();
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      await this.start();
      callback();
    } catch (error) {
      callback(error);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const consumer = this.consumer;
    if (!consumer) return;
    this.consumer = null;
    try {
      consumer.pause([...this.options.agentTypeByTopic.keys()].map((topic) => ({ topic })));
    } catch {
      // Crashed (not running) at this moment: it fetches nothing anyway.
    }
    if (!(await this.options.sink.drain(this.options.drainTimeoutMs ?? 10_000))) {
      this.options.logger.warn('attempts still running at shutdown: their dispatches will be redelivered');
    }
    if (this.commitTimer) clearInterval(this.commitTimer);
    await this.commit(consumer);
    await consumer.disconnect();
  }

  /** Partitions of `topic` this instance owns now. */
  partitionsOf(topic: string): readonly number[] {
    return this.assignment.get(topic) ?? [];
  }

  /** The next offset this instance would take from a partition, if it took any. */
  nextToTake(topic: string, partition: number): bigint | null {
    return this.progress.get(key(topic, partition))?.nextToTake ?? null;
  }

  private async start(): Promise<void> {
    await ensureTopics(this.options.kafka, [this.options.deadLetterTopic]);
    const consumer = this.options.kafka.consumer({
      groupId: this.options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: this.options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 100,
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.restartDelayMs = RESTART_INITIAL_DELAY_MS;
      this.onAssignment(payload.memberAssignment);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => this.crashed(consumer, payload.error, payload.restart));
    await consumer.connect();
    // Retriable metadata errors (a topic created a moment ago) are retried rather than failing the start.
    await withRetry(() => consumer.subscribe({ topics: [...this.options.agentTypeByTopic.keys()], fromBeginning: true }), { maxAttempts: 8, initialDelayMs: 250, maxDelayMs: 5_000 });
    await consumer.run(this.runConfig(consumer));
    this.consumer = consumer;
    this.commitTimer = setInterval(() => void this.commit(consumer), this.options.commitIntervalMs ?? 200);
  }

  private runConfig(consumer: Consumer): ConsumerRunConfig {
    return {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 6,
      eachBatch: (payload) => this.takeBatch(consumer, payload),
    };
  }

  /** kafkajs restarts a crashed consumer only for errors it deems retriable; otherwise it would stay stopped for good. */
  private crashed(consumer: Consumer, error: Error, restart: boolean): void {
    if (this.closing || restart) return;
    this.options.logger.error({ err: error, groupId: this.options.groupId, inMs: this.restartDelayMs }, 'dispatch consumer crashed and kafkajs will not restart it; restarting');
    this.scheduleRestart(consumer);
  }

  private scheduleRestart(consumer: Consumer): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const delayMs = this.restartDelayMs;
    this.restartDelayMs = Math.min(delayMs * 2, RESTART_MAX_DELAY_MS);
    this.restartTimer = setTimeout(async () => {
      this.restartTimer = null;
      if (this.closing) return;
      try {
        // The crash disconnected it; the subscription is kept. A failing join crashes it again (and comes back here).
        await consumer.connect();
        await consumer.run(this.runConfig(consumer));
      } catch (error) {
        if (this.closing) return;
        this.options.logger.error({ err: error, groupId: this.options.groupId }, 'dispatch consumer could not be restarted; trying again');
        this.scheduleRestart(consumer);
      }
    }, delayMs);
  }

  private async takeBatch(consumer: Consumer, { batch, resolveOffset, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, partition } = batch;
    const agentType = this.options.agentTypeByTopic.get(topic);
    if (!agentType) return;
    const progress = this.progressOf(topic, partition);
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || this.paused.has(topic)) return;
      if (!progress.isNew(message.offset)) {
        resolveOffset(message.offset);
        continue;
      }
      const event = await this.decode(topic, partition, message, () => this.closing || !isRunning() || isStale());
      if (event === undefined) return; // gave up waiting for the registry: fetched again later
      if (!progress.isNew(message.offset)) {
        resolveOffset(message.offset);
        continue;
      }
      if (event === null || event.envelope.eventType !== 'flotilla.task.TaskDispatched') {
        progress.take(message.offset);
        progress.finish(message.offset);
        resolveOffset(message.offset);
        continue;
      }
      if (!this.options.sink.hasRoom(agentType)) {
        // Backpressure: leave the rest of the batch unresolved (fetched again on resume) and stop fetching this pool.
        this.pause(consumer, topic, agentType);
        return;
      }
      progress.take(message.offset);
      const settle = () => {
        // A partition taken away meanwhile has a new owner; its progress here is gone.
        if (this.progress.get(key(topic, partition)) === progress) progress.finish(message.offset);
      };
      const parent = contextFromTraceparent(event.envelope.traceparent, event.envelope.tracestate);
      await inSpan(
        `kafka.consume ${event.envelope.eventType}`,
        {
          kind: SpanKind.CONSUMER,
          parent,
          attributes: {
            'messaging.system': 'kafka',
            'messaging.destination.name': topic,
            'messaging.kafka.destination.partition': partition,
            'messaging.kafka.message.offset': Number(message.offset),
            'messaging.consumer.group.name': this.options.groupId,
            'flotilla.event_type': event.envelope.eventType,
            'flotilla.correlation_id': event.envelope.correlationId,
          },
        },
        async () => {
          const taken: TakenDispatch = {
            event: event as ConsumedEvent<TaskDispatched>,
            agentType,
            takenAt: Date.now(),
            traceContext: parent,
            settle,
            deadLetter: async (error) => {
              if (isUnavailable(error)) return this.offerAgain(taken, progress, error);
              await this.deadLetter(topic, partition, message, error);
              settle();
            },
          };
          this.options.sink.offer(taken);
        },
      );
      resolveOffset(message.offset);
    }
  }

  private pause(consumer: Consumer, topic: string, agentType: string): void {
    if (this.paused.has(topic)) return;
    this.paused.add(topic);
    consumer.pause([{ topic }]);
    this.options.sink.whenRoom(agentType, () => {
      this.paused.delete(topic);
      try {
        if (this.consumer === consumer) consumer.resume([{ topic }]);
      } catch {
        // Crashed at this moment: its restart fetches every topic again.
      }
    });
  }

  /**
   * The attempt's outcome could not be recorded because a dependency (PostgreSQL) stayed away longer
   * than the runner's retries: not the dispatch's fault, so it is not dead-lettered but offered to its
   * pool again after a pause, as a redelivery would (the attempt's state makes a second run record
   * once). Not if the partition has gone to another instance meanwhile (it runs it there) or the
   * intake is closing (it comes back after the restart).
   */
  private offerAgain(taken: TakenDispatch, progress: PartitionProgress, error: unknown): void {
    const { executionId, taskId, attempt } = taken.event.envelope.payload;
    this.options.logger.warn({ err: error, executionId, taskId, attempt, inMs: OFFER_AGAIN_DELAY_MS }, 'attempt outcome not recorded while a dependency is away: the dispatch is offered again, not dead-lettered');
    const stillOurs = () => !this.closing && this.progress.get(key(taken.event.topic, taken.event.partition)) === progress;
    setTimeout(() => {
      if (!stillOurs()) return;
      this.options.sink.whenRoom(taken.agentType, () => {
        if (stillOurs()) this.options.sink.offer({ ...taken, takenAt: Date.now() });
      });
    }, OFFER_AGAIN_DELAY_MS);
  }

  /** The decoded event; null when dead-lettered; undefined when `abandon` said to stop waiting for the registry. */
  private async decode(topic: string, partition: number, message: KafkaMessage, abandon: () => boolean): Promise<ConsumedEvent | null | undefined> {
    let decoded: { type: string; payload: unknown };
    try {
      decoded = await retryWhileUnavailable(() => this.options.serde.decode(message.value), { abandon });
    } catch (error) {
      if (isUnavailable(error)) return undefined;
      await this.deadLetter(topic, partition, message, error);
      return null;
    }
    const metadata = headersToMetadata(message.headers, {
      eventType: decoded.type,
      key: message.key?.toString('utf8') ?? null,
      topic,
      partition,
      offset: message.offset,
      timestamp: message.timestamp,
    });
    return { envelope: { ...metadata, payload: decoded.payload }, topic, partition, offset: message.offset, key: message.key?.toString('utf8') ?? null };
  }

  private async deadLetter(topic: string, partition: number, message: KafkaMessage, error: unknown): Promise<void> {
    this.options.logger.error({ err: error, topic, partition, offset: message.offset, deadLetterTopic: this.options.deadLetterTopic.name }, 'dispatch dead-lettered');
    await this.options.publisher.sendRaw(this.options.deadLetterTopic.name, {
      key: message.key,
      value: message.value,
      headers: {
        ...(message.headers ?? {}),
        [DEAD_LETTER_HEADERS.errorName]: error instanceof Error ? error.name : 'Error',
        [DEAD_LETTER_HEADERS.errorMessage]: describeError(error).slice(0, 4_000),
        [DEAD_LETTER_HEADERS.errorCode]: typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'HANDLER_FAILED',
        [DEAD_LETTER_HEADERS.attempts]: '1',
        [DEAD_LETTER_HEADERS.originalTopic]: topic,
        [DEAD_LETTER_HEADERS.originalPartition]: String(partition),
        [DEAD_LETTER_HEADERS.originalOffset]: message.offset,
        [DEAD_LETTER_HEADERS.consumerGroup]: this.options.groupId,
        [DEAD_LETTER_HEADERS.failedAt]: String(Date.now()),
      },
    });
  }

  private onAssignment(memberAssignment: Record<string, number[]>): void {
    this.assignment.clear();
    for (const [topic, partitions] of Object.entries(memberAssignment)) this.assignment.set(topic, [...partitions]);
    const owned = (topic: string, partition: number) => this.assignment.get(topic)?.includes(partition) ?? false;
    for (const k of [...this.progress.keys()]) {
      const [topic, partition] = splitKey(k);
      if (!owned(topic, partition)) this.progress.delete(k);
    }
    this.options.sink.dropQueued((topic, partition) => !owned(topic, partition));
  }

  /** Commits, per partition, up to the first dispatch not settled yet. One commit at a time. */
  private commit(consumer: Consumer): Promise<void> {
    this.committing = this.committing.then(async () => {
      const offsets = [...this.progress.entries()].flatMap(([k, p]) => {
        const offset = p.toCommit();
        if (offset === null) return [];
        const [topic, partition] = splitKey(k);
        return [{ topic, partition, offset, progress: p }];
      });
      if (offsets.length === 0) return;
      try {
        await consumer.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset })));
        for (const { offset, progress } of offsets) progress.committedAt(offset);
      } catch (error) {
        // A rebalance in progress, or the broker away: the next round commits again.
        this.options.logger.warn({ err: error }, 'dispatch offsets not committed yet');
      }
    });
    return this.committing;
  }

  private progressOf(topic: string, partition: number): PartitionProgress {
    let progress = this.progress.get(key(topic, partition));
    if (!progress) {
      progress = new PartitionProgress();
      this.progress.set(key(topic, partition), progress);
    }
    return progress;
  }
}

const RESTART_INITIAL_DELAY_MS = 1_000;
const RESTART_MAX_DELAY_MS = 30_000;
const OFFER_AGAIN_DELAY_MS = 1_000;

function key(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function splitKey(k: string): [string, number] {
  const [topic, partition] = k.split('\u0000');
  return [topic, Number(partition)];
}
