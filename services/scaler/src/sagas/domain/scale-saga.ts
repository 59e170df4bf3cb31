import { assertNever, IllegalStateError, type FieldProblem } from '@flotilla/domain';
import type { CompensationRecord, CompensationStep, FailureCause, SagaStep, ScaleDirection, ScaleSagaEvent } from './scale-saga-messages';

/**
 * A ScaleSaga carries out one scaling decision for one pool. Pure: the scaler's saga handler loads
 * the saga's stream, decides (scale-saga.decider.ts) and, in one transaction, appends the events,
 * writes the commands to the outbox and the timers to durable_timers.
 *
 * Scale-up: reserve the money at the optimizer, set the pool's desired replicas, wait until every
 * worker is ready, commit the money. Scale-down: lower the desired replicas and wait until the pool
 * has drained to them. A scale-down reserves nothing, so it has nothing to release; nor is it rolled
 * back (a lower count costs less, and the workers still draining finish what they hold): its failure
 * is recorded, with an alert, and the next decision decides again.
 *
 *  NotStarted ──down──▶ Draining ⟲ accepted ─────────────── reached ───────────────▶ Completed
 *      │                   │ rejected | timeout
 *      │                   └───────────▶ Compensating ── nothing to undo ──▶ Compensated
 *      │ up
 *      ├──────────────────────────────────┐ nothing to reserve (workers priced at 0)
 *      ▼                                  │
 *  Reserving ── denied ──▶ Denied         │
 *      │ reserved | waived*               │
 *      ▼                                  │
 *  Provisioning ◀─────────────────────────┘
 *      │ accepted
 *      ▼
 *  WaitingReady ⟲ a worker ready ───────── reached, nothing reserved ─────────▶ Completed
 *      │ reached
 *      ▼
 *  Committing ─────────────────────────────── committed ──────────────────────▶ Completed
 *
 *  Reserving    ── timeout ─────────────────────────────────────┐
 *  Provisioning ── rejected | timeout | reservation lost ───────┤
 *  WaitingReady ── worker failed | timeout | reservation lost ──┤
 *  Committing   ── timeout | reservation lost ──────────────────┤
 *                                                                ▼
 *  Compensating ⟲ one compensation at a time, in reverse: done | not needed | retried | abandoned
 *      │ the last one ended (or there was none to run)
 *      ▼
 *  Compensated
 *
 * (*) waived: the pool has no budget and its policy does not require one (ScaleSagaPolicy.requireBudget).
 *
 * Forward steps push their compensation when they begin (a request may take effect even if its
 * answer never comes): reserving pushes release_budget, provisioning roll_back_replicas. A failure
 * runs them in reverse, leaving out the ones whose step is known to have had no effect (a
 * provisioning the pool rejected, a reservation already gone). Every step, compensations included,
 * has a durable timer; a timer that fires once its step is over finds nothing to do.
 */
export type ScaleSagaStatus = ScaleSagaState['status'];

export const SCALE_SAGA_TRANSITIONS: Readonly<Record<ScaleSagaStatus, readonly ScaleSagaStatus[]>> = {
  NotStarted: ['Reserving', 'Provisioning', 'Draining'],
  Reserving: ['Provisioning', 'Denied', 'Compensating'],
  Provisioning: ['WaitingReady', 'Compensating'],
  WaitingReady: ['WaitingReady', 'Committing', 'Completed', 'Compensating'],
  Committing: ['Completed', 'Compensating'],
  Draining: ['Draining', 'Completed', 'Compensating'],
  Compensating: ['Compensating', 'Compensated'],
  Completed: [],
  Denied: [],
  Compensated: [],
};

export class IllegalScaleSagaTransitionError extends IllegalStateError {
  constructor(
    readonly from: ScaleSagaStatus,
    readonly to: ScaleSagaStatus,
    readonly eventType: string,
  ) {
    super(`a scale saga cannot go from ${from} to ${to} (${eventType})`, 'ILLEGAL_SCALE_SAGA_TRANSITION');
  }
}

/** What every started saga knows, whatever its status. */
export interface SagaFacts {
  readonly sagaId: string;
  readonly agentType: string;
  readonly decisionId: string;
  readonly direction: ScaleDirection;
  readonly fromReplicas: number;
  readonly toReplicas: number;
  readonly reason: string;
  readonly budgetId: string;
  readonly amountMicros: number;
  readonly requireBudget: boolean;
  /** null while nothing is reserved: a scale-down, a scale-up with nothing to pay, or one whose budget was waived. */
  readonly reservationId: string | null;
  readonly reservationExpiresAt: number | null;
  readonly traceparent: string | null;
  readonly startedAt: number;
  /** The compensations of the steps begun so far, in the order the steps began: run in reverse on failure. */
  readonly compensations: readonly CompensationStep[];
}

export interface SagaFailure {
  readonly step: SagaStep;
  readonly cause: FailureCause;
  readonly reason: string;
}

/** Plain data only (no undefined, Map or Date): the state is stored as JSON in PostgreSQL. */
export type ScaleSagaState =
  | { readonly status: 'NotStarted' }
  | ({ readonly status: 'Reserving'; readonly deadlineAt: number } & SagaFacts)
  | ({ readonly status: 'Provisioning'; readonly deadlineAt: number } & SagaFacts)
  | ({ readonly status: 'WaitingReady'; readonly readyWorkers: readonly string[]; readonly readyReplicas: number; readonly deadlineAt: number } & SagaFacts)
  | ({ readonly status: 'Committing'; readonly deadlineAt: number } & SagaFacts)
  /** accepted: the pool took the lower count and drains. One deadline covers both. */
  | ({ readonly status: 'Draining'; readonly accepted: boolean; readonly deadlineAt: number } & SagaFacts)
  | ({ readonly status: 'Completed'; readonly completedAt: number } & SagaFacts)
  | ({ readonly status: 'Denied'; readonly denialReason: string; readonly availableMicros: number; readonly deniedAt: number } & SagaFacts)
  | ({
      readonly status: 'Compensating';
      readonly failure: SagaFailure;
      /** Still to run, the current one first. */
      readonly remaining: readonly CompensationStep[];
      readonly done: readonly CompensationRecord[];
      /** Of the current compensation: its command was sent this many times. */
      readonly attempt: number;
      readonly deadlineAt: number;
    } & SagaFacts)
  | ({ readonly status: 'Compensated'; readonly failure: SagaFailure; readonly done: readonly CompensationRecord[]; readonly replicas: number | null; readonly compensatedAt: number } & SagaFacts);

export type StartedSaga = Exclude<ScaleSagaState, { status: 'NotStarted' }>;
export type SagaIn<S extends ScaleSagaStatus> = Extract<ScaleSagaState, { status: S }>;

export const initialScaleSagaState: ScaleSagaState = { status: 'NotStarted' };

export const isScaleSagaEnded = (state: ScaleSagaState): boolean => state.status === 'Completed' || state.status === 'Denied' || state.status === 'Compensated';

export function scaleSagaStreamId(sagaId: string): string {
  return `ScaleSaga-${sagaId}`;
}

/** Bound once (`scaleSagaDecider(settings)`); a change applies to the steps that begin after it. */
export interface ScaleSagaSettings {
  readonly reserveTimeoutMs: number;
  /** Until the pool accepts the desired replicas. */
  readonly provisionTimeoutMs: number;
  /** From the acceptance until every worker is ready. */
  readonly readyTimeoutMs: number;
  readonly commitTimeoutMs: number;
  /** A scale-down, from its start until the pool has drained to the target. */
  readonly drainTimeoutMs: number;
  readonly compensationStepTimeoutMs: number;
  /** How many times a compensation's command is sent before it is abandoned. */
  readonly compensationAttempts: number;
  /** How long a reservation outlives the saga's forward steps, so that its release (compensations included) comes before its expiry. */
  readonly reservationGraceMs: number;
  /** requestedBy of the commands. */
  readonly requestedBy: string;
}

export const DEFAULT_SCALE_SAGA_SETTINGS: ScaleSagaSettings = {
  reserveTimeoutMs: 30_000,
  provisionTimeoutMs: 30_000,
  readyTimeoutMs: 300_000,
  commitTimeoutMs: 30_000,
  drainTimeoutMs: 600_000,
  compensationStepTimeoutMs: 30_000,
  compensationAttempts: 3,
  reservationGraceMs: 300_000,
  requestedBy: 'scaler',
};

export function validateScaleSagaSettings(settings: ScaleSagaSettings): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const field of ['reserveTimeoutMs', 'provisionTimeoutMs', 'readyTimeoutMs', 'commitTimeoutMs', 'drainTimeoutMs', 'compensationStepTimeoutMs'] as const) {
    if (!Number.isSafeInteger(settings[field]) || settings[field] <= 0) problems.push({ field, problem: `must be a positive whole number of milliseconds, got ${settings[field]}` });
  }
  if (!Number.isInteger(settings.compensationAttempts) || settings.compensationAttempts < 1) {
    problems.push({ field: 'compensationAttempts', problem: `must be a whole number of at least 1, got ${settings.compensationAttempts}` });
  }
  // Two compensations at most (roll back, then release): the release must come before the optimizer expires the reservation by itself.
  const compensatingMs = 2 * settings.compensationAttempts * settings.compensationStepTimeoutMs;
  if (!(settings.reservationGraceMs > compensatingMs)) {
    problems.push({ field: 'reservationGraceMs', problem: `must exceed the longest compensation (${compensatingMs} ms), got ${settings.reservationGraceMs}` });
  }
  return problems;
}

/** When the optimizer releases a reservation made at `now` by itself: after every forward step could have timed out, and the grace. */
export function reservationExpiresAt(settings: ScaleSagaSettings, now: number): number {
  return now + settings.reserveTimeoutMs + settings.provisionTimeoutMs + settings.readyTimeoutMs + settings.commitTimeoutMs + settings.reservationGraceMs;
}

const HOUR_MS = 3_600_000n;

/**
 * The money to reserve for a scale-up: added replicas × worker-hour price × horizon, rounded up to
 * a whole micro-unit, in integers (a horizon of 90 min at 1 µ/h is 2 µ, not 1.5).
 */
export function reservationAmountMicros(input: { readonly addedReplicas: number; readonly workerHourPriceMicros: number; readonly horizonMs: number }): number {
  const product = BigInt(input.addedReplicas) * BigInt(input.workerHourPriceMicros) * BigInt(input.horizonMs);
  return Number((product + HOUR_MS - 1n) / HOUR_MS);
}

// ---- timers: at most one per saga at a time, guarding the step it waits on ----

export type ScaleSagaTimerKind = SagaStep | 'compensation';

/** A durable timer (its payload is the timer itself): when due, the handler decides FireTimer with it. */
export interface ScaleSagaTimer {
  /** Scheduling the same id again moves the timer. */
  readonly timerId: string;
  readonly sagaId: string;
  readonly kind: ScaleSagaTimerKind;
  /** The compensation it guards; null for a forward step. */
  readonly step: CompensationStep | null;
  readonly attempt: number;
  readonly dueAt: number;
}

/** The timer the saga's current step needs, or null when it waits on nothing (not started, ended). */
export function activeTimer(state: ScaleSagaState): ScaleSagaTimer | null {
  switch (state.status) {
    case 'Reserving':
      return forwardTimer(state, 'reserve');
    case 'Provisioning':
      return forwardTimer(state, 'provision');
    case 'WaitingReady':
      return forwardTimer(state, 'ready');
    case 'Committing':
      return forwardTimer(state, 'commit');
    case 'Draining':
      return forwardTimer(state, 'drain');
    case 'Compensating': {
      const step = state.remaining[0];
      if (step === undefined) return null;
      return { timerId: `${state.sagaId}:compensation:${step}`, sagaId: state.sagaId, kind: 'compensation', step, attempt: state.attempt, dueAt: state.deadlineAt };
    }
    case 'NotStarted':
    case 'Completed':
    case 'Denied':
    case 'Compensated':
      return null;
    default:
      return assertNever(state, 'scale saga state');
  }
}

function forwardTimer(state: SagaFacts & { readonly deadlineAt: number }, kind: SagaStep): ScaleSagaTimer {
  return { timerId: `${state.sagaId}:${kind}`, sagaId: state.sagaId, kind, step: null, attempt: 1, dueAt: state.deadlineAt };
}

// ---- evolve ----

function moveTo<S extends ScaleSagaStatus>(state: ScaleSagaState, next: S, event: ScaleSagaEvent): S {
  if (!SCALE_SAGA_TRANSITIONS[state.status].includes(next)) throw new IllegalScaleSagaTransitionError(state.status, next, event.type);
  return next;
}

/** The facts of a started saga, without the fields of its status. */
function factsOf(state: ScaleSagaState, event: ScaleSagaEvent): SagaFacts {
  if (state.status === 'NotStarted') throw new IllegalStateError(`a scale saga that has not started cannot take ${event.type}`, 'ILLEGAL_SCALE_SAGA_TRANSITION');
  const { sagaId, agentType, decisionId, direction, fromReplicas, toReplicas, reason, budgetId, amountMicros, requireBudget, reservationId, reservationExpiresAt, traceparent, startedAt, compensations } = state;
  return { sagaId, agentType, decisionId, direction, fromReplicas, toReplicas, reason, budgetId, amountMicros, requireBudget, reservationId, reservationExpiresAt, traceparent, startedAt, compensations };
}

/**
 * Applies one of the saga's events. An event its status cannot take is a corrupt stream (decide
 * never produces one) and throws; AlertRaised changes nothing.
 */
export function evolveScaleSaga(state: ScaleSagaState, event: ScaleSagaEvent): ScaleSagaState {
  switch (event.type) {
    case 'flotilla.scaling.ScaleSagaStarted': {
      const d = event.data;
      const status = moveTo(state, d.reservationId !== null ? 'Reserving' : d.direction === 'up' ? 'Provisioning' : 'Draining', event);
      // What began with the start: the reservation (release it), or the provisioning (roll it back). A scale-down undoes nothing.
      const compensations: CompensationStep[] = d.reservationId !== null ? ['release_budget'] : d.direction === 'up' ? ['roll_back_replicas'] : [];
      const facts: SagaFacts = {
        sagaId: d.sagaId,
        agentType: d.agentType,
        decisionId: d.decisionId,
        direction: d.direction,
        fromReplicas: d.fromReplicas,
        toReplicas: d.toReplicas,
        reason: d.reason,
        budgetId: d.budgetId,
        amountMicros: d.amountMicros,
        requireBudget: d.requireBudget,
        reservationId: d.reservationId,
        reservationExpiresAt: d.reservationExpiresAt,
        traceparent: d.traceparent,
        startedAt: d.startedAt,
        compensations,
      };
      return status === 'Draining' ? { status, accepted: false, deadlineAt: d.deadlineAt, ...facts } : { status, deadlineAt: d.deadlineAt, ...facts };
    }
    case 'flotilla.scaling.ScaleBudgetReserved': {
      const facts = factsOf(state, event);
      return { status: moveTo(state, 'Provisioning', event), deadlineAt: event.data.deadlineAt, ...facts, compensations: [...facts.compensations, 'roll_back_replicas'] };
    }
    case 'flotilla.scaling.ScaleBudgetWaived':
      // Nothing was reserved: nothing to release.
      return { status: moveTo(state, 'Provisioning', event), deadlineAt: event.data.deadlineAt, ...factsOf(state, event), reservationId: null, reservationExpiresAt: null, compensations: ['roll_back_replicas'] };
    case 'flotilla.scaling.ScaleActionDenied':
      return { status: moveTo(state, 'Denied', event), ...factsOf(state, event), compensations: [], denialReason: event.data.reason, availableMicros: event.data.availableMicros, deniedAt: event.data.deniedAt };
    case 'flotilla.scaling.ScaleReplicasAccepted':
      if (state.status === 'Draining') return { ...state, status: moveTo(state, 'Draining', event), accepted: true };
      return { status: moveTo(state, 'WaitingReady', event), readyWorkers: [], readyReplicas: event.data.readyReplicas, deadlineAt: event.data.deadlineAt, ...factsOf(state, event) };
    case 'flotilla.scaling.ScaleWorkerReady':
      if (state.status !== 'WaitingReady') throw new IllegalScaleSagaTransitionError(state.status, 'WaitingReady', event.type);
      return { ...state, readyWorkers: [...state.readyWorkers, event.data.workerId], readyReplicas: event.data.readyReplicas };
    case 'flotilla.scaling.ScaleReplicasReached':
      return { status: moveTo(state, 'Committing', event), deadlineAt: event.data.deadlineAt, ...factsOf(state, event) };
    case 'flotilla.scaling.ScaleSagaCompleted':
      return { status: moveTo(state, 'Completed', event), ...factsOf(state, event), completedAt: event.data.completedAt };
    case 'flotilla.scaling.ScaleSagaCompensationStarted': {
      const { failedStep, cause, reason, compensations, deadlineAt, startedAt } = event.data;
      return {
        status: moveTo(state, 'Compensating', event),
        ...factsOf(state, event),
        failure: { step: failedStep, cause, reason },
        remaining: compensations,
        done: [],
        attempt: 1,
        deadlineAt: deadlineAt ?? startedAt,
      };
    }
    case 'flotilla.scaling.ScaleCompensationStepRetried':
      if (state.status !== 'Compensating') throw new IllegalScaleSagaTransitionError(state.status, 'Compensating', event.type);
      return { ...state, attempt: event.data.attempt, deadlineAt: event.data.deadlineAt };
    case 'flotilla.scaling.ScaleCompensationStepCompleted': {
      if (state.status !== 'Compensating') throw new IllegalScaleSagaTransitionError(state.status, 'Compensating', event.type);
      const { step, outcome, detail, deadlineAt, completedAt } = event.data;
      return { ...state, remaining: state.remaining.slice(1), done: [...state.done, { step, outcome, detail }], attempt: 1, deadlineAt: deadlineAt ?? completedAt };
    }
    case 'flotilla.scaling.ScaleSagaCompensated': {
      if (state.status !== 'Compensating') throw new IllegalScaleSagaTransitionError(state.status, 'Compensated', event.type);
      const { compensations, replicas, compensatedAt } = event.data;
      return { status: moveTo(state, 'Compensated', event), ...factsOf(state, event), failure: state.failure, done: compensations, replicas, compensatedAt };
    }
    case 'flotilla.alert.AlertRaised':
      return state;
    default:
      return assertNever(event, 'scale saga event');
  }
}
