import { AGENT_TYPES, AgentType } from './agent-types';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Retention classes from DESIGN.md: 7 days by default, 90 for audit, 30 for metrics. */
export const RETENTION_MS = { default: 7 * DAY_MS, audit: 90 * DAY_MS, metrics: 30 * DAY_MS } as const;

export interface TopicSpec {
  /** Logical name; the physical name is `${namespace}.${name}` when a namespace is set. */
  readonly name: string;
  readonly partitions: number;
  readonly retentionMs: number;
  readonly compacted: boolean;
  /** What the record key is, so that one aggregate's events stay in order on one partition. */
  readonly key: 'executionId' | 'agentType' | 'customerId' | 'source';
  readonly description: string;
}

const PARTITIONS = 6;

export const TOPICS = {
  executionRequests: {
    name: 'flotilla.execution-requests',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.default,
    compacted: false,
    key: 'executionId',
    description: 'ExecutionRequested, published by any producer',
  },
  executions: {
    name: 'flotilla.executions',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.default,
    compacted: false,
    key: 'executionId',
    description: 'Execution lifecycle events published by the orchestrator',
  },
  taskEvents: {
    name: 'flotilla.task-events',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.default,
    compacted: false,
    key: 'executionId',
    description: 'Task started/completed/failed, published by agent pools',
  },
  taskControl: {
    name: 'flotilla.task-control',
    partitions: 3,
    retentionMs: RETENTION_MS.default,
    compacted: false,
    key: 'executionId',
    description: 'TaskCancellationRequested: read by every agent-pool instance, apart from the dispatch topics so a cancel never waits behind the task it cancels',
  },
  admission: {
    name: 'flotilla.admission',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.audit,
    compacted: false,
    key: 'customerId',
    description: 'Per-customer admission events (outcomes counted by the circuit breaker, circuit transitions) and global capacity changes (key "global")',
  },
  admissionCommands: {
    name: 'flotilla.admission-commands',
    partitions: 1,
    retentionMs: RETENTION_MS.default,
    compacted: false,
    key: 'source',
    description: 'AdmissionCapacityChangeRequested: runtime changes to the global execution capacity, read by the orchestrator',
  },
  alerts: {
    name: 'flotilla.alerts',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.audit,
    compacted: false,
    key: 'customerId',
    description: 'AlertRaised from any service (SLA violations, circuit transitions, budgets), for notification and projection',
  },
  poolMetrics: {
    name: 'flotilla.pool-metrics',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.metrics,
    compacted: false,
    key: 'agentType',
    description: 'PoolMetricsReported every few seconds per pool instance and agent type, for the scaler and optimizer',
  },
  poolCommands: {
    name: 'flotilla.pool-commands',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.default,
    compacted: false,
    key: 'agentType',
    description: 'PoolCapacityChangeRequested: workers / concurrency per pool, from the scaler saga or an operator',
  },
  poolEvents: {
    name: 'flotilla.pool-events',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.audit,
    compacted: false,
    key: 'agentType',
    description: 'PoolCapacityProvisioned: what a pool provisioned in answer to a capacity command',
  },
} as const satisfies Record<string, TopicSpec>;

/** Task dispatches go to one topic per agent type, so a pool's backlog is that topic's consumer lag. */
export function taskDispatchTopic(agentType: AgentType): TopicSpec {
  return {
    name: `flotilla.tasks.${agentType}`,
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.default,
    compacted: false,
    key: 'executionId',
    description: `TaskDispatched for the ${agentType} pool`,
  };
}

/** Where a consumer group's undeliverable messages go, with the cause in the headers. Kept as long as audit records. */
export function deadLetterTopic(consumerGroup: string): TopicSpec {
  return {
    name: `${consumerGroup}.dlq`,
    partitions: 1,
    retentionMs: RETENTION_MS.audit,
    compacted: false,
    key: 'source',
    description: `Dead letters of consumer group ${consumerGroup}`,
  };
}

/** Every topic the platform declares; applied idempotently at start-up by each service. */
export function topicCatalogue(): readonly TopicSpec[] {
  return [...Object.values(TOPICS), ...AGENT_TYPES.map(taskDispatchTopic)];
}

/** Physical topic name under an optional namespace (tests and parallel environments use one each). */
export function physicalTopic(namespace: string | undefined, logicalName: string): string {
  return namespace ? `${namespace}.${logicalName}` : logicalName;
}
