import { deadLetterTopic, EVENT_SCHEMAS, physicalTopic, routeEvent, topicCatalogue, type EventType, type TopicSpec } from '@flotilla/contracts';
import { PostgresEventStore, OutboxRelay, schemaName, type Destination } from '@flotilla/event-store';
import { AvroSerde, ensureTopics, EventConsumer, EventPublisher, type DeadLetter, type HandleModeOptions, type HandOffModeOptions } from '@flotilla/messaging';
import { createLogger, createMetricsRegistry, type Logger, type Registry, type Telemetry } from '@flotilla/observability';
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { Pool } from 'pg';
import type { PlatformConfig } from './config';
import { DependencyChecks } from './readiness';
import { kafkaConnectionOptions } from './kafka-connection';

export interface PlatformOptions {
  readonly serviceName: string;
  readonly config: PlatformConfig;
  /** The Avro schemas to register; every event of the contracts by default. */
  readonly eventSchemas?: Readonly<Record<string, object>>;
  readonly telemetry?: Telemetry;
  /** The service's own migrations (read models, lookup tables), applied after the event store's. */
  readonly serviceMigrationsDir?: string;
  /** Topics beyond the shared catalogue that this service needs. */
  readonly extraTopics?: readonly TopicSpec[];
}

/**
 * A consumer of the service: its logical name (the group id is derived from it), its topics, and
 * either a handler (see EventConsumer's handle mode) or a hand-off mode with its sink. `fromBeginning`:
 * where a new group starts, the beginning (default) or only new messages (broadcast groups).
 */
export type ConsumerSpec = { readonly name: string } & Pick<HandleModeOptions, 'topics' | 'retry' | 'fromBeginning'> &
  (Pick<HandleModeOptions, 'handler' | 'concurrencyPerPartition' | 'ordering'> | Pick<HandOffModeOptions, 'mode'>);

/**
 * Everything a service needs from the outside world, wired once: Kafka, the registry serde, the
 * publisher, PostgreSQL with the event store, the outbox relay, logs and metrics. Framework-free; the
 * Nest module only exposes it.
 */
export class Platform {
  readonly kafka: Kafka;
  readonly serde: AvroSerde;
  readonly publisher: EventPublisher;
  readonly pool: Pool;
  readonly store: PostgresEventStore;
  readonly relay: OutboxRelay;
  readonly logger: Logger;
  readonly metrics: Registry;
  private readonly consumers: EventConsumer[] = [];
  private started = false;
  private consumersState: 'not started' | 'joining' | 'ok' = 'not started';

  constructor(readonly options: PlatformOptions) {
    const { config, serviceName } = options;
    this.logger = createLogger(serviceName, config.LOG_LEVEL);
    this.metrics = createMetricsRegistry(serviceName);
    this.kafka = new Kafka({
      clientId: `flotilla-${serviceName}`,
      brokers: config.KAFKA_BROKERS,
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => this.logger.warn({ kafka: entry.namespace, ...entry.log }, entry.log.message),
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 10_000 },
      ...kafkaConnectionOptions(config),
    });
    this.serde = AvroSerde.create(config.SCHEMA_REGISTRY_URL, options.eventSchemas ?? EVENT_SCHEMAS);
    this.publisher = new EventPublisher(this.kafka, this.serde);
    // Connecting gives up after a while rather than waiting forever on a server that does not answer.
    this.pool = new Pool({ connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_SIZE, connectionTimeoutMillis: 10_000 });
    this.pool.on('error', (error) => this.logger.error({ err: error }, 'idle PostgreSQL client failed'));
    // The pool listens for errors on idle connections only. One that fails while handed out (a
    // transaction between two queries, a LISTEN or lock connection) would otherwise emit an unhandled
    // 'error' and end the process when PostgreSQL restarts; its user sees the failure on its next
    // query instead, and the pool discards it when it comes back.
    this.pool.on('connect', (client) => client.on('error', (error) => this.logger.debug({ err: error }, 'PostgreSQL connection failed')));
    this.store = new PostgresEventStore(this.pool, schemaName(config.FLOTILLA_NAMESPACE ?? '', serviceName));
    this.relay = new OutboxRelay(this.pool, this.store.schema, this.publisher, { logger: this.logger });
  }

  get namespace(): string | undefined {
    return this.options.config.FLOTILLA_NAMESPACE;
  }

  /** Physical name of a catalogue topic in this environment. */
  topic(logicalName: string): string {
    return physicalTopic(this.namespace, logicalName);
  }

  /**
   * The one router (the topic catalogue's), in this environment's topic names: where an event is
   * published and with which key. Throws for an event type no topic carries.
   */
  readonly route = (event: { readonly type: string; readonly data: unknown }): Destination[] => {
    const { topic, key } = routeEvent(event.type as EventType, event.data as never);
    return [{ topic: this.topic(topic.name), key }];
  };

  groupId(consumerName: string): string {
    return physicalTopic(this.namespace, `flotilla.${this.options.serviceName}.${consumerName}`);
  }

  /** Topics, schemas, migrations, producer and relay: everything before the first message is handled. */
  async start(): Promise<void> {
    const topics = [...topicCatalogue(), ...(this.options.extraTopics ?? [])];
    // Each step is logged with its duration: a start that hangs says where.
    await this.step('topics applied', () => ensureTopics(this.kafka, topics.map((t) => ({ ...t, name: this.topic(t.name) }))));
    await this.step('schemas registered', () => this.serde.registerAll());
    await this.step('database migrated', () => this.store.migrate(this.options.serviceMigrationsDir));
    await this.step('producer connected', () => this.publisher.connect());
    await this.step('outbox relay started', () => this.relay.start());
    this.started = true;
  }

  private async step(done: string, work: () => Promise<unknown>): Promise<void> {
    const startedAt = Date.now();
    const slow = setTimeout(() => this.logger.warn({ step: done }, `start-up step still running after 10 s: ${done.replace(/ \w+$/, '')}`), 10_000);
    try {
      await work();
    } finally {
      clearTimeout(slow);
    }
    this.logger.info({ ms: Date.now() - startedAt }, done);
  }

  async createConsumer(spec: ConsumerSpec): Promise<EventConsumer> {
    const groupId = this.groupId(spec.name);
    const dlq = deadLetterTopic(groupId);
    await ensureTopics(this.kafka, [dlq]);
    const options = {
      groupId,
      topics: spec.topics,
      deadLetterTopic: dlq.name,
      retry: spec.retry,
      fromBeginning: spec.fromBeginning,
      onDeadLetter: ({ topic, partition, offset, error, attempts }: DeadLetter) =>
        this.logger.error({ err: error, topic, partition, offset, attempts, deadLetterTopic: dlq.name }, 'message dead-lettered'),
    };
    const consumer = new EventConsumer(
      this.kafka,
      this.serde,
      this.publisher,
      'mode' in spec ? { ...options, mode: spec.mode } : { ...options, handler: spec.handler, concurrencyPerPartition: spec.concurrencyPerPartition, ordering: spec.ordering },
    );
    this.consumers.push(consumer);
    return consumer;
  }

  /** Graceful shutdown: stop consuming, drain the relay, close clients, flush telemetry. */
  async stop(): Promise<void> {
    for (const consumer of this.consumers.splice(0)) await consumer.stop().catch((error) => this.logger.warn({ err: error }, 'consumer stop failed'));
    if (this.started) await this.relay.stop();
    await this.publisher.disconnect().catch(() => undefined);
    await this.dependencies?.close();
    await this.pool.end().catch(() => undefined);
    await this.options.telemetry?.shutdown().catch(() => undefined);
  }

  /** Set by the bootstrap around joining the consumer groups, which can take a Kafka session timeout. */
  markConsumersJoining(): void {
    this.consumersState = 'joining';
  }

  markConsumersJoined(): void {
    this.consumersState = 'ok';
    this.resolveJoined();
  }

  private resolveJoined: () => void = () => {};
  private readonly joined = new Promise<void>((resolve) => {
    this.resolveJoined = resolve;
  });

  /**
   * Resolves once the service's consumers have joined their groups. Background work that acts on
   * the state consumers keep up to date (timers, admission) starts then, not while a restarted
   * service still waits to read the events it missed.
   */
  get consumersJoined(): Promise<void> {
    return this.joined;
  }

  private dependencies: DependencyChecks | null = null;

  /**
   * Ready when every dependency answers (postgres, kafka, registry: 'ok' or 'unreachable: …', checked
   * with a short timeout and cached for a second), the platform has started and the consumers run
   * (a crashed one is named while it is restarted). Not ready while a dependency is away; the service
   * keeps running and becomes ready again by itself once it is back.
   */
  async isReady(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    this.dependencies ??= new DependencyChecks({ pool: this.pool, kafka: this.kafka, registryUrl: this.options.config.SCHEMA_REGISTRY_URL });
    const checks: Record<string, string> = await this.dependencies.statuses();
    checks.started = this.started ? 'ok' : 'starting';
    const crashed = this.consumers.filter((c) => c.problem !== null).map((c) => `${c.groupId} ${c.problem}`);
    checks.consumers = crashed.length > 0 ? crashed.join('; ') : this.consumersState === 'joining' ? `joining ${this.consumers.length} consumer group(s)` : this.consumersState;
    return { ready: Object.values(checks).every((v) => v === 'ok'), checks };
  }
}
