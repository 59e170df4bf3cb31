import type {
  ScaleActionDenied,
  ScaleBudgetReserved,
  ScaleBudgetWaived,
  ScaleCompensationStepCompleted,
  ScaleCompensationStepRetried,
  ScaleReplicasAccepted,
  ScaleReplicasReached,
  ScaleSagaCompensated,
  ScaleSagaCompensationStarted,
  ScaleSagaCompleted,
  ScaleSagaEnded,
  ScaleSagaRequested,
  ScaleSagaStarted,
  ScaleWorkerReady,
} from '@flotilla/contracts';
import { assertNever } from '@flotilla/domain';
import type { SagaView } from './scaling-views';

/**
 * A scale saga as the read side sees it, folded from the scaler's saga events (all on the pool's
 * partition of flotilla.scaling, so in the order they happened): its status, following the saga's own
 * states (services/scaler/src/sagas/domain/scale-saga.ts), every step with its time and what it said,
 * and the compensations with how each ended. An end is final: a later event adds its step only.
 */
export const SAGA_STATUSES = ['requested', 'reserving', 'provisioning', 'waiting_ready', 'committing', 'draining', 'compensating', 'completed', 'denied', 'compensated'] as const;
export type SagaStatus = (typeof SAGA_STATUSES)[number];
export const SAGA_ENDS: readonly SagaStatus[] = ['completed', 'denied', 'compensated'];
export const isInFlight = (status: SagaStatus): boolean => !SAGA_ENDS.includes(status);

export type SagaStepKind =
  | 'requested'
  | 'started'
  | 'budget_reserved'
  | 'budget_waived'
  | 'denied'
  | 'replicas_accepted'
  | 'worker_ready'
  | 'replicas_reached'
  | 'completed'
  | 'compensation_started'
  | 'compensation_retried'
  | 'compensation_completed'
  | 'compensated'
  | 'ended';

export interface SagaStep {
  readonly step: SagaStepKind;
  /** ISO-8601. */
  readonly at: string;
  readonly note: string;
}

export type CompensationName = 'roll_back_replicas' | 'release_budget';

export interface SagaCompensation {
  readonly step: CompensationName;
  /** pending until it runs; running once it is the one in progress; then how it ended. */
  readonly status: 'pending' | 'running' | 'done' | 'not_needed' | 'abandoned';
  /** Times its command was sent (1 once it runs, more after retries). */
  readonly attempts: number;
  readonly detail: string | null;
}

export interface SagaFailure {
  readonly failedStep: string;
  readonly cause: string;
  readonly reason: string;
}

/** A saga's row; times in epoch ms. */
export interface SagaRecord {
  readonly sagaId: string;
  readonly agentType: string;
  readonly decisionId: string | null;
  readonly direction: 'up' | 'down' | null;
  readonly fromReplicas: number | null;
  readonly toReplicas: number | null;
  readonly reason: string | null;
  readonly status: SagaStatus;
  readonly budgetId: string | null;
  readonly reservationId: string | null;
  readonly amountMicros: number | null;
  readonly committedMicros: number | null;
  readonly readyReplicas: number | null;
  readonly replicasAfter: number | null;
  readonly failure: SagaFailure | null;
  readonly outcome: 'completed' | 'denied' | 'compensated' | null;
  readonly requestedAt: number | null;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  readonly lastEventAt: number;
  readonly steps: readonly SagaStep[];
  readonly compensations: readonly SagaCompensation[];
}

export type SagaEvent =
  | { readonly type: 'flotilla.scaling.ScaleSagaRequested'; readonly data: ScaleSagaRequested }
  | { readonly type: 'flotilla.scaling.ScaleSagaStarted'; readonly data: ScaleSagaStarted }
  | { readonly type: 'flotilla.scaling.ScaleBudgetReserved'; readonly data: ScaleBudgetReserved }
  | { readonly type: 'flotilla.scaling.ScaleBudgetWaived'; readonly data: ScaleBudgetWaived }
  | { readonly type: 'flotilla.scaling.ScaleActionDenied'; readonly data: ScaleActionDenied }
  | { readonly type: 'flotilla.scaling.ScaleReplicasAccepted'; readonly data: ScaleReplicasAccepted }
  | { readonly type: 'flotilla.scaling.ScaleWorkerReady'; readonly data: ScaleWorkerReady }
  | { readonly type: 'flotilla.scaling.ScaleReplicasReached'; readonly data: ScaleReplicasReached }
  | { readonly type: 'flotilla.scaling.ScaleSagaCompleted'; readonly data: ScaleSagaCompleted }
  | { readonly type: 'flotilla.scaling.ScaleSagaCompensationStarted'; readonly data: ScaleSagaCompensationStarted }
  | { readonly type: 'flotilla.scaling.ScaleCompensationStepRetried'; readonly data: ScaleCompensationStepRetried }
  | { readonly type: 'flotilla.scaling.ScaleCompensationStepCompleted'; readonly data: ScaleCompensationStepCompleted }
  | { readonly type: 'flotilla.scaling.ScaleSagaCompensated'; readonly data: ScaleSagaCompensated }
  | { readonly type: 'flotilla.scaling.ScaleSagaEnded'; readonly data: ScaleSagaEnded };

const iso = (ms: number) => new Date(ms).toISOString();
const micros = (n: number) => `${n} µ`;

/** A saga first heard of: its events may name it before ScaleSagaStarted (ScaleSagaRequested comes first). */
function blank(sagaId: string, agentType: string, at: number): SagaRecord {
  return {
    sagaId,
    agentType,
    decisionId: null,
    direction: null,
    fromReplicas: null,
    toReplicas: null,
    reason: null,
    status: 'requested',
    budgetId: null,
    reservationId: null,
    amountMicros: null,
    committedMicros: null,
    readyReplicas: null,
    replicasAfter: null,
    failure: null,
    outcome: null,
    requestedAt: null,
    startedAt: null,
    endedAt: null,
    lastEventAt: at,
    steps: [],
    compensations: [],
  };
}

/** A saga as the API shows it. */
export function sagaViewOf(saga: SagaRecord): SagaView {
  const time = (ms: number | null) => (ms === null ? null : iso(ms));
  return {
    sagaId: saga.sagaId,
    agentType: saga.agentType,
    decisionId: saga.decisionId,
    status: saga.status,
    direction: saga.direction,
    fromReplicas: saga.fromReplicas,
    toReplicas: saga.toReplicas,
    reason: saga.reason,
    budgetId: saga.budgetId,
    reservationId: saga.reservationId,
    amountMicros: saga.amountMicros,
    committedMicros: saga.committedMicros,
    readyReplicas: saga.readyReplicas,
    replicasAfter: saga.replicasAfter,
    failure: saga.failure,
    outcome: saga.outcome,
    requestedAt: time(saga.requestedAt),
    startedAt: time(saga.startedAt),
    endedAt: time(saga.endedAt),
    lastEventAt: iso(saga.lastEventAt),
    steps: saga.steps,
    compensations: saga.compensations,
  };
}

/** When the event happened, by its own field. */
export function sagaEventAt(event: SagaEvent): number {
  switch (event.type) {
    case 'flotilla.scaling.ScaleSagaRequested':
      return event.data.requestedAt;
    case 'flotilla.scaling.ScaleSagaStarted':
      return event.data.startedAt;
    case 'flotilla.scaling.ScaleBudgetReserved':
      return event.data.reservedAt;
    case 'flotilla.scaling.ScaleBudgetWaived':
      return event.data.waivedAt;
    case 'flotilla.scaling.ScaleActionDenied':
      return event.data.deniedAt;
    case 'flotilla.scaling.ScaleReplicasAccepted':
      return event.data.acceptedAt;
    case 'flotilla.scaling.ScaleWorkerReady':
      return event.data.readyAt;
    case 'flotilla.scaling.ScaleReplicasReached':
      return event.data.reachedAt;
    case 'flotilla.scaling.ScaleSagaCompleted':
      return event.data.completedAt;
    case 'flotilla.scaling.ScaleSagaCompensationStarted':
      return event.data.startedAt;
    case 'flotilla.scaling.ScaleCompensationStepRetried':
      return event.data.retriedAt;
    case 'flotilla.scaling.ScaleCompensationStepCompleted':
      return event.data.completedAt;
    case 'flotilla.scaling.ScaleSagaCompensated':
      return event.data.compensatedAt;
    case 'flotilla.scaling.ScaleSagaEnded':
      return event.data.endedAt;
    default:
      return assertNever(event);
  }
}

/** The saga after one more of its events: its step appended, its status moved (never out of an end). */
export function evolveSaga(current: SagaRecord | null, event: SagaEvent): SagaRecord {
  const at = sagaEventAt(event);
  const base = current ?? blank(event.data.sagaId, event.data.agentType, at);
  const { fields, step, status } = change(base, event);
  const ended = SAGA_ENDS.includes(base.status);
  return {
    ...base,
    ...fields,
    status: ended || status === undefined ? base.status : status,
    lastEventAt: Math.max(base.lastEventAt, at),
    steps: [...base.steps, { step, at: iso(at), note: stepNote(event) }],
  };
}

interface Change {
  readonly fields: Partial<SagaRecord>;
  readonly step: SagaStepKind;
  readonly status?: SagaStatus;
}

function change(saga: SagaRecord, event: SagaEvent): Change {
  switch (event.type) {
    case 'flotilla.scaling.ScaleSagaRequested': {
      const d = event.data;
      const fields = { decisionId: d.decisionId, fromReplicas: saga.fromReplicas ?? d.fromReplicas, toReplicas: saga.toReplicas ?? d.targetReplicas, reason: saga.reason ?? d.reason };
      return { step: 'requested', fields: { ...fields, requestedAt: d.requestedAt } };
    }
    case 'flotilla.scaling.ScaleSagaStarted': {
      const d = event.data;
      // Its first step: reserve the money for a scale-up that costs something, else the pool request (or the drain).
      const status: SagaStatus = d.direction === 'down' ? 'draining' : d.reservationId !== null ? 'reserving' : 'provisioning';
      return {
        step: 'started',
        status,
        fields: {
          ...{ decisionId: d.decisionId, direction: d.direction, fromReplicas: d.fromReplicas, toReplicas: d.toReplicas, reason: d.reason },
          ...{ budgetId: d.budgetId, reservationId: d.reservationId, amountMicros: d.amountMicros, startedAt: d.startedAt },
        },
      };
    }
    case 'flotilla.scaling.ScaleBudgetReserved':
      return { step: 'budget_reserved', status: 'provisioning', fields: { reservationId: event.data.reservationId, amountMicros: event.data.amountMicros, budgetId: event.data.budgetId } };
    case 'flotilla.scaling.ScaleBudgetWaived':
      return { step: 'budget_waived', status: 'provisioning', fields: { reservationId: null } };
    case 'flotilla.scaling.ScaleActionDenied': {
      const d = event.data;
      const failure = { failedStep: 'reserve', cause: 'denied', reason: d.reason };
      return { step: 'denied', status: 'denied', fields: { outcome: 'denied', endedAt: d.deniedAt, replicasAfter: d.fromReplicas, failure } };
    }
    case 'flotilla.scaling.ScaleReplicasAccepted':
      return { step: 'replicas_accepted', status: saga.direction === 'down' ? 'draining' : 'waiting_ready', fields: { readyReplicas: event.data.readyReplicas } };
    case 'flotilla.scaling.ScaleWorkerReady':
      return { step: 'worker_ready', fields: { readyReplicas: event.data.readyReplicas } };
    case 'flotilla.scaling.ScaleReplicasReached':
      // A reservation is committed next; without one the saga completes on this.
      return { step: 'replicas_reached', status: saga.reservationId !== null && saga.direction !== 'down' ? 'committing' : saga.status, fields: { readyReplicas: event.data.replicas } };
    case 'flotilla.scaling.ScaleSagaCompleted': {
      const d = event.data;
      return { step: 'completed', status: 'completed', fields: { outcome: 'completed', endedAt: d.completedAt, replicasAfter: d.toReplicas, committedMicros: d.committedMicros } };
    }
    case 'flotilla.scaling.ScaleSagaCompensationStarted': {
      const d = event.data;
      const compensations = d.compensations.map((step, i): SagaCompensation => ({ step, status: i === 0 ? 'running' : 'pending', attempts: i === 0 ? 1 : 0, detail: null }));
      return { step: 'compensation_started', status: 'compensating', fields: { failure: { failedStep: d.failedStep, cause: d.cause, reason: d.reason }, compensations } };
    }
    case 'flotilla.scaling.ScaleCompensationStepRetried': {
      const d = event.data;
      const compensations = updateCompensation(saga.compensations, d.step, (c) => ({ ...c, status: 'running', attempts: Math.max(c.attempts, d.attempt) }));
      return { step: 'compensation_retried', fields: { compensations } };
    }
    case 'flotilla.scaling.ScaleCompensationStepCompleted': {
      const d = event.data;
      const ended = updateCompensation(saga.compensations, d.step, (c) => ({ ...c, status: d.outcome, attempts: Math.max(c.attempts, 1), detail: d.detail }));
      // The next one, in order, runs now.
      const next = ended.findIndex((c) => c.status === 'pending');
      return { step: 'compensation_completed', fields: { compensations: ended.map((c, i) => (i === next ? { ...c, status: 'running', attempts: 1 } : c)) } };
    }
    case 'flotilla.scaling.ScaleSagaCompensated': {
      const d = event.data;
      // The record of how each ran, as the saga keeps it: it wins over what the steps said.
      const attempts = new Map(saga.compensations.map((c) => [c.step, c.attempts]));
      const compensations = d.compensations.map((c): SagaCompensation => ({ step: c.step, status: c.outcome, attempts: Math.max(1, attempts.get(c.step) ?? 1), detail: c.detail }));
      return {
        step: 'compensated',
        status: 'compensated',
        fields: {
          ...{ outcome: 'compensated', endedAt: d.compensatedAt, replicasAfter: d.replicas, failure: { failedStep: d.failedStep, cause: d.cause, reason: d.reason } },
          ...{ compensations, direction: d.direction, fromReplicas: d.fromReplicas, toReplicas: d.toReplicas },
        },
      };
    }
    case 'flotilla.scaling.ScaleSagaEnded': {
      const d = event.data;
      // The pool's view of the end; the saga's own end event came first and is kept.
      return { step: 'ended', status: d.outcome, fields: { outcome: saga.outcome ?? d.outcome, endedAt: saga.endedAt ?? d.endedAt, replicasAfter: saga.replicasAfter ?? d.replicas } };
    }
    default:
      return assertNever(event);
  }
}

function updateCompensation(list: readonly SagaCompensation[], step: CompensationName, update: (c: SagaCompensation) => SagaCompensation): SagaCompensation[] {
  const known = list.some((c) => c.step === step);
  const all = known ? list : [...list, { step, status: 'pending' as const, attempts: 0, detail: null }];
  return all.map((c) => (c.step === step ? update(c) : c));
}

/** What a step says, in words, for the saga's page and the dashboard. */
export function stepNote(event: SagaEvent): string {
  switch (event.type) {
    case 'flotilla.scaling.ScaleSagaRequested': {
      const d = event.data;
      return `decision ${d.decisionId}: ${d.fromReplicas} → ${d.targetReplicas} replicas (${d.reason})`;
    }
    case 'flotilla.scaling.ScaleSagaStarted': {
      const d = event.data;
      const money = d.reservationId !== null ? `reserving ${micros(d.amountMicros)} on ${d.budgetId}` : d.direction === 'down' ? 'nothing to reserve for a scale-down' : 'nothing to reserve';
      return `scale ${d.direction} ${d.fromReplicas} → ${d.toReplicas}; ${money}`;
    }
    case 'flotilla.scaling.ScaleBudgetReserved':
      return `${micros(event.data.amountMicros)} reserved on ${event.data.budgetId} (${micros(event.data.availableMicros)} left)`;
    case 'flotilla.scaling.ScaleBudgetWaived':
      return `no budget for ${event.data.budgetId}, scaling without a reservation: ${event.data.reason}`;
    case 'flotilla.scaling.ScaleActionDenied': {
      const d = event.data;
      return `denied by ${d.budgetId}: ${d.reason} (asked ${micros(d.amountMicros)}, ${micros(d.availableMicros)} available)`;
    }
    case 'flotilla.scaling.ScaleReplicasAccepted': {
      const d = event.data;
      return `the pool accepted ${d.replicas} replicas (was ${d.previousReplicas}, ${d.readyReplicas} ready)`;
    }
    case 'flotilla.scaling.ScaleWorkerReady':
      return `worker ${event.data.workerId} ready (${event.data.readyReplicas} ready)`;
    case 'flotilla.scaling.ScaleReplicasReached':
      return `the pool runs ${event.data.replicas} replicas, all ready`;
    case 'flotilla.scaling.ScaleSagaCompleted': {
      const d = event.data;
      return `completed: ${d.fromReplicas} → ${d.toReplicas}${d.reservationId !== null ? `, ${micros(d.committedMicros)} committed` : ''}`;
    }
    case 'flotilla.scaling.ScaleSagaCompensationStarted': {
      const d = event.data;
      return `${d.failedStep} failed (${d.cause.replace(/_/g, ' ')}): ${d.reason}; ${d.compensations.length > 0 ? `compensating: ${d.compensations.join(', then ')}` : 'nothing to undo'}`;
    }
    case 'flotilla.scaling.ScaleCompensationStepRetried':
      return `${event.data.step} sent again (attempt ${event.data.attempt})`;
    case 'flotilla.scaling.ScaleCompensationStepCompleted':
      return `${event.data.step}: ${event.data.outcome.replace(/_/g, ' ')}${event.data.detail ? ` (${event.data.detail})` : ''}`;
    case 'flotilla.scaling.ScaleSagaCompensated': {
      const d = event.data;
      return `compensated; the pool's desired replicas are ${d.replicas ?? 'unknown'}`;
    }
    case 'flotilla.scaling.ScaleSagaEnded':
      return `ended: ${event.data.outcome}`;
    default:
      return assertNever(event);
  }
}
