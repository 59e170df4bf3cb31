import type { RatePolicy, ScalingPolicy, ScalingRules } from '../../policies/domain/scaling-policy';
import { limitRate, stabilize } from './behavior';
import type { Decision, Direction, ManualOverride, StageOutcome } from './decision';
import { combineByMax, proposeForMetric, type MetricProposal, type Recommendation, type SourceProposal } from './hpa';
import type { PoolSnapshot } from './pool-snapshot';
import { queueAwareProposal, type QueueAwareProposal } from './queue-aware';
import { recordInHistory, type ScalingHistory, type TimestampedRecommendation } from './scaling-history';
import { weightedScore, type WeightedScore } from './weighted-score';

export interface EvaluationInput {
  readonly policy: ScalingPolicy;
  readonly snapshot: PoolSnapshot;
  readonly history: ScalingHistory;
  /** The pool's replicas now (workers provisioned). */
  readonly currentReplicas: number;
  /** Ops' override; an expired one is ignored (and the decision says so). */
  readonly override: ManualOverride | null;
  /** Paused: the pool keeps its size; the decision still says what the policy would have done. */
  readonly paused: boolean;
  /** ms since the epoch */
  readonly now: number;
}

/**
 * One evaluation of a pool, pure and O(history): the metrics' proposals, their combination (HPA's
 * max, or the weighted score; queue-aware sizing joins either), then in order stabilization, rate
 * limits, min/max, cooldowns, a manual override and pause, each recorded with what it did.
 *
 * As in Kubernetes, a pool outside min..max goes straight to the bound, skipping behavior and
 * cooldowns; and when the metrics allow no decision (none known, or a scale-down with one
 * unknown) the pool keeps its size and no recommendation enters the stabilization window.
 */
export function evaluate(input: EvaluationInput): Decision {
  const { policy, snapshot, history, currentReplicas: current, now } = input;
  const tolerances = {
    scaleUp: policy.behavior.scaleUp.tolerance ?? policy.tolerance,
    scaleDown: policy.behavior.scaleDown.tolerance ?? policy.tolerance,
  };
  const metrics = policy.metrics.map((m) => proposeForMetric(m, snapshot, current, tolerances));
  const queueAware = policy.queueAware ? queueAwareProposal(policy.queueAware, snapshot, policy.maxReplicas) : null;
  const weighted = policy.combine.mode === 'weighted' ? weightedScore(policy.metrics, policy.combine, snapshot, current) : null;
  const recommendation = recommend(metrics, weighted, queueAware, current);

  const stages: StageOutcome[] = [];
  let desired = current;
  let recommended: TimestampedRecommendation | null = null;
  if (current < policy.minReplicas || current > policy.maxReplicas) {
    desired = Math.min(policy.maxReplicas, Math.max(policy.minReplicas, current));
    stages.push({ stage: 'bounds', from: current, to: desired, note: `current ${current} is outside ${policy.minReplicas}..${policy.maxReplicas}: set to the bound at once` });
  } else if (recommendation.replicas !== null) {
    recommended = { at: now, replicas: recommendation.replicas };
    desired = applyBehavior(policy, history, current, recommendation.replicas, now, stages);
  }
  desired = applyOverride(input.override, desired, now, stages);
  if (input.paused) {
    stages.push({ stage: 'pause', from: desired, to: current, note: 'paused: the pool keeps its size' });
    desired = current;
  }

  const direction: Direction = desired > current ? 'up' : desired < current ? 'down' : 'none';
  const scaleEvent = desired !== current ? { at: now, from: current, to: desired } : null;
  return {
    agentType: policy.agentType,
    policyVersion: policy.version,
    evaluatedAt: now,
    currentReplicas: current,
    desiredReplicas: desired,
    direction,
    record: desired !== current || (recommendation.replicas !== null && recommendation.replicas !== current),
    snapshot,
    metrics,
    weighted,
    queueAware,
    recommendation,
    stages,
    budget: null,
    history: recordInHistory(history, policy, now, { recommendation: recommended, scaleEvent }),
  };
}

function recommend(metrics: readonly MetricProposal[], weighted: WeightedScore | null, queueAware: QueueAwareProposal | null, current: number): Recommendation {
  const sources: SourceProposal[] = weighted ? [{ source: 'weighted_score', replicas: weighted.replicas }] : metrics.map((m) => ({ source: m.metric, replicas: m.replicas }));
  if (queueAware) sources.push({ source: 'queue_aware', replicas: queueAware.replicas });
  const combined = combineByMax(sources, current);
  return weighted ? { ...combined, note: `${weighted.note}; ${combined.note}` } : combined;
}

/** Stabilization, rate limits, min/max and cooldowns, in Kubernetes' order (cooldowns last), each recorded. */
function applyBehavior(policy: ScalingPolicy, history: ScalingHistory, current: number, recommended: number, now: number, stages: StageOutcome[]): number {
  const { scaleUp, scaleDown } = policy.behavior;
  const stable = stabilize(history.recommendations, recommended, current, policy.behavior, now);
  stages.push({
    stage: 'stabilization',
    from: recommended,
    to: stable.replicas,
    note:
      `lowest recommendation of the last ${scaleUp.stabilizationWindowSeconds} s is ${stable.scaleUpBound}, ` +
      `highest of the last ${scaleDown.stabilizationWindowSeconds} s is ${stable.scaleDownBound}`,
  });

  const limited = limitRate(current, stable.replicas, policy.behavior, history.scaleEvents, now);
  const up = stable.replicas > current;
  stages.push({
    stage: 'rate_limit',
    from: stable.replicas,
    to: limited.replicas,
    note: limited.limit === null ? 'no change to limit' : `${up ? 'scale-up' : 'scale-down'} limit now ${limited.limit} (${describeRules(up ? scaleUp : scaleDown)})`,
  });

  const bounded = Math.min(policy.maxReplicas, Math.max(policy.minReplicas, limited.replicas));
  stages.push({ stage: 'bounds', from: limited.replicas, to: bounded, note: `min ${policy.minReplicas}, max ${policy.maxReplicas}` });

  return applyCooldown(policy, history, current, bounded, now, stages);
}

function applyCooldown(policy: ScalingPolicy, history: ScalingHistory, current: number, desired: number, now: number, stages: StageOutcome[]): number {
  if (desired === current) return desired;
  const up = desired > current;
  const cooldownSeconds = up ? policy.cooldowns.scaleUpSeconds : policy.cooldowns.scaleDownSeconds;
  const last = history.lastScale;
  const sinceMs = last ? now - last.at : Number.POSITIVE_INFINITY;
  const held = cooldownSeconds > 0 && sinceMs < cooldownSeconds * 1000;
  const direction = up ? 'scale-up' : 'scale-down';
  const note = !last
    ? `no earlier scale; ${direction} cooldown ${cooldownSeconds} s`
    : `last scale ${Math.round(sinceMs / 1000)} s ago (${last.from} → ${last.to}); ${direction} cooldown ${cooldownSeconds} s`;
  stages.push({ stage: 'cooldown', from: desired, to: held ? current : desired, note });
  return held ? current : desired;
}

function applyOverride(override: ManualOverride | null, desired: number, now: number, stages: StageOutcome[]): number {
  if (!override) return desired;
  if (now >= override.expiresAt) {
    stages.push({ stage: 'override', from: desired, to: desired, note: `override by ${override.setBy} expired at ${override.expiresAt}: the policy decides again` });
    return desired;
  }
  stages.push({ stage: 'override', from: desired, to: override.replicas, note: `manual override by ${override.setBy} until ${override.expiresAt}: ${override.reason}` });
  return override.replicas;
}

function describeRules(rules: ScalingRules): string {
  if (rules.selectPolicy === 'Disabled') return 'selectPolicy Disabled';
  return `selectPolicy ${rules.selectPolicy} of ${rules.policies.map(describePolicy).join(', ')}`;
}

function describePolicy(p: RatePolicy): string {
  return p.type === 'Pods' ? `${p.value} pod(s) per ${p.periodSeconds} s` : `${p.value} % per ${p.periodSeconds} s`;
}
