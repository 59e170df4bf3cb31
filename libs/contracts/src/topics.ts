import { AGENT_TYPES, isAgentType, type AgentType } from './agent-types';
import type { EventPayloads, EventType } from './generated/schemas';

const DAY_MS = 24 * 60 * 60 * 1000;

/** Retention classes (docs/architecture.md): 7 days by default, 90 for audit, 30 for metrics. */
export const RETENTION_MS = { default: 7 * DAY_MS, audit: 90 * DAY_MS, metrics: 30 * DAY_MS } as const;

export interface TopicSpec {
  /** Logical name; the physical name is `${namespace}.${name}` when a namespace is set. */
  readonly name: string;
  readonly partitions: number;
  readonly retentionMs: number;
  readonly compacted: boolean;
  /**
   * The payload field that is the record key, so that one aggregate's events stay in order on one
   * partition; `keyWhenAbsent` is the key of an event that has no such field (or a null one).
   */
  readonly key: 'executionId' | 'agentType' | 'customerId' | 'requestId' | 'source' | 'budgetId' | 'repositoryId' | 'subscriptionId';
  readonly keyWhenAbsent?: string;
  /** The event types published to this topic; each event type is published to exactly one topic (family). */
  readonly carries: readonly EventType[];
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
    carries: ['flotilla.execution.ExecutionRequested'],
    description: 'ExecutionRequested, published by any producer',
  },
  executions: {
    name: 'flotilla.executions',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.default,
    compacted: false,
    key: 'executionId',
    carries: ['flotilla.execution.ExecutionAccepted', 'flotilla.execution.ExecutionQueued', 'flotilla.execution.ExecutionAdmitted', 'flotilla.execution.ExecutionCompleted', 'flotilla.execution.ExecutionFailed', 'flotilla.execution.ExecutionCancelled', 'flotilla.execution.ExecutionRejected', 'flotilla.execution.SlaViolated', 'flotilla.execution.TaskOutcomeRecorded', 'flotilla.execution.TaskRetryScheduled', 'flotilla.execution.TaskSkipped', 'flotilla.execution.TaskStartRecorded', 'flotilla.execution.TaskTimedOut'],
    description: 'Execution lifecycle events published by the orchestrator',
  },
  taskEvents: {
    name: 'flotilla.task-events',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.default,
    compacted: false,
    key: 'executionId',
    carries: ['flotilla.task.TaskStarted', 'flotilla.task.TaskHeartbeat', 'flotilla.task.TaskCompleted', 'flotilla.task.TaskFailed'],
    description: 'Task started/completed/failed, published by agent pools',
  },
  taskControl: {
    name: 'flotilla.task-control',
    partitions: 3,
    retentionMs: RETENTION_MS.default,
    compacted: false,
    key: 'executionId',
    carries: ['flotilla.task.TaskCancellationRequested'],
    description: 'TaskCancellationRequested: read by every agent-pool instance, apart from the dispatch topics so a cancel never waits behind the task it cancels',
  },
  admission: {
    name: 'flotilla.admission',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.audit,
    compacted: false,
    key: 'customerId',
    keyWhenAbsent: 'global',
    carries: ['flotilla.admission.CustomerOutcomeRecorded', 'flotilla.admission.CustomerCircuitOpened', 'flotilla.admission.CustomerCircuitHalfOpened', 'flotilla.admission.CustomerCircuitClosed', 'flotilla.admission.AdmissionCapacityChanged'],
    description: 'Per-customer admission events (outcomes counted by the circuit breaker, circuit transitions) and global capacity changes (key "global")',
  },
  admissionCommands: {
    name: 'flotilla.admission-commands',
    partitions: 1,
    retentionMs: RETENTION_MS.default,
    compacted: false,
    key: 'requestId',
    carries: ['flotilla.admission.AdmissionCapacityChangeRequested'],
    description: 'AdmissionCapacityChangeRequested: runtime changes to the global execution capacity, read by the orchestrator',
  },
  alerts: {
    name: 'flotilla.alerts',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.audit,
    compacted: false,
    key: 'customerId',
    keyWhenAbsent: 'platform',
    carries: ['flotilla.alert.AlertRaised'],
    description: 'AlertRaised from any service (SLA violations, circuit transitions, budgets), for notification and projection',
  },
  poolMetrics: {
    name: 'flotilla.pool-metrics',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.metrics,
    compacted: false,
    key: 'agentType',
    carries: ['flotilla.pool.PoolMetricsReported'],
    description: 'PoolMetricsReported every few seconds per pool instance and agent type, for the scaler and optimizer',
  },
  poolCommands: {
    name: 'flotilla.pool-commands',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.default,
    compacted: false,
    key: 'agentType',
    carries: ['flotilla.pool.PoolCapacityChangeRequested'],
    description: 'PoolCapacityChangeRequested: the slots of the embedded pools on each instance (every instance reads every command)',
  },
  replicaCommands: {
    name: 'flotilla.replica-commands',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.default,
    compacted: false,
    key: 'agentType',
    carries: ['flotilla.pool.PoolReplicasRequested'],
    description: 'PoolReplicasRequested: the workers (replicas) a provisioned pool should run, from the scale saga or an operator; read by one consumer group, so a request waits while the agent pool is down',
  },
  poolEvents: {
    name: 'flotilla.pool-events',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.audit,
    compacted: false,
    key: 'agentType',
    carries: ['flotilla.pool.PoolCapacityProvisioned', 'flotilla.pool.PoolReplicasChanged', 'flotilla.pool.PoolWorkerReady', 'flotilla.pool.PoolWorkerFailed', 'flotilla.pool.PoolWorkerDrained', 'flotilla.pool.PoolReplicasReached'],
    description: 'What a pool did: its replicas accepted or rejected, each worker ready, failed or drained, the requested replicas reached; PoolCapacityProvisioned for slot changes',
  },
  costs: {
    name: 'flotilla.costs',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.audit,
    compacted: false,
    key: 'executionId',
    carries: ['flotilla.cost.CostRecorded', 'flotilla.cost.ExecutionCostFinalized'],
    description: "CostRecorded: each task attempt's cost, once, from the optimizer's ledger; ExecutionCostFinalized: an execution's total once it ended and all its attempts were costed",
  },
  budgets: {
    name: 'flotilla.budgets',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.audit,
    compacted: false,
    key: 'budgetId',
    carries: ['flotilla.budget.BudgetDefined', 'flotilla.budget.BudgetThresholdCrossed', 'flotilla.budget.BudgetReserved', 'flotilla.budget.BudgetReservationDenied', 'flotilla.budget.BudgetReservationCommitted', 'flotilla.budget.BudgetReservationReleased'],
    description: "Budgets set, thresholds crossed, and the answers to reservation commands, from the optimizer",
  },
  reviewRequests: {
    name: 'flotilla.review-requests',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.default,
    compacted: false,
    key: 'repositoryId',
    carries: ['flotilla.review.ReviewRequested'],
    description: 'ReviewRequested, published by any producer and by the notification service for verified inbound webhooks',
  },
  notifications: {
    name: 'flotilla.notifications',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.audit,
    compacted: false,
    key: 'subscriptionId',
    carries: [
      'flotilla.notification.SubscriptionCreated',
      'flotilla.notification.SubscriptionUpdated',
      'flotilla.notification.SubscriptionDeleted',
      'flotilla.notification.SubscriptionSecretRotated',
      'flotilla.notification.SubscriptionHealthChanged',
      'flotilla.notification.WebhookDeliveryScheduled',
      'flotilla.notification.WebhookAttemptRecorded',
      'flotilla.notification.WebhookDeliveryDeadLettered',
      'flotilla.notification.WebhookDeliveryReplayed',
    ],
    description: "Webhook subscriptions and their endpoints' health, and each delivery's schedule, attempts, dead letter and replay, from the notification service",
  },
  prices: {
    name: 'flotilla.prices',
    partitions: 1,
    retentionMs: RETENTION_MS.audit,
    // Compacted under one key: the topic always holds the sheet in force, however long ago it was published.
    compacted: true,
    key: 'source',
    keyWhenAbsent: 'price-sheet',
    carries: ['flotilla.cost.PriceSheetPublished'],
    description: "The optimizer's price sheet, each time it changes: what a worker-hour, a core-hour, a GB-hour and a task cost per agent type",
  },
  recommendations: {
    name: 'flotilla.recommendations',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.audit,
    compacted: false,
    key: 'agentType',
    carries: ['flotilla.optimizer.RecommendationIssued', 'flotilla.optimizer.RecommendationDismissed'],
    description: "The optimizer's recommendations (right-sizing, over-provisioned and idle pools) and their dismissals",
  },
  budgetCommands: {
    name: 'flotilla.budget-commands',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.default,
    compacted: false,
    key: 'budgetId',
    carries: ['flotilla.budget.BudgetReservationRequested', 'flotilla.budget.BudgetReservationCommitRequested', 'flotilla.budget.BudgetReservationReleaseRequested'],
    description: 'The budget guard protocol: reserve, commit and release requests (from the scale saga), keyed by budget so that each budget takes them in order',
  },
  scaling: {
    name: 'flotilla.scaling',
    partitions: PARTITIONS,
    retentionMs: RETENTION_MS.audit,
    compacted: false,
    key: 'agentType',
    carries: ['flotilla.scaling.ScalingPolicyDefined', 'flotilla.scaling.ScalingPolicyRemoved', 'flotilla.scaling.ScalingOverrideSet', 'flotilla.scaling.ScalingOverrideCleared', 'flotilla.scaling.ScalingPaused', 'flotilla.scaling.ScalingResumed', 'flotilla.scaling.ScalingDecisionRecorded', 'flotilla.scaling.ScaleSagaRequested', 'flotilla.scaling.ScaleDecisionCoalesced', 'flotilla.scaling.ScaleDecisionSkipped', 'flotilla.scaling.ScaleSagaEnded', 'flotilla.scaling.ScaleSagaStarted', 'flotilla.scaling.ScaleBudgetReserved', 'flotilla.scaling.ScaleBudgetWaived', 'flotilla.scaling.ScaleActionDenied', 'flotilla.scaling.ScaleReplicasAccepted', 'flotilla.scaling.ScaleWorkerReady', 'flotilla.scaling.ScaleReplicasReached', 'flotilla.scaling.ScaleSagaCompleted', 'flotilla.scaling.ScaleSagaCompensationStarted', 'flotilla.scaling.ScaleCompensationStepRetried', 'flotilla.scaling.ScaleCompensationStepCompleted', 'flotilla.scaling.ScaleSagaCompensated'],
    description: "The scaler's audit trail, per pool: policies defined and removed, overrides and pauses, each recorded decision with why, the decisions' coalescing into one scale saga at a time, and each saga's steps, compensations and end",
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
    carries: ['flotilla.task.TaskDispatched'],
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
    carries: [],
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

/** An event type no topic carries, or an event whose topic cannot be chosen from its payload: a bug. */
export class UnroutableEventError extends TypeError {
  constructor(readonly eventType: string, reason: string) {
    super(`cannot route ${eventType}: ${reason}`);
    this.name = 'UnroutableEventError';
  }
}

/** Where one event goes: its (logical) topic and its record key. */
export interface Route {
  readonly topic: TopicSpec;
  readonly key: string;
}

const TOPIC_OF_TYPE: ReadonlyMap<EventType, TopicSpec> = new Map(Object.values(TOPICS as Record<string, TopicSpec>).flatMap((topic) => topic.carries.map((type) => [type, topic] as const)));

/**
 * The one router: the topic that carries `type` (for a dispatch, its agent type's topic) and the key
 * the topic declares, read from the payload. Throws UnroutableEventError for a type no topic carries.
 */
export function routeEvent<T extends EventType>(type: T, data: EventPayloads[T]): Route {
  const fields = data as unknown as Record<string, unknown>;
  let topic = TOPIC_OF_TYPE.get(type);
  if (!topic && type === 'flotilla.task.TaskDispatched') {
    const agentType = fields.agentType;
    if (typeof agentType !== 'string' || !isAgentType(agentType)) throw new UnroutableEventError(type, `unknown agent type ${String(agentType)}`);
    topic = taskDispatchTopic(agentType);
  }
  if (!topic) throw new UnroutableEventError(type, 'no topic of the catalogue carries it');
  const key = fields[topic.key];
  if (typeof key === 'string' && key !== '') return { topic, key };
  if (topic.keyWhenAbsent !== undefined) return { topic, key: topic.keyWhenAbsent };
  throw new UnroutableEventError(type, `its payload has no ${topic.key} to key ${topic.name} by`);
}
