import { assertNever } from '@flotilla/domain';
import { METRIC_INFO, type ScalingMetric } from '../../policies/domain/scaling-metrics';
import type { MetricTarget } from '../../policies/domain/scaling-policy';
import { observed, type PoolSnapshot } from './pool-snapshot';

/**
 * Kubernetes' HPA replica calculation, one metric at a time (pkg/controller/podautoscaler/
 * replica_calculator.go, and the "Algorithm details" of the HPA documentation):
 *
 * - desired = ⌈current × value / target⌉; no change while the ratio is within the tolerance.
 * - Workers that did not report ("missing pods") count as using 0 on a scale-up and exactly the
 *   target on a scale-down; if that moves the ratio back into the tolerance, or reverses the
 *   direction, the metric proposes no change.
 * - With several metrics the largest proposal wins; a metric that cannot be computed does not stop a
 *   scale-up the others propose, but it does stop a scale-down (horizontal.go,
 *   computeReplicasForMetrics), and with no metric at all nothing changes.
 */

export interface Tolerances {
  readonly scaleUp: number;
  readonly scaleDown: number;
}

/** Kubernetes' Tolerances.isWithin: no change while 1 − scaleDown ≤ ratio ≤ 1 + scaleUp. */
export function isWithinTolerance(ratio: number, tolerances: Tolerances): boolean {
  return 1 - tolerances.scaleDown <= ratio && ratio <= 1 + tolerances.scaleUp;
}

/**
 * Rounding of replica counts computed in floating point, guarded against its noise: 0.7 / 0.5 × 5 is
 * 7.000000000000001 in float64 and must stay 7 (Kubernetes rounds the raw float).
 */
const EPSILON = 1e-9;
// `+ 0` turns the -0 of ⌈0 − ε⌉ into 0.
export const roundUp = (x: number): number => Math.ceil(x - EPSILON) + 0;
export const roundDown = (x: number): number => Math.floor(x + EPSILON) + 0;

/**
 * `computed`: the ratio formula's answer (which may equal the current count); `within_tolerance` and
 * `direction_reversed`: the current count, by HPA's rules; `unavailable`: the metric could not be computed.
 */
export type ProposalOutcome = 'computed' | 'within_tolerance' | 'direction_reversed' | 'unavailable';

export interface MetricProposal {
  readonly metric: ScalingMetric;
  readonly target: number;
  /** The snapshot's figure (see `observed`): a total, a per-worker average or the pool's value. */
  readonly observed: number | null;
  /** value / target per worker, after assuming values for missing workers; null when undefined. */
  readonly usageRatio: number | null;
  /** Null when unavailable. */
  readonly replicas: number | null;
  readonly outcome: ProposalOutcome;
  readonly note: string | null;
}

/** One metric's proposal for a pool at `currentReplicas`. */
export function proposeForMetric(spec: MetricTarget, snapshot: PoolSnapshot, currentReplicas: number, tolerances: Tolerances): MetricProposal {
  const value = observed(snapshot, spec.metric);
  const base = { metric: spec.metric, target: spec.target, observed: value };
  if (value === null) return { ...base, usageRatio: null, replicas: null, outcome: 'unavailable', note: 'not in the snapshot' };
  const kind = METRIC_INFO[spec.metric].kind;
  switch (kind) {
    case 'per_worker_total':
      return { ...base, ...perWorkerTotal(value, spec.target, currentReplicas, tolerances) };
    case 'per_worker_average':
      return { ...base, ...perWorkerAverage(value, spec.target, snapshot.reportingWorkers, currentReplicas, tolerances) };
    case 'pool_value':
      return { ...base, ...poolValue(value, spec.target, currentReplicas, tolerances) };
    default:
      return assertNever(kind, 'metric kind');
  }
}

type Computed = Pick<MetricProposal, 'usageRatio' | 'replicas' | 'outcome' | 'note'>;

/** External metric, AverageValue target (GetExternalPerPodMetricReplicas): ⌈total / target⌉. */
function perWorkerTotal(total: number, target: number, current: number, tolerances: Tolerances): Computed {
  // With no worker the ratio is undefined: size from the total alone, as Kubernetes does for zero replicas.
  if (current === 0) return { usageRatio: null, replicas: roundUp(total / target), outcome: 'computed', note: 'no worker: ⌈total / target⌉' };
  const usageRatio = total / (target * current);
  if (isWithinTolerance(usageRatio, tolerances)) return { usageRatio, replicas: current, outcome: 'within_tolerance', note: null };
  return { usageRatio, replicas: roundUp(total / target), outcome: 'computed', note: null };
}

/** Pods / Resource metric (calcPlainMetricReplicas): an average over the workers that reported. */
function perWorkerAverage(average: number, target: number, reporting: number, current: number, tolerances: Tolerances): Computed {
  if (reporting <= 0) return { usageRatio: null, replicas: null, outcome: 'unavailable', note: 'no worker reported' };
  const usageRatio = average / target;
  const missing = Math.max(0, current - reporting);
  if (missing === 0) {
    if (isWithinTolerance(usageRatio, tolerances)) return { usageRatio, replicas: current, outcome: 'within_tolerance', note: null };
    return { usageRatio, replicas: roundUp(usageRatio * reporting), outcome: 'computed', note: null };
  }
  // Missing workers: at the target when the reported ones propose a scale-down, at 0 when a scale-up.
  const assumed = usageRatio < 1 ? target : 0;
  const note = `${missing} of ${current} workers did not report: assumed at ${assumed === 0 ? '0' : 'the target'}`;
  const newRatio = (average * reporting + assumed * missing) / (target * (reporting + missing));
  const reversed = (usageRatio < 1 && newRatio > 1) || (usageRatio > 1 && newRatio < 1);
  if (isWithinTolerance(newRatio, tolerances)) return { usageRatio: newRatio, replicas: current, outcome: 'within_tolerance', note };
  if (reversed) return { usageRatio: newRatio, replicas: current, outcome: 'direction_reversed', note };
  const replicas = roundUp(newRatio * (reporting + missing));
  if ((newRatio < 1 && replicas > current) || (newRatio > 1 && replicas < current)) {
    return { usageRatio: newRatio, replicas: current, outcome: 'direction_reversed', note };
  }
  return { usageRatio: newRatio, replicas, outcome: 'computed', note };
}

/** Object metric, Value target (GetObjectMetricReplicas): ⌈current × value / target⌉; ⌈ratio⌉ from zero. */
function poolValue(value: number, target: number, current: number, tolerances: Tolerances): Computed {
  const usageRatio = value / target;
  if (current === 0) return { usageRatio, replicas: roundUp(usageRatio), outcome: 'computed', note: 'no worker: ⌈value / target⌉' };
  if (isWithinTolerance(usageRatio, tolerances)) return { usageRatio, replicas: current, outcome: 'within_tolerance', note: null };
  return { usageRatio, replicas: roundUp(usageRatio * current), outcome: 'computed', note: null };
}

/** One source's proposal for the combination: a metric, the weighted score, or queue-aware sizing. */
export interface SourceProposal {
  readonly source: string;
  readonly replicas: number | null;
}

/** The pool's recommendation before stabilization and limits; null replicas when the metrics allow no decision. */
export type Recommendation =
  | { readonly replicas: number; readonly source: string; readonly note: string }
  | { readonly replicas: null; readonly source: null; readonly note: string };

/** HPA's combination: the largest proposal; none without any, and no scale-down while any is unavailable. */
export function combineByMax(proposals: readonly SourceProposal[], currentReplicas: number): Recommendation {
  let replicas: number | null = null;
  let source: string | null = null;
  const unavailable: string[] = [];
  for (const p of proposals) {
    if (p.replicas === null) unavailable.push(p.source);
    else if (replicas === null || p.replicas > replicas) {
      replicas = p.replicas;
      source = p.source;
    }
  }
  if (replicas === null || source === null) return { replicas: null, source: null, note: `no metric could be computed (${unavailable.join(', ') || 'none configured'})` };
  if (unavailable.length > 0 && replicas < currentReplicas) {
    return { replicas: null, source: null, note: `scale-down to ${replicas} held: ${unavailable.join(', ')} unavailable, and HPA scales down only when every metric is known` };
  }
  const also = unavailable.length > 0 ? ` (${unavailable.join(', ')} unavailable)` : '';
  return { replicas, source, note: `${source} proposes the most${also}` };
}
