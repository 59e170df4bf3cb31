import type { ScalingBehavior, ScalingRules } from '../../policies/domain/scaling-policy';
import { roundDown, roundUp } from './hpa';
import type { ScaleEvent, TimestampedRecommendation } from './scaling-history';

/**
 * HPA v2's `behavior`, as Kubernetes' controller applies it (horizontal.go:
 * stabilizeRecommendationWithBehaviors, convertDesiredReplicasWithBehaviorRate,
 * calculateScaleUpLimitWithScalingRules, calculateScaleDownLimitWithBehaviors).
 */

export interface Stabilized {
  readonly replicas: number;
  /** The lowest recommendation of the scale-up window (the new one included): scale-up goes no higher. */
  readonly scaleUpBound: number;
  /** The highest recommendation of the scale-down window (the new one included): scale-down goes no lower. */
  readonly scaleDownBound: number;
}

/**
 * Stabilization as a rolling window over the recommendations: a scale-up goes only as high as the
 * lowest recommendation of the last `scaleUp.stabilizationWindowSeconds`, a scale-down only as low
 * as the highest of the last `scaleDown.stabilizationWindowSeconds` (300 s by default), so a brief
 * dip or spike moves nothing. A recommendation counts while it is strictly younger than the window.
 */
export function stabilize(recommendations: readonly TimestampedRecommendation[], desired: number, current: number, behavior: ScalingBehavior, now: number): Stabilized {
  const upCutoff = now - behavior.scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = now - behavior.scaleDown.stabilizationWindowSeconds * 1000;
  let scaleUpBound = desired;
  let scaleDownBound = desired;
  for (const r of recommendations) {
    if (r.at > upCutoff && r.replicas < scaleUpBound) scaleUpBound = r.replicas;
    if (r.at > downCutoff && r.replicas > scaleDownBound) scaleDownBound = r.replicas;
  }
  // The current count, brought within [scaleUpBound, scaleDownBound].
  let replicas = current;
  if (replicas < scaleUpBound) replicas = scaleUpBound;
  if (replicas > scaleDownBound) replicas = scaleDownBound;
  return { replicas, scaleUpBound, scaleDownBound };
}

/** Replicas added (direction up) or removed (down) by the events strictly inside the last `periodSeconds`. */
function changeInPeriod(events: readonly ScaleEvent[], periodSeconds: number, now: number, direction: 'up' | 'down'): number {
  const cutoff = now - periodSeconds * 1000;
  let change = 0;
  for (const e of events) {
    if (e.at <= cutoff) continue;
    if (direction === 'up' && e.to > e.from) change += e.to - e.from;
    if (direction === 'down' && e.to < e.from) change += e.from - e.to;
  }
  return change;
}

/**
 * The most replicas the scale-up policies allow now. Each policy counts from the replicas at the
 * start of its period (current − added + removed within it): Pods adds `value`, Percent multiplies
 * by 1 + value/100 rounded up (so that a small pool can grow at all). selectPolicy Max takes the
 * largest limit, Min the smallest, Disabled allows none.
 */
export function scaleUpLimit(current: number, events: readonly ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  let limit = rules.selectPolicy === 'Min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  for (const policy of rules.policies) {
    const periodStart = current - changeInPeriod(events, policy.periodSeconds, now, 'up') + changeInPeriod(events, policy.periodSeconds, now, 'down');
    const proposed = policy.type === 'Pods' ? periodStart + policy.value : roundUp(periodStart * (1 + policy.value / 100));
    limit = rules.selectPolicy === 'Min' ? Math.min(limit, proposed) : Math.max(limit, proposed);
  }
  return limit;
}

/**
 * The fewest replicas the scale-down policies allow now: Pods removes `value` from the period's
 * start, Percent keeps (1 − value/100) of it rounded down. selectPolicy Max takes the largest change
 * (the lowest count), Min the smallest change (the highest count), Disabled allows none.
 */
export function scaleDownLimit(current: number, events: readonly ScaleEvent[], rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  let limit = rules.selectPolicy === 'Min' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  for (const policy of rules.policies) {
    const periodStart = current - changeInPeriod(events, policy.periodSeconds, now, 'up') + changeInPeriod(events, policy.periodSeconds, now, 'down');
    const proposed = policy.type === 'Pods' ? periodStart - policy.value : roundDown(periodStart * (1 - policy.value / 100));
    limit = rules.selectPolicy === 'Min' ? Math.max(limit, proposed) : Math.min(limit, proposed);
  }
  return limit;
}

export interface RateLimited {
  readonly replicas: number;
  /** The limit that applied in the direction of the change; null when there was no change. */
  readonly limit: number | null;
}

/**
 * The stabilized count, held to what the rate policies allow: never past the limit, and never
 * beyond the current count the wrong way (a limit behind the current count, after recent changes,
 * means no further change until they leave the period).
 */
export function limitRate(current: number, desired: number, behavior: ScalingBehavior, events: readonly ScaleEvent[], now: number): RateLimited {
  if (desired > current) {
    const limit = Math.max(current, scaleUpLimit(current, events, behavior.scaleUp, now));
    return { replicas: Math.min(desired, limit), limit };
  }
  if (desired < current) {
    const limit = Math.min(current, scaleDownLimit(current, events, behavior.scaleDown, now));
    return { replicas: Math.max(desired, limit), limit };
  }
  return { replicas: current, limit: null };
}
