import { budgetIdOf, type AlertRaised, type BudgetReservationDenied } from '@flotilla/contracts';
import { assertNever, ValidationError, type FieldProblem } from '@flotilla/domain';
import {
  poolRequestId,
  type CompensationOutcome,
  type CompensationRecord,
  type CompensationStep,
  type FailureCause,
  type SagaStep,
  type ScaleSagaEvent,
  type ScaleSagaOutgoingCommand,
  type ScaleSagaReply,
} from './scale-saga-messages';
import {
  activeTimer,
  DEFAULT_SCALE_SAGA_SETTINGS,
  evolveScaleSaga,
  initialScaleSagaState,
  reservationAmountMicros,
  reservationExpiresAt,
  validateScaleSagaSettings,
  type SagaIn,
  type ScaleSagaSettings,
  type ScaleSagaState,
  type ScaleSagaTimer,
  type StartedSaga,
} from './scale-saga';
import { commandsFor, timerChanges } from './scale-saga-reactions';

/** A pool's scaling policy, as far as the saga needs it. */
export interface ScaleSagaPolicy {
  /** How long the added replicas are paid for in advance: the reservation covers this much of their time. */
  readonly horizonMs: number;
  /**
   * When true, a pool without a budget does not scale up (the optimizer's denial stands). When false
   * (the default), it scales without a reservation: budgets are opt-in everywhere else too (spend
   * counts from the moment one is set), and an autoscaler that silently stops scaling up until ops
   * define ten pool budgets is worse than unbudgeted spend, which the cost ledger records anyway.
   */
  readonly requireBudget: boolean;
}

export const DEFAULT_SCALE_SAGA_POLICY: ScaleSagaPolicy = { horizonMs: 3_600_000, requireBudget: false };

/** What pool-sagas hands over when a decision becomes a saga. */
export interface ScaleSagaStart {
  readonly sagaId: string;
  readonly agentType: string;
  readonly decisionId: string;
  readonly fromReplicas: number;
  readonly toReplicas: number;
  readonly reason: string;
}

/** A command to the saga, an answer it was waiting for (or not), or one of its timers firing. */
export type ScaleSagaInput =
  | ({
      readonly type: 'StartScaleSaga';
      /** The optimizer's price of one worker for an hour (its price sheet). */
      readonly workerHourPriceMicros: number;
      readonly policy: ScaleSagaPolicy;
      readonly traceparent: string | null;
      readonly now: number;
    } & ScaleSagaStart)
  | { readonly type: 'ReceiveReply'; readonly reply: ScaleSagaReply; readonly now: number }
  | { readonly type: 'FireTimer'; readonly timer: ScaleSagaTimer; readonly now: number };

/** Everything one input leads to, written in one transaction: the events, the outbox rows, the timer rows. */
export interface ScaleSagaDecision {
  readonly events: readonly ScaleSagaEvent[];
  readonly commands: readonly ScaleSagaOutgoingCommand[];
  readonly timers: { readonly schedule: readonly ScaleSagaTimer[]; readonly cancel: readonly string[] };
}

export interface ScaleSagaDecider {
  readonly initialState: ScaleSagaState;
  decide(input: ScaleSagaInput, state: ScaleSagaState): ScaleSagaDecision;
  evolve(state: ScaleSagaState, event: ScaleSagaEvent): ScaleSagaState;
}

/** The saga's decider with its settings bound; throws a ValidationError naming each bad setting. */
export function scaleSagaDecider(settings: ScaleSagaSettings = DEFAULT_SCALE_SAGA_SETTINGS): ScaleSagaDecider {
  const problems = validateScaleSagaSettings(settings);
  if (problems.length > 0) throw new ValidationError(problems);
  return { initialState: initialScaleSagaState, decide: (input, state) => decideScaleSaga(input, state, settings), evolve: evolveScaleSaga };
}

/**
 * Decides an input, then derives what follows from the events: the commands they send and the
 * change of the saga's one timer. Idempotent: an input the saga has already taken (a redelivered
 * reply, a timer of a step that is over, a repeated start) decides nothing, so sends nothing.
 */
function decideScaleSaga(input: ScaleSagaInput, state: ScaleSagaState, settings: ScaleSagaSettings): ScaleSagaDecision {
  const events = decideEvents(input, state, settings);
  const commands: ScaleSagaOutgoingCommand[] = [];
  let after = state;
  for (const event of events) {
    after = evolveScaleSaga(after, event);
    commands.push(...commandsFor(event, after, input.now, settings));
  }
  return { events, commands, timers: timerChanges(state, after) };
}

function decideEvents(input: ScaleSagaInput, state: ScaleSagaState, settings: ScaleSagaSettings): ScaleSagaEvent[] {
  switch (input.type) {
    case 'StartScaleSaga':
      return state.status === 'NotStarted' ? start(input, settings) : []; // a repeated start: the saga is already under way
    case 'ReceiveReply':
      return state.status === 'NotStarted' ? [] : receive(input.reply, state, input.now, settings);
    case 'FireTimer':
      return fire(input.timer, state, input.now, settings);
    default:
      return assertNever(input, 'scale saga input');
  }
}

type Start = Extract<ScaleSagaInput, { type: 'StartScaleSaga' }>;

export function validateScaleSagaStart(input: Start): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const wholeCount = (field: 'fromReplicas' | 'toReplicas') => {
    if (!Number.isInteger(input[field]) || input[field] < 0) problems.push({ field, problem: `must be a whole number of at least 0, got ${input[field]}` });
  };
  wholeCount('fromReplicas');
  wholeCount('toReplicas');
  if (input.fromReplicas === input.toReplicas) problems.push({ field: 'toReplicas', problem: `equals fromReplicas (${input.fromReplicas}): nothing to scale` });
  if (!Number.isSafeInteger(input.workerHourPriceMicros) || input.workerHourPriceMicros < 0) {
    problems.push({ field: 'workerHourPriceMicros', problem: `must be a whole number of micro-units of at least 0, got ${input.workerHourPriceMicros}` });
  }
  if (!Number.isSafeInteger(input.policy.horizonMs) || input.policy.horizonMs <= 0) {
    problems.push({ field: 'policy.horizonMs', problem: `must be a positive whole number of milliseconds, got ${input.policy.horizonMs}` });
  }
  for (const field of ['sagaId', 'agentType', 'decisionId'] as const) if (input[field] === '') problems.push({ field, problem: 'must not be empty' });
  return problems;
}

function start(input: Start, settings: ScaleSagaSettings): ScaleSagaEvent[] {
  const problems = validateScaleSagaStart(input);
  if (problems.length > 0) throw new ValidationError(problems);
  const { sagaId, agentType, decisionId, fromReplicas, toReplicas, reason, workerHourPriceMicros, policy, traceparent, now } = input;
  const direction = toReplicas > fromReplicas ? 'up' : 'down';
  const amountMicros = direction === 'up' ? reservationAmountMicros({ addedReplicas: toReplicas - fromReplicas, workerHourPriceMicros, horizonMs: policy.horizonMs }) : 0;
  if (!Number.isSafeInteger(amountMicros)) throw ValidationError.of('workerHourPriceMicros', `the reservation (${amountMicros} µ) is too large to be exact`);
  // Nothing to pay, nothing to reserve: a scale-down, or workers priced at zero.
  const reserves = amountMicros > 0;
  const firstStepMs = reserves ? settings.reserveTimeoutMs : direction === 'up' ? settings.provisionTimeoutMs : settings.drainTimeoutMs;
  return [
    {
      type: 'flotilla.scaling.ScaleSagaStarted',
      data: {
        sagaId,
        agentType,
        decisionId,
        direction,
        fromReplicas,
        toReplicas,
        reason,
        budgetId: budgetIdOf({ kind: 'pool', agentType }),
        amountMicros,
        workerHourPriceMicros,
        horizonMs: policy.horizonMs,
        requireBudget: policy.requireBudget,
        reservationId: reserves ? sagaId : null,
        reservationExpiresAt: reserves ? reservationExpiresAt(settings, now) : null,
        traceparent,
        deadlineAt: now + firstStepMs,
        startedAt: now,
      },
    },
  ];
}

/** The optimizer's denial of a scope without a budget (README, Budgets), as opposed to one without enough money. */
export function isNoBudgetDenial(denial: BudgetReservationDenied): boolean {
  return denial.reason === `no budget is defined for ${denial.budgetId}`;
}

function receive(reply: ScaleSagaReply, state: StartedSaga, now: number, settings: ScaleSagaSettings): ScaleSagaEvent[] {
  const compensating = state.status === 'Compensating' ? state : null;
  const current = compensating?.remaining[0];
  switch (reply.type) {
    case 'flotilla.budget.BudgetReserved': {
      if (state.status !== 'Reserving' || reply.data.reservationId !== state.reservationId) return [];
      const { budgetId, reservationId, amountMicros, availableMicros } = reply.data;
      return [{ type: 'flotilla.scaling.ScaleBudgetReserved', data: { sagaId: state.sagaId, agentType: state.agentType, budgetId, reservationId, amountMicros, availableMicros, deadlineAt: now + settings.provisionTimeoutMs, reservedAt: now } }];
    }
    case 'flotilla.budget.BudgetReservationDenied': {
      if (reply.data.reservationId !== state.reservationId) return [];
      if (state.status === 'Reserving') return denied(reply.data, state, now, settings);
      // The request was denied after the saga gave up waiting: nothing was reserved, nothing to release.
      if (compensating && current === 'release_budget') return completeStep(compensating, 'not_needed', `the reservation was denied: ${reply.data.reason}`, now, settings);
      return [];
    }
    case 'flotilla.budget.BudgetReservationCommitted': {
      if (reply.data.reservationId !== state.reservationId) return [];
      if (state.status === 'Committing') return [completed(state, reply.data.amountMicros, now)];
      if (compensating && current === 'release_budget') return completeStep(compensating, 'abandoned', 'the reservation was committed before its release: the money is spent', now, settings);
      return [];
    }
    case 'flotilla.budget.BudgetReservationReleased': {
      if (reply.data.reservationId !== state.reservationId) return [];
      if (compensating && current === 'release_budget') return completeStep(compensating, 'done', reply.data.reason === 'expired' ? 'the reservation had expired' : `${reply.data.amountMicros} µ released`, now, settings);
      // Gone before it was committed (expired, most likely): the money is no longer held for the new workers.
      if (state.status === 'Provisioning' || state.status === 'WaitingReady' || state.status === 'Committing') {
        return fail(state, currentStep(state), 'reservation_lost', reply.data.reason === 'expired' ? 'the reservation expired before it was committed' : 'the reservation was released before it was committed', now, settings);
      }
      return [];
    }
    case 'flotilla.pool.PoolReplicasChanged': {
      const { requestId, outcome, reason } = reply.data;
      const accepted = outcome === 'accepted';
      if (requestId === poolRequestId(state.sagaId, 'rollback')) {
        if (!compensating || current !== 'roll_back_replicas') return [];
        return accepted ? completeStep(compensating, 'done', `desired replicas back to ${reply.data.replicas}`, now, settings) : completeStep(compensating, 'abandoned', `the pool refused the rollback: ${reason}`, now, settings);
      }
      if (requestId !== poolRequestId(state.sagaId, 'scale')) return [];
      if (state.status === 'Provisioning' || (state.status === 'Draining' && !state.accepted)) {
        if (!accepted) return fail(state, currentStep(state), 'rejected', `the pool rejected ${state.toReplicas} replicas: ${reason}`, now, settings);
        const deadlineAt = state.status === 'Draining' ? state.deadlineAt : now + settings.readyTimeoutMs;
        const { previousReplicas, replicas, readyReplicas } = reply.data;
        return [{ type: 'flotilla.scaling.ScaleReplicasAccepted', data: { sagaId: state.sagaId, agentType: state.agentType, requestId, previousReplicas, replicas, readyReplicas, deadlineAt, acceptedAt: now } }];
      }
      return [];
    }
    case 'flotilla.pool.PoolWorkerReady': {
      const { requestId, workerId, readyReplicas } = reply.data;
      if (state.status !== 'WaitingReady' || requestId !== poolRequestId(state.sagaId, 'scale') || state.readyWorkers.includes(workerId)) return [];
      return [{ type: 'flotilla.scaling.ScaleWorkerReady', data: { sagaId: state.sagaId, agentType: state.agentType, workerId, readyReplicas, readyAt: now } }];
    }
    case 'flotilla.pool.PoolWorkerFailed': {
      const { requestId, workerId, phase, reason, readyReplicas } = reply.data;
      // Only a worker started for this saga that could not start fails it; one that dies later is the pool's to replace.
      if (state.status !== 'WaitingReady' || requestId !== poolRequestId(state.sagaId, 'scale') || phase !== 'starting') return [];
      return fail(state, 'ready', 'worker_failed', `worker ${workerId} could not start: ${reason} (${readyReplicas} of ${state.toReplicas} replicas ready)`, now, settings);
    }
    case 'flotilla.pool.PoolReplicasReached': {
      if (reply.data.requestId !== poolRequestId(state.sagaId, 'scale')) return [];
      if (state.status === 'Draining') return [completed(state, 0, now)];
      if (state.status !== 'WaitingReady') return [];
      if (state.reservationId === null) return [completed(state, 0, now)];
      return [{ type: 'flotilla.scaling.ScaleReplicasReached', data: { sagaId: state.sagaId, agentType: state.agentType, replicas: reply.data.replicas, deadlineAt: now + settings.commitTimeoutMs, reachedAt: now } }];
    }
    case 'flotilla.pool.PoolWorkerDrained':
      return []; // a scale-down ends on PoolReplicasReached, not worker by worker
    default:
      return assertNever(reply, 'reply');
  }
}

function fire(timer: ScaleSagaTimer, state: ScaleSagaState, now: number, settings: ScaleSagaSettings): ScaleSagaEvent[] {
  const active = activeTimer(state);
  // A timer of a step that is over (or one moved later since it was read) finds nothing to do.
  if (!active || active.timerId !== timer.timerId || active.attempt !== timer.attempt || now < active.dueAt) return [];
  const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;
  switch (state.status) {
    case 'Reserving':
      return fail(state, 'reserve', 'timed_out', `the optimizer did not answer the reservation within ${seconds(settings.reserveTimeoutMs)}`, now, settings);
    case 'Provisioning':
      return fail(state, 'provision', 'timed_out', `the agent pool did not accept ${state.toReplicas} replicas within ${seconds(settings.provisionTimeoutMs)}`, now, settings);
    case 'WaitingReady':
      return fail(state, 'ready', 'timed_out', `${state.readyReplicas} of ${state.toReplicas} replicas ready after ${seconds(settings.readyTimeoutMs)}`, now, settings);
    case 'Committing':
      return fail(state, 'commit', 'timed_out', `the optimizer did not answer the commit within ${seconds(settings.commitTimeoutMs)}`, now, settings);
    case 'Draining':
      return fail(state, 'drain', 'timed_out', `the pool did not ${state.accepted ? 'drain to' : 'accept'} ${state.toReplicas} replicas within ${seconds(settings.drainTimeoutMs)}`, now, settings);
    case 'Compensating': {
      if (state.attempt < settings.compensationAttempts) {
        const step = state.remaining[0];
        return [{ type: 'flotilla.scaling.ScaleCompensationStepRetried', data: { sagaId: state.sagaId, agentType: state.agentType, step, attempt: state.attempt + 1, deadlineAt: now + settings.compensationStepTimeoutMs, retriedAt: now } }];
      }
      const expiry = state.remaining[0] === 'release_budget' && state.reservationExpiresAt !== null ? `; it expires by itself at ${new Date(state.reservationExpiresAt).toISOString()}` : '';
      return completeStep(state, 'abandoned', `no answer after ${state.attempt} attempt(s)${expiry}`, now, settings);
    }
    case 'NotStarted':
    case 'Completed':
    case 'Denied':
    case 'Compensated':
      return [];
    default:
      return assertNever(state, 'scale saga state');
  }
}

type Forward = SagaIn<'Reserving' | 'Provisioning' | 'WaitingReady' | 'Committing' | 'Draining'>;

function currentStep(state: Forward): SagaStep {
  switch (state.status) {
    case 'Reserving':
      return 'reserve';
    case 'Provisioning':
      return 'provision';
    case 'WaitingReady':
      return 'ready';
    case 'Committing':
      return 'commit';
    case 'Draining':
      return 'drain';
    default:
      return assertNever(state, 'forward status');
  }
}

/** The compensations to run, in reverse order of their steps, without those whose step surely had no effect. */
function compensationsToRun(compensations: readonly CompensationStep[], cause: FailureCause): CompensationStep[] {
  return [...compensations].reverse().filter((step) => !(step === 'roll_back_replicas' && cause === 'rejected') && !(step === 'release_budget' && cause === 'reservation_lost'));
}

function fail(state: Forward, step: SagaStep, cause: FailureCause, reason: string, now: number, settings: ScaleSagaSettings): ScaleSagaEvent[] {
  const compensations = compensationsToRun(state.compensations, cause);
  const undoing = compensations.length > 0 ? `undoing: ${compensations.map((c) => c.replace(/_/g, ' ')).join(', then ')}` : 'nothing to undo';
  const events: ScaleSagaEvent[] = [
    {
      type: 'flotilla.scaling.ScaleSagaCompensationStarted',
      data: { sagaId: state.sagaId, agentType: state.agentType, decisionId: state.decisionId, failedStep: step, cause, reason, compensations, deadlineAt: compensations.length > 0 ? now + settings.compensationStepTimeoutMs : null, startedAt: now },
    },
    alert(state, 'scale_compensating', 'warning', `${describe(state)} failed at ${step} (${cause.replace(/_/g, ' ')}): ${reason}; ${undoing}`, now),
  ];
  if (compensations.length > 0) return events;
  // A drain never accepted may still be: what the pool will run is not known.
  const replicas = step === 'drain' && cause === 'timed_out' ? (state.status === 'Draining' && state.accepted ? state.toReplicas : null) : state.fromReplicas;
  return [...events, compensated(state, { step, cause, reason }, [], replicas, now)];
}

function completeStep(state: SagaIn<'Compensating'>, outcome: CompensationOutcome, detail: string, now: number, settings: ScaleSagaSettings): ScaleSagaEvent[] {
  const step = state.remaining[0];
  const rest = state.remaining.slice(1);
  const events: ScaleSagaEvent[] = [
    { type: 'flotilla.scaling.ScaleCompensationStepCompleted', data: { sagaId: state.sagaId, agentType: state.agentType, step, outcome, detail, deadlineAt: rest.length > 0 ? now + settings.compensationStepTimeoutMs : null, completedAt: now } },
  ];
  if (outcome === 'abandoned') {
    events.push(alert(state, 'scale_compensation_abandoned', 'critical', `${describe(state)}: could not ${step.replace(/_/g, ' ')}: ${detail}`, now, step));
  }
  if (rest.length > 0) return events;
  const done: CompensationRecord[] = [...state.done, { step, outcome, detail }];
  const rollback = done.find((r) => r.step === 'roll_back_replicas');
  return [...events, compensated(state, state.failure, done, rollback?.outcome === 'abandoned' ? null : state.fromReplicas, now)];
}

function compensated(state: StartedSaga, failure: { step: SagaStep; cause: FailureCause; reason: string }, compensations: CompensationRecord[], replicas: number | null, now: number): ScaleSagaEvent {
  const { sagaId, agentType, decisionId, direction, fromReplicas, toReplicas } = state;
  return {
    type: 'flotilla.scaling.ScaleSagaCompensated',
    data: { sagaId, agentType, decisionId, direction, failedStep: failure.step, cause: failure.cause, reason: failure.reason, fromReplicas, toReplicas, replicas, compensations, compensatedAt: now },
  };
}

function completed(state: StartedSaga, committedMicros: number, now: number): ScaleSagaEvent {
  const { sagaId, agentType, decisionId, direction, fromReplicas, toReplicas, reservationId } = state;
  return { type: 'flotilla.scaling.ScaleSagaCompleted', data: { sagaId, agentType, decisionId, direction, fromReplicas, toReplicas, reservationId, committedMicros, completedAt: now } };
}

function denied(denial: BudgetReservationDenied, state: SagaIn<'Reserving'>, now: number, settings: ScaleSagaSettings): ScaleSagaEvent[] {
  if (isNoBudgetDenial(denial) && !state.requireBudget) {
    return [{ type: 'flotilla.scaling.ScaleBudgetWaived', data: { sagaId: state.sagaId, agentType: state.agentType, budgetId: state.budgetId, reason: denial.reason, deadlineAt: now + settings.provisionTimeoutMs, waivedAt: now } }];
  }
  const { sagaId, agentType, decisionId, fromReplicas, toReplicas, budgetId } = state;
  const { reservationId, amountMicros, availableMicros, reason } = denial;
  return [
    { type: 'flotilla.scaling.ScaleActionDenied', data: { sagaId, agentType, decisionId, fromReplicas, toReplicas, budgetId, reservationId, amountMicros, availableMicros, reason, deniedAt: now } },
    alert(state, 'scale_denied', 'warning', `${describe(state)} denied by budget ${budgetId}: ${reason} (${amountMicros} µ asked, ${availableMicros} µ available); nothing was provisioned`, now),
  ];
}

function describe(state: StartedSaga): string {
  return `scale-${state.direction} of pool ${state.agentType} from ${state.fromReplicas} to ${state.toReplicas} replicas (saga ${state.sagaId})`;
}

function alert(state: StartedSaga, kind: string, severity: 'warning' | 'critical', message: string, now: number, step?: CompensationStep): ScaleSagaEvent {
  // Stable per saga (and compensation): a redelivered alert is recognisably the same.
  const alertId = `${kind}:${state.sagaId}${step ? `:${step}` : ''}`;
  const data: AlertRaised = { alertId, severity, kind, source: 'scaler', customerId: null, executionId: null, message, raisedAt: now };
  return { type: 'flotilla.alert.AlertRaised', data };
}
