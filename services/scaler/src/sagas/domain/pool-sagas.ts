import type { ScaleDecisionCoalesced, ScaleDecisionSkipped, ScaleSagaEnded, ScaleSagaRequested } from '@flotilla/contracts';
import { assertNever, ValidationError, type DomainEvent } from '@flotilla/domain';
import type { ScaleSagaStart } from './scale-saga.decider';
import type { ScaleSagaEvent } from './scale-saga-messages';

/**
 * PoolSagas: at most one scale saga per pool at a time. A decision that arrives while a saga runs
 * is coalesced: only the latest is kept, and it starts when the running saga ends, from the
 * replicas that saga left. A decision for the replicas the pool already has starts nothing. Pure,
 * one row per pool (locked while deciding, like the optimizer's budgets).
 *
 *   Idle ──decision ≠ replicas──▶ Running ──decision──▶ Running + pending (the latest replaces the one before)
 *    ▲ │                            │  ▲                    │
 *    │ └─decision = replicas: skip  │  └── saga ended, the pending one differs: its saga starts
 *    └────────── saga ended ────────┴────── saga ended, nothing pending or the pending one equals what it left: skip
 */
export interface ScaleDecision {
  readonly decisionId: string;
  readonly agentType: string;
  readonly targetReplicas: number;
  /** The pool's replicas the decision was made from (its metrics), and when they were observed. */
  readonly observedReplicas: number;
  readonly observedAt: number;
  readonly reason: string;
  readonly decidedAt: number;
}

/** completed | denied | compensated (Avro enum flotilla.scaling.ScaleSagaOutcome). */
export type ScaleSagaOutcome = ScaleSagaEnded['outcome'];

export interface RunningSaga {
  readonly sagaId: string;
  readonly decisionId: string;
  readonly fromReplicas: number;
  readonly toReplicas: number;
  readonly requestedAt: number;
}

export interface PoolSagasState {
  readonly agentType: string;
  readonly running: RunningSaga | null;
  /** The latest decision that arrived while a saga ran. */
  readonly pending: ScaleDecision | null;
  /** The pool's desired replicas as the last saga left them, and when; null when no saga said. */
  readonly replicas: { readonly count: number; readonly at: number } | null;
  /** The newest decision taken into account: an older or a repeated one changes nothing. */
  readonly lastDecision: { readonly decisionId: string; readonly decidedAt: number } | null;
}

export function initialPoolSagasState(agentType: string): PoolSagasState {
  return { agentType, running: null, pending: null, replicas: null, lastDecision: null };
}

export type PoolSagasCommand =
  /** sagaId: the id of the saga this decision starts, if it starts one (ids come in from outside). */
  | { readonly type: 'DecideScale'; readonly decision: ScaleDecision; readonly sagaId: string; readonly now: number }
  /** The running saga ended (Completed, Denied or Compensated) leaving the pool at `replicas` (null: unknown). */
  | { readonly type: 'EndSaga'; readonly sagaId: string; readonly outcome: ScaleSagaOutcome; readonly replicas: number | null; readonly nextSagaId: string; readonly now: number };

/**
 * Pool sagas' events are the contracts' flotilla.scaling.* records (published on flotilla.scaling,
 * keyed by agentType): ScaleSagaRequested (a decision became a saga, which starts with
 * ScaleSagaStarted), ScaleDecisionCoalesced (a decision arrived while a saga ran: it is kept,
 * replacing the one kept before), ScaleDecisionSkipped (a decision for the replicas the pool already
 * has) and ScaleSagaEnded.
 */
export type { ScaleDecisionCoalesced, ScaleDecisionSkipped, ScaleSagaEnded, ScaleSagaRequested };

/** What every event about a decision says of it. */
type DecisionFields = Pick<ScaleSagaRequested & ScaleDecisionCoalesced & ScaleDecisionSkipped, 'agentType' | 'decisionId' | 'targetReplicas' | 'decidedAt'>;

export type PoolSagasEvent =
  | DomainEvent<'flotilla.scaling.ScaleSagaRequested', ScaleSagaRequested>
  | DomainEvent<'flotilla.scaling.ScaleDecisionCoalesced', ScaleDecisionCoalesced>
  | DomainEvent<'flotilla.scaling.ScaleDecisionSkipped', ScaleDecisionSkipped>
  | DomainEvent<'flotilla.scaling.ScaleSagaEnded', ScaleSagaEnded>;

export interface PoolSagasDecision {
  readonly events: readonly PoolSagasEvent[];
  /** The saga to start (StartScaleSaga, with the pool's price and policy), or null. */
  readonly start: ScaleSagaStart | null;
}

/** The pool's replicas for a decision: what the last saga left, unless the decision observed them later. */
function replicasFor(state: PoolSagasState, decision: ScaleDecision): number {
  return state.replicas !== null && state.replicas.at >= decision.observedAt ? state.replicas.count : decision.observedReplicas;
}

export function decidePoolSagas(command: PoolSagasCommand, state: PoolSagasState): PoolSagasDecision {
  const events = decideEvents(command, state);
  const requested = events.find((e) => e.type === 'flotilla.scaling.ScaleSagaRequested');
  if (requested?.type !== 'flotilla.scaling.ScaleSagaRequested') return { events, start: null };
  const { sagaId, agentType, decisionId, fromReplicas, targetReplicas, reason } = requested.data;
  return { events, start: { sagaId, agentType, decisionId, fromReplicas, toReplicas: targetReplicas, reason } };
}

function decideEvents(command: PoolSagasCommand, state: PoolSagasState): PoolSagasEvent[] {
  switch (command.type) {
    case 'DecideScale': {
      const { decision, now } = command;
      if (decision.agentType !== state.agentType) throw ValidationError.of('decision.agentType', `is ${decision.agentType}, for the sagas of pool ${state.agentType}`);
      const last = state.lastDecision;
      if (last && (decision.decisionId === last.decisionId || decision.decidedAt < last.decidedAt)) return []; // repeated, or overtaken by a newer one
      if (state.running) {
        const data: ScaleDecisionCoalesced = { ...fieldsOf(decision), observedReplicas: decision.observedReplicas, observedAt: decision.observedAt, reason: decision.reason, runningSagaId: state.running.sagaId, replacedDecisionId: state.pending?.decisionId ?? null, coalescedAt: now };
        return [{ type: 'flotilla.scaling.ScaleDecisionCoalesced', data }];
      }
      return [startOrSkip(decision, replicasFor(state, decision), command.sagaId, now)];
    }
    case 'EndSaga': {
      const { sagaId, outcome, replicas, now } = command;
      if (state.running?.sagaId !== sagaId) return []; // ended already
      const ended: PoolSagasEvent = { type: 'flotilla.scaling.ScaleSagaEnded', data: { agentType: state.agentType, sagaId, outcome, replicas, endedAt: now } };
      if (!state.pending) return [ended];
      const after = evolvePoolSagas(state, ended);
      return [ended, startOrSkip(state.pending, replicasFor(after, state.pending), command.nextSagaId, now)];
    }
    default:
      return assertNever(command, 'pool sagas command');
  }
}

function fieldsOf(decision: ScaleDecision): DecisionFields {
  return { agentType: decision.agentType, decisionId: decision.decisionId, targetReplicas: decision.targetReplicas, decidedAt: decision.decidedAt };
}

function startOrSkip(decision: ScaleDecision, replicas: number, sagaId: string, now: number): PoolSagasEvent {
  if (decision.targetReplicas === replicas) return { type: 'flotilla.scaling.ScaleDecisionSkipped', data: { ...fieldsOf(decision), replicas, skippedAt: now } };
  return { type: 'flotilla.scaling.ScaleSagaRequested', data: { ...fieldsOf(decision), sagaId, fromReplicas: replicas, reason: decision.reason, requestedAt: now } };
}

/** The newer of the last decision and this one. */
function noted(state: PoolSagasState, data: DecisionFields): PoolSagasState['lastDecision'] {
  return state.lastDecision && state.lastDecision.decidedAt > data.decidedAt ? state.lastDecision : { decisionId: data.decisionId, decidedAt: data.decidedAt };
}

/** The pending decision, unless the event is about it (it started or was skipped). */
function pendingAfter(state: PoolSagasState, decisionId: string): ScaleDecision | null {
  return state.pending?.decisionId === decisionId ? null : state.pending;
}

export function evolvePoolSagas(state: PoolSagasState, event: PoolSagasEvent): PoolSagasState {
  switch (event.type) {
    case 'flotilla.scaling.ScaleSagaRequested': {
      const { sagaId, decisionId, fromReplicas, targetReplicas, requestedAt } = event.data;
      return { ...state, running: { sagaId, decisionId, fromReplicas, toReplicas: targetReplicas, requestedAt }, pending: pendingAfter(state, decisionId), lastDecision: noted(state, event.data) };
    }
    case 'flotilla.scaling.ScaleDecisionCoalesced': {
      const { agentType, decisionId, targetReplicas, observedReplicas, observedAt, reason, decidedAt } = event.data;
      return { ...state, pending: { decisionId, agentType, targetReplicas, observedReplicas, observedAt, reason, decidedAt }, lastDecision: noted(state, event.data) };
    }
    case 'flotilla.scaling.ScaleDecisionSkipped':
      return { ...state, pending: pendingAfter(state, event.data.decisionId), lastDecision: noted(state, event.data) };
    case 'flotilla.scaling.ScaleSagaEnded': {
      const { sagaId, replicas, endedAt } = event.data;
      if (state.running?.sagaId !== sagaId) return state;
      return { ...state, running: null, replicas: replicas === null ? state.replicas : { count: replicas, at: endedAt } };
    }
    default:
      return assertNever(event, 'pool sagas event');
  }
}

/** What a saga's terminal event says pool-sagas needs (EndSaga), or null for an event that ends nothing. */
export function sagaEnding(event: ScaleSagaEvent): { readonly sagaId: string; readonly outcome: ScaleSagaOutcome; readonly replicas: number | null } | null {
  switch (event.type) {
    case 'flotilla.scaling.ScaleSagaCompleted':
      return { sagaId: event.data.sagaId, outcome: 'completed', replicas: event.data.toReplicas };
    case 'flotilla.scaling.ScaleActionDenied':
      return { sagaId: event.data.sagaId, outcome: 'denied', replicas: event.data.fromReplicas };
    case 'flotilla.scaling.ScaleSagaCompensated':
      return { sagaId: event.data.sagaId, outcome: 'compensated', replicas: event.data.replicas };
    case 'flotilla.scaling.ScaleSagaStarted':
    case 'flotilla.scaling.ScaleBudgetReserved':
    case 'flotilla.scaling.ScaleBudgetWaived':
    case 'flotilla.scaling.ScaleReplicasAccepted':
    case 'flotilla.scaling.ScaleWorkerReady':
    case 'flotilla.scaling.ScaleReplicasReached':
    case 'flotilla.scaling.ScaleSagaCompensationStarted':
    case 'flotilla.scaling.ScaleCompensationStepRetried':
    case 'flotilla.scaling.ScaleCompensationStepCompleted':
    case 'flotilla.alert.AlertRaised':
      return null;
    default:
      return assertNever(event, 'scale saga event');
  }
}
