import { telemetry } from './instrumentation';
import { AGENT_TYPES, deadLetterTopic, EVENT_SCHEMAS, isAgentType, taskDispatchTopic, TOPICS, type AgentType } from '@flotilla/contracts';
import { KafkaEventsTransport } from '@flotilla/messaging';
import { Histogram } from '@flotilla/observability';
import { loadConfig, Platform, PlatformModule, platformConfigSchema, runService } from '@flotilla/service-kit';
import { Inject, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { z } from 'zod';
import * as os from 'node:os';
import * as path from 'node:path';
import { PoolsController } from './http/pools.controller';
import { AGENT_POOL_SETTINGS, AGENT_POOLS, type AgentPoolSettings } from './agent-pool.constants';
import { AgentPools } from './application/agent-pools';
import { PoolCapacityHandlers } from './application/pool-capacity.handlers';
import { PoolMetricsReporter } from './application/pool-metrics.reporter';
import { RunningAttempts } from './application/running-attempts';
import { TaskControlHandlers } from './application/task-control.handlers';
import { TaskRunner } from './application/task-runner';
import { ConsumerLag } from './infrastructure/consumer-lag';
import { DispatchIntake } from './infrastructure/dispatch-intake';
import { loadExecutors } from './infrastructure/executors/executor-registry';

const POOL_METRICS_REPORTER = Symbol('POOL_METRICS_REPORTER');

const agentPoolConfigSchema = platformConfigSchema
  .extend({
    HTTP_PORT: platformConfigSchema.shape.HTTP_PORT.default(3002),
    AGENT_TYPES: z
      .string()
      .default(AGENT_TYPES.join(','))
      .transform((v) => v.split(',').map((t) => t.trim()).filter(Boolean))
      .refine((types) => types.every(isAgentType), { message: `must list known agent types (${AGENT_TYPES.join(', ')})` }),
    /** Task slots of each pool on this instance at start (its bulkhead). */
    POOL_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(8),
    /** Local provisioning model: a worker is this many slots; workers = ceil(concurrency / slots per worker). */
    POOL_SLOTS_PER_WORKER: z.coerce.number().int().min(1).max(1_000).default(1),
    /** Bounds a capacity command must respect. */
    POOL_MIN_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(1),
    POOL_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(256),
    /** Dispatches taken from Kafka that may wait for a slot, per slot; beyond that the pool's topic is paused. */
    POOL_QUEUE_PER_SLOT: z.coerce.number().int().min(0).max(100).default(1),
    POOL_METRICS_INTERVAL_MS: z.coerce.number().int().min(100).default(5_000),
    /** On shutdown, how long running attempts may take to finish before their dispatches are left to redelivery. */
    SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).default(10_000),
    TASK_TIMEOUT_MS: z.coerce.number().int().min(1).default(300_000),
    EXECUTORS_FILE: z.string().default(path.resolve(__dirname, '../config/executors.json')),
    HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(50).default(5_000),
    SYNTHETIC_MIN_DURATION_MS: z.coerce.number().min(0).default(20),
    SYNTHETIC_MAX_DURATION_MS: z.coerce.number().min(0).default(100),
    SYNTHETIC_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
  })
  .refine((c) => c.POOL_MIN_CONCURRENCY <= c.POOL_CONCURRENCY && c.POOL_CONCURRENCY <= c.POOL_MAX_CONCURRENCY, {
    message: 'POOL_CONCURRENCY must lie within POOL_MIN_CONCURRENCY..POOL_MAX_CONCURRENCY',
    path: ['POOL_CONCURRENCY'],
  });

void runService(telemetry, () => {
  const config = loadConfig(agentPoolConfigSchema);
  const platform = new Platform({ serviceName: 'agent-pool', config, eventSchemas: EVENT_SCHEMAS, telemetry });
  const instanceId = `${os.hostname()}-${process.pid}`;
  const executorFor = loadExecutors(config.EXECUTORS_FILE, {
    minDurationMs: config.SYNTHETIC_MIN_DURATION_MS,
    maxDurationMs: Math.max(config.SYNTHETIC_MIN_DURATION_MS, config.SYNTHETIC_MAX_DURATION_MS),
    failureRate: config.SYNTHETIC_FAILURE_RATE,
    heartbeatEveryMs: Math.max(50, Math.floor(config.HEARTBEAT_INTERVAL_MS / 2)),
  });
  const settings: AgentPoolSettings = {
    instanceId,
    capacityBounds: { slotsPerWorker: config.POOL_SLOTS_PER_WORKER, minConcurrency: config.POOL_MIN_CONCURRENCY, maxConcurrency: config.POOL_MAX_CONCURRENCY },
    taskTimeoutMs: config.TASK_TIMEOUT_MS,
    heartbeatIntervalMs: config.HEARTBEAT_INTERVAL_MS,
    executorFor,
  };
  const agentTypes = config.AGENT_TYPES.filter(isAgentType);
  const dispatchTopic = (agentType: string) => platform.topic(taskDispatchTopic(agentType as AgentType).name);
  const workers = Math.ceil(config.POOL_CONCURRENCY / config.POOL_SLOTS_PER_WORKER);

  const pools = new AgentPools({
    capacity: Object.fromEntries(agentTypes.map((t) => [t, { workers, concurrency: config.POOL_CONCURRENCY }])),
    queuePerSlot: config.POOL_QUEUE_PER_SLOT,
    runner: new TaskRunner(platform, settings, instanceId),
    running: new RunningAttempts(),
    taskDurations: new Histogram({
      name: 'agent_task_duration_seconds',
      help: 'Wall time of task attempts by agent type and outcome',
      labelNames: ['agent_type', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [platform.metrics],
    }),
    logger: platform.logger,
  });

  // Dispatches are taken off Kafka and handed to the pools without waiting for them to run.
  const tasksGroup = platform.groupId('tasks');
  const intake = new DispatchIntake({
    kafka: platform.kafka,
    serde: platform.serde,
    publisher: platform.publisher,
    logger: platform.logger,
    groupId: tasksGroup,
    deadLetterTopic: deadLetterTopic(tasksGroup),
    agentTypeByTopic: new Map(agentTypes.map((t) => [dispatchTopic(t), t])),
    sink: pools,
    drainTimeoutMs: config.SHUTDOWN_DRAIN_MS,
  });
  const lag = new ConsumerLag(platform.kafka, tasksGroup, intake);
  const reporter = new PoolMetricsReporter({
    pools,
    instanceId,
    intervalMs: config.POOL_METRICS_INTERVAL_MS,
    publisher: platform.publisher,
    topic: platform.topic(TOPICS.poolMetrics.name),
    dispatchTopic,
    notTaken: (topic) => lag.notTaken(topic),
    metrics: platform.metrics,
    logger: platform.logger,
  });

  // Every instance reads every cancellation and capacity command (a group of its own each), from
  // topics apart from the dispatches, so they never queue behind the tasks they are about.
  const broadcast = (name: string, topic: string) =>
    new KafkaEventsTransport((handler) =>
      platform.createConsumer({ name: `${name}.${os.hostname()}.${process.pid}`, topics: [platform.topic(topic)], handler, fromBeginning: false }),
    );

  class PoolMetricsLifecycle implements OnApplicationBootstrap, OnModuleDestroy {
    constructor(@Inject(POOL_METRICS_REPORTER) private readonly metricsReporter: PoolMetricsReporter) {}

    onApplicationBootstrap(): void {
      this.metricsReporter.start();
    }

    // Before the transports close and the platform stops: the last report still has a publisher.
    async onModuleDestroy(): Promise<void> {
      await this.metricsReporter.stop();
      await lag.close();
    }
  }

  @Module({
    imports: [PlatformModule.forPlatform(platform)],
    controllers: [TaskControlHandlers, PoolCapacityHandlers, PoolsController],
    providers: [
      { provide: AGENT_POOL_SETTINGS, useValue: settings },
      // Factories, not useValue: Nest would otherwise serialise the objects to compute the module's token.
      { provide: AGENT_POOLS, useFactory: () => pools },
      { provide: POOL_METRICS_REPORTER, useFactory: () => reporter },
      PoolMetricsLifecycle,
    ],
  })
  class AppModule {}

  return { platform, module: AppModule, transports: [intake, broadcast('control', TOPICS.taskControl.name), broadcast('pool-commands', TOPICS.poolCommands.name)] };
});
