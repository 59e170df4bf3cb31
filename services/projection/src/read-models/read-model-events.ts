import type {
  AlertRaised,
  BudgetDefined,
  BudgetThresholdCrossed,
  CostRecorded,
  EventPayloads,
  EventType,
  ExecutionCostFinalized,
  ExecutionQueued,
  PoolMetricsReported,
  RecommendationDismissed,
  RecommendationIssued,
  ScalingDecisionRecorded,
  ScalingOverrideCleared,
  ScalingOverrideSet,
  ScalingPaused,
  ScalingPolicyDefined,
  ScalingPolicyRemoved,
  ScalingResumed,
  SlaViolated,
} from '@flotilla/contracts';
import type { Transaction } from '@flotilla/event-store';
import type { ConsumedEvent, EventEnvelope } from '@flotilla/messaging';
import type { ExecutionViewStatus, TaskView } from './domain/execution-view';
import type { NotificationEvent } from '../notifications/domain/notification-events';
import type { SagaEvent } from '../scaling/domain/saga-view';
import type { DecisionOutcome, ReplicaEventKind } from '../scaling/domain/scaling-views';

/** Writes to the executions read model; every write is an upsert, so events may arrive in any order across topics. */
/** What one event says about an execution; absent fields are left as they are. */
export interface ExecutionChange {
  readonly executionId: string;
  readonly customerId?: string | null;
  readonly kind?: string | null;
  readonly status: ExecutionViewStatus;
  readonly reasons?: readonly string[];
  readonly tasks?: Record<string, Partial<TaskView>>;
  readonly acceptedAt?: number | null;
  readonly finishedAt?: number | null;
  readonly durationMs?: number | null;
  readonly eventAt: number;
}

export interface ExecutionsWriter {
  upsertExecution(tx: Transaction, change: ExecutionChange): Promise<void>;
  updateTask(tx: Transaction, executionId: string, taskId: string, fields: Partial<TaskView>, eventAt: number): Promise<void>;
  markAdmitted(tx: Transaction, executionId: string, admittedAt: number): Promise<void>;
  /** Adds one attempt's cost (applied once per event, like every change). */
  addCost(tx: Transaction, executionId: string, customerId: string | null, micros: number, currency: string, eventAt: number): Promise<void>;
}

/** Writes to the other read models: queue, SLA violations, alerts, circuits, capacity. */
export interface ReadSideWriter {
  queued(tx: Transaction, e: ExecutionQueued): Promise<void>;
  slaViolated(tx: Transaction, e: SlaViolated): Promise<void>;
  alert(tx: Transaction, a: AlertRaised): Promise<void>;
  circuit(tx: Transaction, customerId: string, status: 'open' | 'half_open' | 'closed', at: number): Promise<void>;
  capacity(tx: Transaction, capacity: number, at: number): Promise<void>;
}

/** A reservation's state as its budget's events say it; a settled one stays settled. */
export interface ReservationChange {
  readonly reservationId: string;
  readonly budgetId: string;
  readonly amountMicros: number;
  readonly status: 'reserved' | 'committed' | 'released' | 'expired';
  /** The period it counts in; unknown ('' kept as it was) for a release. */
  readonly periodKey?: string;
  readonly at: number;
}

/** Writes to the cost read models: attempts' costs, executions' final costs, budgets, recommendations. */
export interface CostsWriter {
  attemptCost(tx: Transaction, e: CostRecorded): Promise<void>;
  executionCostFinalized(tx: Transaction, e: ExecutionCostFinalized): Promise<void>;
  budgetDefined(tx: Transaction, e: BudgetDefined): Promise<void>;
  reservation(tx: Transaction, change: ReservationChange): Promise<void>;
  thresholdCrossed(tx: Transaction, e: BudgetThresholdCrossed): Promise<void>;
  recommendationIssued(tx: Transaction, e: RecommendationIssued): Promise<void>;
  recommendationDismissed(tx: Transaction, e: RecommendationDismissed): Promise<void>;
}

/** What became of a decision, from the pool's sagas' coalescing events. */
export interface DecisionOutcomeChange {
  readonly decisionId: string;
  readonly outcome: DecisionOutcome;
  readonly sagaId?: string;
  readonly waitingBehind?: string;
}

/** A pool event: the agent pool's desired and ready replicas after it. */
export interface ReplicaChange {
  readonly eventId: string;
  readonly agentType: string;
  readonly at: number;
  readonly event: ReplicaEventKind;
  readonly desiredReplicas: number;
  readonly readyReplicas: number;
  readonly workerId: string | null;
  readonly requestId: string | null;
  readonly detail: string | null;
  readonly provisioner?: string;
  readonly slotsPerWorker?: number;
}

/** Writes to the scaling read models: pools, decisions and their forecasts, sagas, replicas, the metrics rollup. */
export interface ScalingWriter {
  policyDefined(tx: Transaction, e: ScalingPolicyDefined): Promise<void>;
  policyRemoved(tx: Transaction, e: ScalingPolicyRemoved): Promise<void>;
  overrideSet(tx: Transaction, e: ScalingOverrideSet): Promise<void>;
  overrideCleared(tx: Transaction, e: ScalingOverrideCleared): Promise<void>;
  paused(tx: Transaction, e: ScalingPaused): Promise<void>;
  resumed(tx: Transaction, e: ScalingResumed): Promise<void>;
  decisionRecorded(tx: Transaction, e: ScalingDecisionRecorded): Promise<void>;
  decisionOutcome(tx: Transaction, change: DecisionOutcomeChange): Promise<void>;
  saga(tx: Transaction, event: SagaEvent): Promise<void>;
  replicas(tx: Transaction, change: ReplicaChange): Promise<void>;
  /** Adds the report to its reporter's minute; applies once by itself (see APPLIED_WITHOUT_INBOX). */
  metricsReported(tx: Transaction, e: PoolMetricsReported): Promise<void>;
}

/** Writes to the notification read models: subscriptions, deliveries and their attempts, each event folded into its rows. */
export interface NotificationsWriter {
  event(tx: Transaction, event: NotificationEvent): Promise<void>;
}

/** The writers of one generation of the read models (the live tables, or a rebuild's). */
export interface GenerationTables {
  readonly schema: string;
  readonly executions: ExecutionsWriter;
  readonly readSide: ReadSideWriter;
  readonly costs: CostsWriter;
  readonly scaling: ScalingWriter;
  readonly notifications: NotificationsWriter;
}

/**
 * Event types whose change applies once by itself, for which the projection keeps no inbox row: a
 * pool's metrics reports, several a second across a fleet (published directly, never republished by
 * an outbox). Their rollup takes a report only when its window ends after the last one applied for
 * its reporter, so a report seen twice counts once, and the inbox does not grow by every report.
 */
export const APPLIED_WITHOUT_INBOX: ReadonlySet<string> = new Set<EventType>(['flotilla.pool.PoolMetricsReported']);

export type ReadModelChangeOf = (tx: Transaction, tables: GenerationTables) => Promise<void>;

/**
 * Applies consumed events to one generation of the read models, exactly once each (checkpoint and
 * inbox in the change's transaction); resolves true when the event changed something.
 */
export interface ReadModelProjector {
  apply(event: ConsumedEvent, options?: { readonly advanceUnhandled?: boolean }): Promise<boolean>;
}

type Projections = { readonly [T in EventType]?: (e: EventPayloads[T], envelope: EventEnvelope<EventPayloads[T]>) => ReadModelChangeOf };

const iso = (ms: number) => new Date(ms).toISOString();

/** A scale saga's event: folded into its saga's row (scaling/domain/saga-view.ts). */
function sagaEvent<T extends SagaEvent['type']>(type: T): (e: EventPayloads[T]) => ReadModelChangeOf {
  return (e) => (c, t) => t.scaling.saga(c, { type, data: e } as SagaEvent);
}

/** A notification event: folded into its subscription's row and, for a delivery's, the delivery's (notifications/domain). */
function notificationEvent<T extends NotificationEvent['type']>(type: T): (e: EventPayloads[T]) => ReadModelChangeOf {
  return (e) => (c, t) => t.notifications.event(c, { type, data: e } as NotificationEvent);
}

/**
 * What each event does to the read models, as data: the live consumer and a rebuild apply the very
 * same changes, each to its own generation of tables. Every change is an upsert that tolerates
 * events of one execution arriving from several topics in any order.
 */
export const READ_MODEL_EVENTS: Projections = {
  'flotilla.execution.ExecutionAccepted': (e) => {
    const tasks = Object.fromEntries(e.tasks.map((t) => [t.taskId, { taskId: t.taskId, agentType: t.agentType, status: 'pending' as const, attempt: 0 }]));
    return (c, t) =>
      t.executions.upsertExecution(c, { executionId: e.executionId, customerId: e.customerId, kind: e.kind, status: 'queued', tasks, acceptedAt: e.acceptedAt, eventAt: e.acceptedAt });
  },
  'flotilla.execution.ExecutionQueued': (e) => (c, t) => t.readSide.queued(c, e),
  'flotilla.execution.ExecutionAdmitted': (e) => async (c, t) => {
    await t.executions.upsertExecution(c, { executionId: e.executionId, customerId: e.customerId, status: 'running', eventAt: e.admittedAt });
    await t.executions.markAdmitted(c, e.executionId, e.admittedAt);
  },
  'flotilla.execution.ExecutionRejected': (e) => (c, t) =>
    t.executions.upsertExecution(c, { executionId: e.executionId, customerId: e.customerId, status: 'rejected', reasons: e.reasons, finishedAt: e.rejectedAt, eventAt: e.rejectedAt }),
  'flotilla.execution.ExecutionCompleted': (e) => (c, t) =>
    t.executions.upsertExecution(c, { executionId: e.executionId, customerId: e.customerId, status: 'completed', finishedAt: e.completedAt, durationMs: e.durationMs, eventAt: e.completedAt }),
  'flotilla.execution.ExecutionFailed': (e) => (c, t) =>
    t.executions.upsertExecution(c, { executionId: e.executionId, customerId: e.customerId, status: 'failed', reasons: [e.reason], finishedAt: e.failedAt, eventAt: e.failedAt }),
  'flotilla.execution.ExecutionCancelled': (e) => (c, t) =>
    t.executions.upsertExecution(c, { executionId: e.executionId, customerId: e.customerId, status: 'cancelled', reasons: [e.reason], finishedAt: e.cancelledAt, eventAt: e.cancelledAt }),
  'flotilla.execution.TaskRetryScheduled': (e, envelope) => (c, t) =>
    t.executions.updateTask(c, e.executionId, e.taskId, { status: 'retrying', attempt: e.failedAttempt, reason: `${e.errorKind}: ${e.reason}`, nextAttemptAt: iso(e.retryAt) }, envelope.occurredAt),
  'flotilla.execution.TaskTimedOut': (e) => (c, t) =>
    t.executions.updateTask(c, e.executionId, e.taskId, { reason: `${e.timeout.replace(/_/g, '-')} timeout of attempt ${e.attempt}` }, e.timedOutAt),
  'flotilla.execution.TaskSkipped': (e) => (c, t) => t.executions.updateTask(c, e.executionId, e.taskId, { status: 'skipped', reason: e.reason }, e.skippedAt),
  'flotilla.execution.SlaViolated': (e) => (c, t) => t.readSide.slaViolated(c, e),
  'flotilla.task.TaskStarted': (e) => (c, t) =>
    t.executions.updateTask(c, e.executionId, e.taskId, { agentType: e.agentType, status: 'running', attempt: e.attempt, workerId: e.workerId, startedAt: iso(e.startedAt) }, e.startedAt),
  'flotilla.task.TaskCompleted': (e) => (c, t) =>
    t.executions.updateTask(c, e.executionId, e.taskId, { status: 'completed', attempt: e.attempt, finishedAt: iso(e.completedAt), usage: e.usage, reason: null }, e.completedAt),
  'flotilla.task.TaskFailed': (e) => (c, t) =>
    t.executions.updateTask(c, e.executionId, e.taskId, { status: 'failed', attempt: e.attempt, finishedAt: iso(e.failedAt), usage: e.usage, reason: `${e.errorKind}: ${e.reason}` }, e.failedAt),
  'flotilla.cost.CostRecorded': (e) => async (c, t) => {
    await t.executions.addCost(c, e.executionId, e.customerId || null, e.breakdown.totalMicros, e.currency, e.endedAt);
    await t.costs.attemptCost(c, e);
  },
  'flotilla.cost.ExecutionCostFinalized': (e) => (c, t) => t.costs.executionCostFinalized(c, e),
  'flotilla.budget.BudgetDefined': (e) => (c, t) => t.costs.budgetDefined(c, e),
  'flotilla.budget.BudgetThresholdCrossed': (e) => (c, t) => t.costs.thresholdCrossed(c, e),
  'flotilla.budget.BudgetReserved': (e) => (c, t) =>
    t.costs.reservation(c, { reservationId: e.reservationId, budgetId: e.budgetId, amountMicros: e.amountMicros, status: 'reserved', periodKey: e.periodKey, at: e.reservedAt }),
  'flotilla.budget.BudgetReservationCommitted': (e) => (c, t) =>
    t.costs.reservation(c, { reservationId: e.reservationId, budgetId: e.budgetId, amountMicros: e.amountMicros, status: 'committed', periodKey: e.periodKey, at: e.committedAt }),
  'flotilla.budget.BudgetReservationReleased': (e) => (c, t) =>
    t.costs.reservation(c, { reservationId: e.reservationId, budgetId: e.budgetId, amountMicros: e.amountMicros, status: e.reason === 'expired' ? 'expired' : 'released', at: e.releasedAt }),
  'flotilla.optimizer.RecommendationIssued': (e) => (c, t) => t.costs.recommendationIssued(c, e),
  'flotilla.optimizer.RecommendationDismissed': (e) => (c, t) => t.costs.recommendationDismissed(c, e),
  'flotilla.scaling.ScalingPolicyDefined': (e) => (c, t) => t.scaling.policyDefined(c, e),
  'flotilla.scaling.ScalingPolicyRemoved': (e) => (c, t) => t.scaling.policyRemoved(c, e),
  'flotilla.scaling.ScalingOverrideSet': (e) => (c, t) => t.scaling.overrideSet(c, e),
  'flotilla.scaling.ScalingOverrideCleared': (e) => (c, t) => t.scaling.overrideCleared(c, e),
  'flotilla.scaling.ScalingPaused': (e) => (c, t) => t.scaling.paused(c, e),
  'flotilla.scaling.ScalingResumed': (e) => (c, t) => t.scaling.resumed(c, e),
  'flotilla.scaling.ScalingDecisionRecorded': (e) => (c, t) => t.scaling.decisionRecorded(c, e),
  'flotilla.scaling.ScaleSagaRequested': (e) => async (c, t) => {
    await t.scaling.saga(c, { type: 'flotilla.scaling.ScaleSagaRequested', data: e });
    await t.scaling.decisionOutcome(c, { decisionId: e.decisionId, outcome: 'saga', sagaId: e.sagaId });
  },
  'flotilla.scaling.ScaleDecisionCoalesced': (e) => async (c, t) => {
    if (e.replacedDecisionId !== null) await t.scaling.decisionOutcome(c, { decisionId: e.replacedDecisionId, outcome: 'replaced' });
    await t.scaling.decisionOutcome(c, { decisionId: e.decisionId, outcome: 'waiting', waitingBehind: e.runningSagaId });
  },
  'flotilla.scaling.ScaleDecisionSkipped': (e) => (c, t) => t.scaling.decisionOutcome(c, { decisionId: e.decisionId, outcome: 'skipped' }),
  'flotilla.scaling.ScaleSagaStarted': sagaEvent('flotilla.scaling.ScaleSagaStarted'),
  'flotilla.scaling.ScaleBudgetReserved': sagaEvent('flotilla.scaling.ScaleBudgetReserved'),
  'flotilla.scaling.ScaleBudgetWaived': sagaEvent('flotilla.scaling.ScaleBudgetWaived'),
  'flotilla.scaling.ScaleActionDenied': sagaEvent('flotilla.scaling.ScaleActionDenied'),
  'flotilla.scaling.ScaleReplicasAccepted': sagaEvent('flotilla.scaling.ScaleReplicasAccepted'),
  'flotilla.scaling.ScaleWorkerReady': sagaEvent('flotilla.scaling.ScaleWorkerReady'),
  'flotilla.scaling.ScaleReplicasReached': sagaEvent('flotilla.scaling.ScaleReplicasReached'),
  'flotilla.scaling.ScaleSagaCompleted': sagaEvent('flotilla.scaling.ScaleSagaCompleted'),
  'flotilla.scaling.ScaleSagaCompensationStarted': sagaEvent('flotilla.scaling.ScaleSagaCompensationStarted'),
  'flotilla.scaling.ScaleCompensationStepRetried': sagaEvent('flotilla.scaling.ScaleCompensationStepRetried'),
  'flotilla.scaling.ScaleCompensationStepCompleted': sagaEvent('flotilla.scaling.ScaleCompensationStepCompleted'),
  'flotilla.scaling.ScaleSagaCompensated': sagaEvent('flotilla.scaling.ScaleSagaCompensated'),
  'flotilla.scaling.ScaleSagaEnded': sagaEvent('flotilla.scaling.ScaleSagaEnded'),
  // The provisioned pools' replicas. PoolCapacityProvisioned (an embedded pool's slots on one instance) is not a replica count and is left out.
  'flotilla.pool.PoolReplicasChanged': (e, env) => (c, t) =>
    t.scaling.replicas(c, {
      eventId: env.eventId,
      agentType: e.agentType,
      at: e.changedAt,
      event: e.outcome === 'accepted' ? 'accepted' : 'rejected',
      desiredReplicas: e.replicas,
      readyReplicas: e.readyReplicas,
      workerId: null,
      requestId: e.requestId,
      detail: e.outcome === 'accepted' ? `${e.previousReplicas} → ${e.replicas} replicas` : `${e.replicas} replicas kept: ${e.reason ?? 'rejected'}`,
      provisioner: e.provisioner,
      slotsPerWorker: e.slotsPerWorker,
    }),
  'flotilla.pool.PoolWorkerReady': (e, env) => (c, t) =>
    t.scaling.replicas(c, { eventId: env.eventId, agentType: e.agentType, at: e.readyAt, event: 'worker_ready', desiredReplicas: e.replicas, readyReplicas: e.readyReplicas, workerId: e.workerId, requestId: e.requestId, detail: `ready in ${e.timeToReadyMs} ms` }),
  'flotilla.pool.PoolWorkerFailed': (e, env) => (c, t) =>
    t.scaling.replicas(c, { eventId: env.eventId, agentType: e.agentType, at: e.failedAt, event: 'worker_failed', desiredReplicas: e.replicas, readyReplicas: e.readyReplicas, workerId: e.workerId, requestId: e.requestId, detail: `${e.phase}: ${e.reason}` }),
  'flotilla.pool.PoolWorkerDrained': (e, env) => (c, t) =>
    t.scaling.replicas(c, { eventId: env.eventId, agentType: e.agentType, at: e.drainedAt, event: 'worker_drained', desiredReplicas: e.replicas, readyReplicas: e.readyReplicas, workerId: e.workerId, requestId: e.requestId, detail: `drained in ${e.drainMs} ms, ${e.handedBack} handed back` }),
  'flotilla.pool.PoolReplicasReached': (e, env) => (c, t) =>
    t.scaling.replicas(c, { eventId: env.eventId, agentType: e.agentType, at: e.reachedAt, event: 'reached', desiredReplicas: e.replicas, readyReplicas: e.replicas, workerId: null, requestId: e.requestId, detail: null }),
  'flotilla.pool.PoolMetricsReported': (e) => (c, t) => t.scaling.metricsReported(c, e),
  'flotilla.notification.SubscriptionCreated': notificationEvent('flotilla.notification.SubscriptionCreated'),
  'flotilla.notification.SubscriptionUpdated': notificationEvent('flotilla.notification.SubscriptionUpdated'),
  'flotilla.notification.SubscriptionDeleted': notificationEvent('flotilla.notification.SubscriptionDeleted'),
  'flotilla.notification.SubscriptionSecretRotated': notificationEvent('flotilla.notification.SubscriptionSecretRotated'),
  'flotilla.notification.SubscriptionHealthChanged': notificationEvent('flotilla.notification.SubscriptionHealthChanged'),
  'flotilla.notification.WebhookDeliveryScheduled': notificationEvent('flotilla.notification.WebhookDeliveryScheduled'),
  'flotilla.notification.WebhookAttemptRecorded': notificationEvent('flotilla.notification.WebhookAttemptRecorded'),
  'flotilla.notification.WebhookDeliveryDeadLettered': notificationEvent('flotilla.notification.WebhookDeliveryDeadLettered'),
  'flotilla.notification.WebhookDeliveryReplayed': notificationEvent('flotilla.notification.WebhookDeliveryReplayed'),
  'flotilla.alert.AlertRaised': (e) => (c, t) => t.readSide.alert(c, e),
  'flotilla.admission.CustomerCircuitOpened': (e) => (c, t) => t.readSide.circuit(c, e.customerId, 'open', e.openedAt),
  'flotilla.admission.CustomerCircuitHalfOpened': (e) => (c, t) => t.readSide.circuit(c, e.customerId, 'half_open', e.halfOpenedAt),
  'flotilla.admission.CustomerCircuitClosed': (e) => (c, t) => t.readSide.circuit(c, e.customerId, 'closed', e.closedAt),
  'flotilla.admission.AdmissionCapacityChanged': (e) => (c, t) => t.readSide.capacity(c, e.capacity, e.changedAt),
};

/** The change an event makes, or null for an event type the read models do not use. */
export function readModelChangeOf(envelope: EventEnvelope): ReadModelChangeOf | null {
  const projection = READ_MODEL_EVENTS[envelope.eventType as EventType] as ((e: unknown, envelope: EventEnvelope) => ReadModelChangeOf) | undefined;
  return projection ? projection(envelope.payload, envelope) : null;
}
