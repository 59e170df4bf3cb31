import type { MetricProposal, Recommendation } from './hpa';
import type { PoolSnapshot } from './pool-snapshot';
import type { QueueAwareProposal } from './queue-aware';
import type { ScalingHistory } from './scaling-history';
import type { WeightedScore } from './weighted-score';

/** Ops' manual override: these replicas, for this reason, until `expiresAt`; then the policy resumes. */
export interface ManualOverride {
  readonly replicas: number;
  readonly reason: string;
  /** ms since the epoch */
  readonly expiresAt: number;
  readonly setBy: string;
}

/**
 * The stages between the recommendation and the replicas asked for, in the order they apply.
 * `budget` is the scale saga's: it records the optimizer's answer to the reservation after the decision.
 */
export type StageName = 'stabilization' | 'rate_limit' | 'bounds' | 'cooldown' | 'override' | 'pause' | 'budget';

/** What one stage did: the count it received, the count it passed on, and why. */
export interface StageOutcome {
  readonly stage: StageName;
  readonly from: number;
  readonly to: number;
  readonly note: string;
}

/** The budget reservation's answer, once the saga has it (never set by `evaluate`). */
export interface BudgetOutcome {
  readonly reservationId: string;
  readonly outcome: 'reserved' | 'denied';
  /** The replicas the budget allows (the desired count when reserved). */
  readonly replicas: number;
  readonly reason: string | null;
}

export type Direction = 'up' | 'down' | 'none';

/**
 * One evaluation of a pool's policy: everything the recorded event needs to say why the pool has
 * the size it has — the snapshot as seen, the policy version, each metric's proposal, the combined
 * recommendation, and each stage's effect, in order.
 */
export interface Decision {
  readonly agentType: string;
  readonly policyVersion: number;
  /** ms since the epoch */
  readonly evaluatedAt: number;
  readonly currentReplicas: number;
  readonly desiredReplicas: number;
  readonly direction: Direction;
  /**
   * True when the replicas change, or the policy's recommendation differs from the current count
   * and a stage held it: the evaluations worth recording as an event.
   */
  readonly record: boolean;
  readonly snapshot: PoolSnapshot;
  /** HPA's proposal of each metric of the policy (computed in weighted mode too, for the record). */
  readonly metrics: readonly MetricProposal[];
  /** The score, in weighted mode. */
  readonly weighted: WeightedScore | null;
  readonly queueAware: QueueAwareProposal | null;
  /** The combined proposal before stabilization: the largest (max mode) or the score's, with queue-aware's. */
  readonly recommendation: Recommendation;
  readonly stages: readonly StageOutcome[];
  readonly budget: BudgetOutcome | null;
  /** The pool's history for the next evaluation, assuming the desired count is applied. */
  readonly history: ScalingHistory;
}
