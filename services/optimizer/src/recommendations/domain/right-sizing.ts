/**
 * Right-sizing in the manner of Kubernetes' Vertical Pod Autoscaler: usage samples weighted so that
 * old usage counts less (exponential decay with a half-life), a target at a high percentile plus a
 * safety margin, bounds around it, and a confidence that grows with how long and how much was
 * observed. The bounds widen while confidence is low, so that a pool seen for an hour is not cut to
 * what that hour needed.
 */
export interface UsageSample {
  /** When it was observed (ms since the epoch). */
  readonly at: number;
  /** What was used: cores, bytes, busy slots… one unit per estimate. */
  readonly value: number;
}

export interface RightSizingPolicy {
  /** Percentile the target sits at; 0.9 (p90). */
  readonly targetPercentile: number;
  /** Added on top of each percentile; 0.15 (15 %). */
  readonly margin: number;
  /** Age at which a sample counts half; one day. */
  readonly halfLifeMs: number;
  /** Observed span and sample count at which confidence is full; 7 days and 100 samples. */
  readonly fullConfidenceSpanMs: number;
  readonly fullConfidenceSamples: number;
}

export const DEFAULT_RIGHT_SIZING: RightSizingPolicy = {
  targetPercentile: 0.9,
  margin: 0.15,
  halfLifeMs: 86_400_000,
  fullConfidenceSpanMs: 7 * 86_400_000,
  fullConfidenceSamples: 100,
};

export interface RightSizingEstimate {
  /** p90 × (1 + margin). */
  readonly target: number;
  /** p50 × (1 + margin): below it, half the observed time would not fit. */
  readonly lowerBound: number;
  /** p95 × (1 + margin) × (2 − confidence): as wide as twice the p95 while nothing is known. */
  readonly upperBound: number;
  /** 0–1: the smaller of span observed / full span and samples / full count. */
  readonly confidence: number;
  readonly samples: number;
}

/** The estimate from `samples` as seen at `now`; null without samples. */
export function estimateRightSize(samples: readonly UsageSample[], now: number, policy: RightSizingPolicy = DEFAULT_RIGHT_SIZING): RightSizingEstimate | null {
  const usable = samples.filter((s) => Number.isFinite(s.value) && s.value >= 0 && s.at <= now);
  if (usable.length === 0) return null;
  const weighted = usable.map((s) => ({ value: s.value, weight: Math.pow(0.5, (now - s.at) / policy.halfLifeMs) })).sort((a, b) => a.value - b.value);
  const withMargin = (p: number) => weightedPercentile(weighted, p) * (1 + policy.margin);
  const oldest = Math.min(...usable.map((s) => s.at));
  const confidence = Math.min(1, (now - oldest) / policy.fullConfidenceSpanMs, usable.length / policy.fullConfidenceSamples);
  return {
    target: withMargin(policy.targetPercentile),
    lowerBound: withMargin(0.5),
    upperBound: withMargin(0.95) * (2 - confidence),
    confidence,
    samples: usable.length,
  };
}

/** The smallest value whose cumulative weight reaches `p` of the total (values sorted ascending). */
export function weightedPercentile(sorted: readonly { readonly value: number; readonly weight: number }[], p: number): number {
  const total = sorted.reduce((sum, s) => sum + s.weight, 0);
  let cumulative = 0;
  for (const s of sorted) {
    cumulative += s.weight;
    // A relative tolerance: summed float weights must not miss a boundary they reach exactly.
    if (cumulative >= p * total * (1 - 1e-12)) return s.value;
  }
  return sorted[sorted.length - 1].value;
}
