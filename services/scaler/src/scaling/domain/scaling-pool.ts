import type { ScalingDecisionRecorded, ScalingOverrideCleared, ScalingOverrideSet, ScalingPaused, ScalingPolicyDefined, ScalingPolicyRemoved, ScalingResumed } from '@flotilla/contracts';
import { assertNever, type DomainEvent } from '@flotilla/domain';
import type { Decision, ManualOverride } from '../../decisions/domain/decision';
import { evaluate } from '../../decisions/domain/evaluate';
import type { PoolSnapshot } from '../../decisions/domain/pool-snapshot';
import { initialHistory, type ScalingHistory } from '../../decisions/domain/scaling-history';
import type { ScalingPolicy } from '../../policies/domain/scaling-policy';

/**
 * A pool under the scaler: its policy (versioned), ops' override and pause, and the history the
 * next evaluation needs (its stabilization windows and rate periods). One row per pool, locked by
 * whoever changes it; what says something is an event on flotilla.scaling. Every evaluation moves
 * the history (Kubernetes keeps every recommendation in the window), but only an evaluation that
 * changes or would change the replicas is recorded as ScalingDecisionRecorded.
 *
 *   Unmanaged ──DefinePolicy──▶ Managed ⟲ DefinePolicy (version + 1), SetOverride, ClearOverride, Pause, Resume, Evaluate
 *                                  │ RemovePolicy
 *                                  ▼
 *                               Managed without a policy (override and pause kept; nothing is evaluated)
 */
export type ScalingPoolState =
  | { readonly status: 'Unmanaged' }
  | {
      readonly status: 'Managed';
      readonly agentType: string;
      readonly policy: ScalingPolicy | null;
      /** The last version given (a removed policy's too): a new definition gets the next one. */
      readonly policyVersion: number;
      readonly template: string | null;
      readonly override: ManualOverride | null;
      readonly paused: { readonly reason: string; readonly by: string; readonly at: number } | null;
      /** Null until the first evaluation, which starts it from the pool's size (as HPA does). */
      readonly history: ScalingHistory | null;
    };

type Managed = Extract<ScalingPoolState, { status: 'Managed' }>;

/** The forecast's part in an evaluation: the rate to provision for when it is used, and what to record. */
export interface PredictiveInput {
  /** forecast_and_scale with a usable forecast: provision for this arrival rate (never below the observed one). */
  readonly provisionForRatePerSec: number | null;
  /** The advice or the shadow record, as JSON for the decision event. */
  readonly record: unknown;
}

export type ScalingPoolCommand =
  | { readonly type: 'DefinePolicy'; readonly agentType: string; readonly policy: ScalingPolicy; readonly template: string | null; readonly by: string; readonly now: number }
  | { readonly type: 'RemovePolicy'; readonly by: string; readonly now: number }
  | { readonly type: 'SetOverride'; readonly agentType: string; readonly override: ManualOverride; readonly now: number }
  | { readonly type: 'ClearOverride'; readonly by: string; readonly now: number }
  | { readonly type: 'Pause'; readonly agentType: string; readonly reason: string; readonly by: string; readonly now: number }
  | { readonly type: 'Resume'; readonly by: string; readonly now: number }
  | {
      readonly type: 'Evaluate';
      readonly decisionId: string;
      readonly snapshot: PoolSnapshot;
      readonly currentReplicas: number;
      /** act: the decision goes to a scale saga; shadow: recorded only (a pool the scaler may not act on). */
      readonly mode: 'act' | 'shadow';
      readonly predictive: PredictiveInput | null;
      readonly now: number;
    };

/** Moves the row only: every evaluation's history, whether or not it is worth an event. */
export interface ScalingHistoryAdvanced {
  readonly agentType: string;
  readonly history: ScalingHistory;
}

export type ScalingPoolEvent =
  | DomainEvent<'flotilla.scaling.ScalingPolicyDefined', ScalingPolicyDefined>
  | DomainEvent<'flotilla.scaling.ScalingPolicyRemoved', ScalingPolicyRemoved>
  | DomainEvent<'flotilla.scaling.ScalingOverrideSet', ScalingOverrideSet>
  | DomainEvent<'flotilla.scaling.ScalingOverrideCleared', ScalingOverrideCleared>
  | DomainEvent<'flotilla.scaling.ScalingPaused', ScalingPaused>
  | DomainEvent<'flotilla.scaling.ScalingResumed', ScalingResumed>
  | DomainEvent<'flotilla.scaling.ScalingDecisionRecorded', ScalingDecisionRecorded>
  | DomainEvent<'flotilla.scaling.ScalingHistoryAdvanced', ScalingHistoryAdvanced>;

export function isStoredScalingPoolEvent(event: ScalingPoolEvent): boolean {
  return event.type !== 'flotilla.scaling.ScalingHistoryAdvanced';
}

export function scalingPoolStreamId(agentType: string): string {
  return `ScalingPool-${agentType}`;
}

const managed = (agentType: string): Managed => ({ status: 'Managed', agentType, policy: null, policyVersion: 0, template: null, override: null, paused: null, history: null });

function decide(command: ScalingPoolCommand, state: ScalingPoolState): ScalingPoolEvent[] {
  switch (command.type) {
    case 'DefinePolicy': {
      const version = (state.status === 'Managed' ? state.policyVersion : 0) + 1;
      const policy = { ...command.policy, agentType: command.agentType, version };
      return [{ type: 'flotilla.scaling.ScalingPolicyDefined', data: { agentType: command.agentType, version, policy: JSON.stringify(policy), template: command.template, definedBy: command.by, definedAt: command.now } }];
    }
    case 'SetOverride': {
      const o = command.override;
      return [{ type: 'flotilla.scaling.ScalingOverrideSet', data: { agentType: command.agentType, replicas: o.replicas, reason: o.reason, expiresAt: o.expiresAt, setBy: o.setBy, setAt: command.now } }];
    }
    case 'Pause':
      return state.status === 'Managed' && state.paused ? [] : [{ type: 'flotilla.scaling.ScalingPaused', data: { agentType: command.agentType, reason: command.reason, pausedBy: command.by, pausedAt: command.now } }];
    case 'RemovePolicy':
      return state.status === 'Managed' && state.policy ? [{ type: 'flotilla.scaling.ScalingPolicyRemoved', data: { agentType: state.agentType, version: state.policy.version, removedBy: command.by, removedAt: command.now } }] : [];
    case 'ClearOverride':
      return state.status === 'Managed' && state.override ? [{ type: 'flotilla.scaling.ScalingOverrideCleared', data: { agentType: state.agentType, reason: 'cleared', clearedBy: command.by, clearedAt: command.now } }] : [];
    case 'Resume':
      return state.status === 'Managed' && state.paused ? [{ type: 'flotilla.scaling.ScalingResumed', data: { agentType: state.agentType, resumedBy: command.by, resumedAt: command.now } }] : [];
    case 'Evaluate':
      return state.status === 'Managed' && state.policy ? evaluatePool(command, state, state.policy) : [];
    default:
      return assertNever(command);
  }
}

function evaluatePool(command: Extract<ScalingPoolCommand, { type: 'Evaluate' }>, state: Managed, policy: ScalingPolicy): ScalingPoolEvent[] {
  const { now } = command;
  const events: ScalingPoolEvent[] = [];
  // The override ends at its expiry; the policy resumes in this very evaluation.
  let override = state.override;
  if (override && override.expiresAt <= now) {
    events.push({ type: 'flotilla.scaling.ScalingOverrideCleared', data: { agentType: state.agentType, reason: 'expired', clearedBy: null, clearedAt: now } });
    override = null;
  }
  const predicted = command.predictive?.provisionForRatePerSec ?? null;
  // A forecast only ever raises the arrival rate the pool is sized for: never a scale-in on a forecast alone.
  const snapshot =
    predicted !== null && (command.snapshot.arrivalRatePerSec === null || predicted > command.snapshot.arrivalRatePerSec) ? { ...command.snapshot, arrivalRatePerSec: predicted } : command.snapshot;
  const history = state.history ?? initialHistory(command.currentReplicas, now);
  const decision: Decision = evaluate({ policy, snapshot, history, currentReplicas: command.currentReplicas, override, paused: state.paused !== null, now });
  events.push({ type: 'flotilla.scaling.ScalingHistoryAdvanced', data: { agentType: state.agentType, history: decision.history } });
  if (decision.record) events.push({ type: 'flotilla.scaling.ScalingDecisionRecorded', data: decisionRecord(command, decision) });
  return events;
}

/** The decision as its event: the snapshot and proposals as JSON, the stages as records. */
export function decisionRecord(command: Extract<ScalingPoolCommand, { type: 'Evaluate' }>, decision: Decision): ScalingDecisionRecorded {
  return {
    decisionId: command.decisionId,
    agentType: decision.agentType,
    policyVersion: decision.policyVersion,
    evaluatedAt: decision.evaluatedAt,
    currentReplicas: decision.currentReplicas,
    desiredReplicas: decision.desiredReplicas,
    direction: decision.direction,
    snapshot: JSON.stringify(decision.snapshot),
    metrics: JSON.stringify(decision.metrics),
    recommendation: JSON.stringify({ ...decision.recommendation, weighted: decision.weighted, queueAware: decision.queueAware }),
    stages: decision.stages.map((s) => ({ stage: s.stage, from: s.from, to: s.to, note: s.note })),
    budget: null,
    forecast: command.predictive ? JSON.stringify(command.predictive.record) : null,
    sagaId: null,
    mode: command.mode,
  };
}

function evolve(state: ScalingPoolState, event: ScalingPoolEvent): ScalingPoolState {
  switch (event.type) {
    case 'flotilla.scaling.ScalingPolicyDefined': {
      const base = state.status === 'Managed' ? state : managed(event.data.agentType);
      return { ...base, policy: JSON.parse(event.data.policy) as ScalingPolicy, policyVersion: event.data.version, template: event.data.template };
    }
    case 'flotilla.scaling.ScalingPolicyRemoved':
      return state.status === 'Managed' ? { ...state, policy: null } : state;
    case 'flotilla.scaling.ScalingOverrideSet': {
      const base = state.status === 'Managed' ? state : managed(event.data.agentType);
      const d = event.data;
      return { ...base, override: { replicas: d.replicas, reason: d.reason, expiresAt: d.expiresAt, setBy: d.setBy } };
    }
    case 'flotilla.scaling.ScalingOverrideCleared':
      return state.status === 'Managed' ? { ...state, override: null } : state;
    case 'flotilla.scaling.ScalingPaused': {
      const base = state.status === 'Managed' ? state : managed(event.data.agentType);
      return { ...base, paused: { reason: event.data.reason, by: event.data.pausedBy, at: event.data.pausedAt } };
    }
    case 'flotilla.scaling.ScalingResumed':
      return state.status === 'Managed' ? { ...state, paused: null } : state;
    case 'flotilla.scaling.ScalingHistoryAdvanced':
      return state.status === 'Managed' ? { ...state, history: event.data.history } : state;
    case 'flotilla.scaling.ScalingDecisionRecorded':
      return state;
    default:
      return assertNever(event);
  }
}

export const scalingPoolDecider = { initialState: { status: 'Unmanaged' } as ScalingPoolState, decide, evolve };
