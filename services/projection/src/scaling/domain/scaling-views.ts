/**
 * The scaling side of the read models: pools under the scaler (policy, override, pause, replicas,
 * the saga in flight), each pool's minutes (replicas against backlog and arrival rate, with the
 * forecast's band), the decisions with what they saw and why, and the scale sagas with their steps.
 * Storage implements `ScalingQueries`; the HTTP layer only depends on this file. Times are ISO-8601.
 */
import type { DecisionBudgetOutcome, DecisionStage } from '@flotilla/contracts';
import type { SagaCompensation, SagaFailure, SagaStatus, SagaStep } from './saga-view';

export type { SagaCompensation, SagaFailure, SagaStatus, SagaStep } from './saga-view';

export interface PoolPolicyView {
  readonly version: number;
  readonly template: string | null;
  readonly minReplicas: number | null;
  readonly maxReplicas: number | null;
  /** The predictive mode the policy asks for (off, forecast_only, forecast_and_scale), when it says. */
  readonly predictiveMode: string | null;
  readonly definedAt: string;
  readonly definedBy: string;
  /** Set once the policy was removed: the pool is no longer scaled. */
  readonly removedAt: string | null;
  /** The validated policy as the scaler published it. */
  readonly policy: Readonly<Record<string, unknown>>;
}

export interface PoolOverrideView {
  readonly replicas: number;
  readonly reason: string;
  readonly expiresAt: string;
  readonly setBy: string;
  readonly setAt: string;
  /** False once its expiry has passed (the scaler clears it at its next evaluation). */
  readonly active: boolean;
}

export interface SagaSummary {
  readonly sagaId: string;
  readonly status: SagaStatus;
  readonly direction: 'up' | 'down' | null;
  readonly fromReplicas: number | null;
  readonly toReplicas: number | null;
  readonly startedAt: string | null;
  readonly lastStep: SagaStep | null;
}

export interface ScalingPoolView {
  readonly agentType: string;
  readonly policy: PoolPolicyView | null;
  readonly override: PoolOverrideView | null;
  readonly paused: { readonly reason: string; readonly by: string; readonly at: string } | null;
  /** As the agent pool last reported them (null before any of its pool events). */
  readonly replicas: { readonly desired: number; readonly ready: number; readonly at: string; readonly provisioner: string | null; readonly slotsPerWorker: number | null } | null;
  readonly sagaInFlight: SagaSummary | null;
  readonly lastDecision: { readonly decisionId: string; readonly evaluatedAt: string } | null;
}

/** The forecast's band at a minute: its point forecast and the interval around it (per second). */
export interface ForecastBandView {
  readonly ratePerSec: number;
  readonly lower: number;
  readonly upper: number;
  /** The decision whose forecast it is (the latest one covering the minute). */
  readonly decisionId: string;
}

export interface TimelinePointView {
  /** Start of the minute. */
  readonly minute: string;
  /** Desired and ready replicas at the end of the minute (null before the first pool event known). */
  readonly desiredReplicas: number | null;
  readonly readyReplicas: number | null;
  /** The highest backlog of the minute (its reporters' added up); null when nobody reported. */
  readonly backlog: number | null;
  /** The mean arrival rate of the minute, per second, the whole pool. */
  readonly arrivalRatePerSec: number | null;
  /** Workers that reported in the minute. */
  readonly reportingWorkers: number | null;
  readonly forecast: ForecastBandView | null;
}

export interface ReplicaChangeView {
  readonly at: string;
  readonly event: ReplicaEventKind;
  readonly desiredReplicas: number;
  readonly readyReplicas: number;
  readonly workerId: string | null;
  readonly detail: string | null;
}

export type ReplicaEventKind = 'accepted' | 'rejected' | 'worker_ready' | 'worker_failed' | 'worker_drained' | 'reached';

export interface PoolTimelineView {
  readonly agentType: string;
  readonly from: string;
  readonly to: string;
  readonly points: readonly TimelinePointView[];
  /** Every pool event in the range, in order: the exact steps of the replicas. */
  readonly replicaChanges: readonly ReplicaChangeView[];
}

export type DecisionDirection = 'up' | 'down' | 'none';
/** saga: carried out by `sagaId`; waiting: kept behind a running saga; replaced: a later decision took its place; skipped: the pool already had its replicas. */
export type DecisionOutcome = 'saga' | 'waiting' | 'replaced' | 'skipped';

export interface DecisionView {
  readonly decisionId: string;
  readonly agentType: string;
  readonly policyVersion: number;
  readonly evaluatedAt: string;
  readonly currentReplicas: number;
  readonly desiredReplicas: number;
  readonly direction: DecisionDirection;
  readonly mode: string;
  readonly snapshot: Readonly<Record<string, unknown>>;
  readonly metrics: readonly unknown[];
  readonly recommendation: Readonly<Record<string, unknown>>;
  readonly stages: readonly DecisionStage[];
  readonly budget: DecisionBudgetOutcome | null;
  readonly forecast: Readonly<Record<string, unknown>> | null;
  readonly sagaId: string | null;
  readonly outcome: DecisionOutcome | null;
  /** The saga it waits behind (outcome waiting). */
  readonly waitingBehind: string | null;
  /** Why, in words: the recommendation's note, then each stage that changed the count. */
  readonly reasons: readonly string[];
}

export interface SagaView extends Omit<SagaSummary, 'lastStep'> {
  readonly agentType: string;
  readonly decisionId: string | null;
  readonly reason: string | null;
  readonly budgetId: string | null;
  readonly reservationId: string | null;
  readonly amountMicros: number | null;
  readonly committedMicros: number | null;
  readonly readyReplicas: number | null;
  /** The pool's desired replicas as the saga left them (null while it runs, or when unknown). */
  readonly replicasAfter: number | null;
  readonly failure: SagaFailure | null;
  readonly outcome: 'completed' | 'denied' | 'compensated' | null;
  readonly requestedAt: string | null;
  readonly endedAt: string | null;
  readonly lastEventAt: string;
  readonly steps: readonly SagaStep[];
  readonly compensations: readonly SagaCompensation[];
}

export interface DecisionFilter {
  readonly agentType?: string;
  readonly direction?: DecisionDirection;
}

/** A page of decisions, newest first; `cursor` is the key of the last one served ([evaluatedAt, decisionId]). */
export interface DecisionPageRequest {
  readonly limit: number;
  readonly after: readonly [string, string] | null;
}

export interface SagaFilter {
  readonly agentType?: string;
  /** A status, or in_flight for every status but the ends. */
  readonly status?: SagaStatus | 'in_flight';
  readonly limit: number;
}

export interface ScalingQueries {
  listPools(now: number): Promise<readonly ScalingPoolView[]>;
  /** Minutes starting at or after `from` and before `to` (both whole minutes, epoch ms). */
  timeline(agentType: string, from: number, to: number): Promise<PoolTimelineView>;
  listDecisions(filter: DecisionFilter, page: DecisionPageRequest): Promise<{ readonly items: readonly DecisionView[]; readonly nextCursor: readonly [string, string] | null }>;
  listSagas(filter: SagaFilter): Promise<readonly SagaView[]>;
  getSaga(sagaId: string): Promise<SagaView | null>;
}
