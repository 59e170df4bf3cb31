import { isAgentType, taskDispatchTopic, TOPICS, type AgentType } from '@flotilla/contracts';
import { Histogram } from '@flotilla/observability';
import type { ServiceContext } from '@flotilla/service-kit';
import type { Provider } from '@nestjs/common';
import * as os from 'node:os';
import { AGENT_POOL_SETTINGS, AGENT_POOLS, DISPATCH_CONSUMER, POOL_METRICS_REPORTER, type AgentPoolSettings } from './agent-pool.constants';
import type { AgentPoolConfig } from './agent-pool.config';
import { AgentPools } from './pools/agent-pools';
import { ConsumerLag, KafkaEventsTransport } from '@flotilla/messaging';
import { PoolMetricsReporter } from './pools/pool-metrics.reporter';
import { loadExecutors } from './task-attempts/infrastructure/executor-registry';
import { RunningAttempts } from './task-attempts/running-attempts';
import { TaskRunner } from './task-attempts/task-runner';

/** The consumer group of the dispatch topics. */
const DISPATCH_GROUP = 'tasks';

/** The agent pool's composition root: executors, the pools and their bulkheads, the dispatch consumer, metrics reports. */
export function agentPoolProviders({ platform, config }: ServiceContext<AgentPoolConfig>): Provider[] {
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
    dispatchTopic,
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

  // Dispatches are taken off Kafka and handed to the pools without waiting for them to run: the
  // platform's consumer in hand-off mode, a full pool's topic paused until it has room.
  const dispatches = new KafkaEventsTransport(() =>
    platform.createConsumer({ name: DISPATCH_GROUP, topics: pools.dispatchTopics, mode: { kind: 'hand-off', sink: pools, drainTimeoutMs: config.SHUTDOWN_DRAIN_MS } }),
  );
  const lag = new ConsumerLag(platform.kafka, platform.groupId(DISPATCH_GROUP), dispatches);
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
  // Reports start with the app and stop before the transports close: the last report still has a publisher.
  const reports = { start: () => reporter.start(), stop: async () => (await reporter.stop(), await lag.close()) };

  // Factories, not useValue: Nest would otherwise walk these objects to compute the module's token.
  return [
    { provide: AGENT_POOL_SETTINGS, useFactory: () => settings },
    { provide: AGENT_POOLS, useFactory: () => pools },
    { provide: DISPATCH_CONSUMER, useFactory: () => dispatches },
    { provide: POOL_METRICS_REPORTER, useFactory: () => reports },
  ];
}
