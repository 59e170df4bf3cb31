import { taskDispatchTopic, TOPICS, type AgentType } from '@flotilla/contracts';
import { Histogram } from '@flotilla/observability';
import type { ServiceContext } from '@flotilla/service-kit';
import type { Provider } from '@nestjs/common';
import * as os from 'node:os';
import * as path from 'node:path';
import { AGENT_POOL_SETTINGS, AGENT_POOLS, DISPATCH_CONSUMER, ORPHAN_WATCH, POOL_METRICS_REPORTER, POOL_REPLICAS, PROVISIONING_LOOP, type AgentPoolSettings } from './agent-pool.constants';
import { embeddedAgentTypes, type AgentPoolConfig } from './agent-pool.config';
import { AgentPools } from './pools/agent-pools';
import { ConsumerLag, KafkaEventsTransport } from '@flotilla/messaging';
import { PoolMetricsReporter } from './pools/pool-metrics.reporter';
import { loadExecutors } from './task-attempts/infrastructure/executor-registry';
import { RunningAttempts } from './task-attempts/running-attempts';
import { TaskRunner } from './task-attempts/task-runner';
import { PostgresWorkerProcesses } from './replicas/infrastructure/worker-processes.store';
import { ProcessProvisioner } from './replicas/infrastructure/process-provisioner';
import { connectKubernetes, KubernetesProvisioner } from './replicas/infrastructure/kubernetes-provisioner';
import { PoolReplicasCommands } from './replicas/pool-replicas.commands';
import { ProvisioningLoop } from './replicas/provisioning-loop';
import { OrphanWatch } from './replicas/worker-lifecycle';

export const MIGRATIONS_DIR = path.resolve(__dirname, '../migrations');

/**
 * The consumer group of the dispatch topics: the embedded pools of the service share one; each
 * provisioned pool has its own, which its workers join (a group's members must read the same topics).
 */
export function dispatchGroup(config: AgentPoolConfig): string {
  return config.AGENT_POOL_ROLE === 'worker' ? `tasks.${config.AGENT_TYPES[0]}` : 'tasks';
}

/** The agent pool's composition root: executors, the pools and their bulkheads, the dispatch consumer, metrics reports. */
export function agentPoolProviders({ platform, config }: ServiceContext<AgentPoolConfig>): Provider[] {
  const worker = config.AGENT_POOL_ROLE === 'worker';
  // A worker is named by its provisioner (the id in the pool's record); the service by host and pid.
  const instanceId = worker ? config.WORKER_ID : `${os.hostname()}-${process.pid}`;
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
  const agentTypes = embeddedAgentTypes(config);
  const DISPATCH_GROUP = dispatchGroup(config);
  const workerRows = new PostgresWorkerProcesses(platform.pool, platform.store.schema);
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
    // A worker leaving on a scale-down records what it could not finish: its supervisor may not be there to see it exit.
    onDrained: worker ? (handedBack) => workerRows.recordDrained(config.WORKER_ID, handedBack, Date.now()) : undefined,
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

  // Provisioned pools: their replicas' record, and the loop that brings their workers to it.
  const replicas = new PoolReplicasCommands(platform, worker ? [] : config.PROVISIONED_AGENT_TYPES, {
    minReplicas: config.POOL_MIN_REPLICAS,
    maxReplicas: config.POOL_MAX_REPLICAS,
    slotsPerWorker: config.POOL_SLOTS_PER_WORKER,
    provisioner: config.POOL_PROVISIONER,
  });
  // POOL_PROVISIONER: OS processes started here, or the pods of a Deployment per pool (their environment is the Deployment's).
  const provisioner =
    config.POOL_PROVISIONER === 'kubernetes'
      ? new KubernetesProvisioner({ apis: connectKubernetes(), namespace: config.K8S_NAMESPACE, deploymentPrefix: config.K8S_DEPLOYMENT_PREFIX, rows: workerRows, logger: platform.logger })
      : new ProcessProvisioner({
          rows: workerRows,
          // A worker runs one pool with one worker's slots; the rest of its configuration is the service's.
          workerEnv: () => ({ POOL_CONCURRENCY: String(config.POOL_SLOTS_PER_WORKER), POOL_MIN_CONCURRENCY: '1', POOL_MAX_CONCURRENCY: String(Math.max(config.POOL_SLOTS_PER_WORKER, config.POOL_MAX_CONCURRENCY)), PROVISIONED_AGENT_TYPES: '', ...config.WORKER_ENV }),
          logger: platform.logger,
        });
  const loop = new ProvisioningLoop({
    commands: replicas,
    provisioner,
    plan: { startTimeoutMs: config.WORKER_START_TIMEOUT_MS, drainTimeoutMs: config.WORKER_DRAIN_TIMEOUT_MS, maxStartBackoffMs: config.WORKER_MAX_START_BACKOFF_MS },
    intervalMs: config.PROVISIONER_INTERVAL_MS,
    logger: platform.logger,
  });
  // The record is read (and started the first time) before the loop's first round.
  const provisioning = { start: () => void replicas.initialise(config.POOL_INITIAL_REPLICAS).then(() => loop.start(), (error) => platform.logger.error({ err: error }, 'provisioned pools could not be read')), stop: () => loop.stop() };

  // Factories, not useValue: Nest would otherwise walk these objects to compute the module's token.
  return [
    { provide: AGENT_POOL_SETTINGS, useFactory: () => settings },
    { provide: AGENT_POOLS, useFactory: () => pools },
    { provide: DISPATCH_CONSUMER, useFactory: () => dispatches },
    { provide: POOL_METRICS_REPORTER, useFactory: () => reports },
    { provide: POOL_REPLICAS, useFactory: () => replicas },
    { provide: PROVISIONING_LOOP, useFactory: () => provisioning },
    { provide: ORPHAN_WATCH, useFactory: () => new OrphanWatch(platform.logger) },
  ];
}
