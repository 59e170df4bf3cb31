import { METRIC_INFO, type ScalingMetric } from '../../policies/domain/scaling-metrics';
import type { CombineRule, MetricTarget } from '../../policies/domain/scaling-policy';
import { roundUp } from './hpa';
import { observed, type PoolSnapshot } from './pool-snapshot';

/**
 * The seeds' weighted score: each metric as a fraction of its capacity (per worker where the metric
 * is per worker), clamped to 0..1, averaged with the policy's weights:
 *
 *   score = Σ(normalised × weight) / Σ weight;  scale_up above scaleUpThreshold, scale_down below scaleDownThreshold.
 *
 * The seeds stop at the direction. The size is HPA's ratio formula applied to the score, with the
 * band between the thresholds as its tolerance: desired = ⌈current × score / targetScore⌉, which
 * puts the score back at targetScore if load spreads evenly over the workers (the per-worker terms
 * do; latency and errors only roughly). From zero workers, ⌈score / targetScore⌉.
 *
 * HPA's missing-metric rules carry over: a missing metric counts 0 (so a scale-up it shows is, if
 * anything, understated), and a scale-down waits until every metric is known and every worker reported.
 */

export type WeightedRule = Extract<CombineRule, { mode: 'weighted' }>;

export interface ScoreTerm {
  readonly metric: ScalingMetric;
  readonly weight: number;
  readonly capacity: number;
  /** Per worker for backlog and arrival rate (the pool-wide total when no worker runs), else the snapshot's figure. */
  readonly value: number | null;
  /** value / capacity within 0..1; null when missing (it counts as 0). */
  readonly normalised: number | null;
}

export type ScoreSignal = 'scale_up' | 'scale_down' | 'no_change';

export interface WeightedScore {
  readonly score: number;
  readonly terms: readonly ScoreTerm[];
  readonly signal: ScoreSignal;
  /** The score's proposal; null when no metric is known or a scale-down waits for missing figures. */
  readonly replicas: number | null;
  readonly note: string;
}

export function weightedScore(metrics: readonly MetricTarget[], rule: WeightedRule, snapshot: PoolSnapshot, currentReplicas: number): WeightedScore {
  const terms: ScoreTerm[] = [];
  let weighted = 0;
  let totalWeight = 0;
  let missing = 0;
  let partial = false;
  for (const m of metrics) {
    const info = METRIC_INFO[m.metric];
    const capacity = m.capacity ?? info.defaultCapacity ?? 1;
    const figure = observed(snapshot, m.metric);
    let value: number | null = figure;
    let normalised: number | null = null;
    if (figure !== null && info.kind === 'per_worker_total') {
      value = currentReplicas > 0 ? figure / currentReplicas : figure;
      normalised = currentReplicas > 0 ? clamp01(value / capacity) : figure > 0 ? 1 : 0;
    } else if (figure !== null) {
      normalised = clamp01(figure / capacity);
      if (info.kind === 'per_worker_average' && snapshot.reportingWorkers < currentReplicas) partial = true;
    }
    if (normalised === null) missing++;
    terms.push({ metric: m.metric, weight: m.weight, capacity, value, normalised });
    weighted += (normalised ?? 0) * m.weight;
    totalWeight += m.weight;
  }
  const score = totalWeight > 0 ? weighted / totalWeight : 0;
  const signal: ScoreSignal = score > rule.scaleUpThreshold ? 'scale_up' : score < rule.scaleDownThreshold ? 'scale_down' : 'no_change';
  const band = `score ${score.toFixed(3)} against ${rule.scaleDownThreshold}..${rule.scaleUpThreshold}`;
  if (missing === metrics.length) return { score, terms, signal, replicas: null, note: 'no metric of the score is in the snapshot' };
  if (signal === 'no_change') return { score, terms, signal, replicas: currentReplicas, note: `${band}: within the band` };
  if (signal === 'scale_down' && (missing > 0 || partial)) {
    const why = missing > 0 ? `${missing} metric(s) missing` : `only ${snapshot.reportingWorkers} of ${currentReplicas} workers reported`;
    return { score, terms, signal, replicas: null, note: `${band}: scale-down held, ${why}` };
  }
  const replicas = currentReplicas === 0 ? roundUp(score / rule.targetScore) : roundUp((currentReplicas * score) / rule.targetScore);
  return { score, terms, signal, replicas, note: `${band}: sized to land at ${rule.targetScore}` };
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}
