import type { ScalingPolicy } from '../../policies/domain/scaling-policy';

/**
 * What one pool's past evaluations leave for the next: the recommendations inside the stabilization
 * windows, the scale events inside the rate policies' periods, and the last scale event for the
 * cooldowns. Kubernetes keeps the same two lists per HPA in the controller's memory; here they are
 * state, carried from one decision to the next (and rebuilt from the recorded decisions).
 *
 * Bound: an entry leaves as soon as it is older than the longest window or period that could still
 * count it (Kubernetes' limits: 3600 s windows, 1800 s periods), so each list holds at most
 * window ÷ evaluation interval entries (240 at 15 s); MAX_HISTORY_ENTRIES caps it regardless of
 * how often evaluation runs, which keeps `evaluate` O(history) with a small constant.
 *
 * A scale event is recorded when the decision is taken, not when its saga ends, and it stays even if
 * the saga is denied by the budget or compensated. That is on purpose: Kubernetes retries a failed
 * scale every sync period, which here would mean a budget denial (with its alert) or a worker that
 * cannot start every 15 s; counted against the rate policies and cooldowns, a failed scale-up is
 * asked for again at the policy's pace instead.
 */
export interface ScalingHistory {
  /** Unstabilized recommendations, oldest first. */
  readonly recommendations: readonly TimestampedRecommendation[];
  /** Changes of the replica count, oldest first. */
  readonly scaleEvents: readonly ScaleEvent[];
  /** The latest change, kept whatever its age: cooldowns count from it. */
  readonly lastScale: ScaleEvent | null;
}

export interface TimestampedRecommendation {
  /** ms since the epoch */
  readonly at: number;
  readonly replicas: number;
}

export interface ScaleEvent {
  /** ms since the epoch */
  readonly at: number;
  readonly from: number;
  readonly to: number;
}

export const MAX_HISTORY_ENTRIES = 512;

export const EMPTY_HISTORY: ScalingHistory = { recommendations: [], scaleEvents: [], lastScale: null };

/**
 * The history of a pool the scaler starts to manage: its current size as the first recommendation,
 * as Kubernetes records when it first sees an HPA, so that no scale-down follows within the window.
 */
export function initialHistory(currentReplicas: number, now: number): ScalingHistory {
  return { recommendations: [{ at: now, replicas: currentReplicas }], scaleEvents: [], lastScale: null };
}

/** What one evaluation adds: its recommendation (when the metrics gave one) and the change it made. */
export interface HistoryEntry {
  readonly recommendation: TimestampedRecommendation | null;
  readonly scaleEvent: ScaleEvent | null;
}

/** The history with `entry` added and whatever no window or period of `policy` can count at `now` dropped. */
export function recordInHistory(history: ScalingHistory, policy: ScalingPolicy, now: number, entry: HistoryEntry): ScalingHistory {
  const { scaleUp, scaleDown } = policy.behavior;
  const windowMs = Math.max(scaleUp.stabilizationWindowSeconds, scaleDown.stabilizationWindowSeconds) * 1000;
  let periodMs = 0;
  for (const p of scaleUp.policies) periodMs = Math.max(periodMs, p.periodSeconds * 1000);
  for (const p of scaleDown.policies) periodMs = Math.max(periodMs, p.periodSeconds * 1000);
  return {
    recommendations: keep(history.recommendations, entry.recommendation, now - windowMs),
    scaleEvents: keep(history.scaleEvents, entry.scaleEvent, now - periodMs),
    lastScale: entry.scaleEvent ?? history.lastScale,
  };
}

/** Entries after `cutoff` (a window counts only those strictly after its start), plus the new one, capped. */
function keep<T extends { readonly at: number }>(entries: readonly T[], added: T | null, cutoff: number): readonly T[] {
  let first = 0;
  while (first < entries.length && entries[first].at <= cutoff) first++;
  const total = entries.length - first + (added ? 1 : 0);
  if (total > MAX_HISTORY_ENTRIES) first += total - MAX_HISTORY_ENTRIES;
  if (first === 0 && !added) return entries;
  const kept = entries.slice(first);
  if (added && added.at > cutoff) kept.push(added);
  return kept;
}
