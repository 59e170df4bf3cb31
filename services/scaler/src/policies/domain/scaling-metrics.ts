/**
 * The metrics a scaling policy may name, where each comes from in a pool's snapshot, and how a value
 * turns into a replica count. The three kinds follow HPA v2's metric source types:
 *
 * - `per_worker_total` (an External metric with an AverageValue target): the snapshot holds a
 *   pool-wide total and the target is per worker, so desired = ⌈total / target⌉.
 * - `per_worker_average` (a Pods or Resource metric): the snapshot holds the average over the workers
 *   that reported; workers that did not report are "missing pods" (HPA's missing-metric rules).
 * - `pool_value` (an Object metric with a Value target): one value for the whole pool;
 *   desired = ⌈current × value / target⌉.
 */
export const SCALING_METRICS = ['backlog_per_worker', 'utilization', 'latency_p95', 'error_rate', 'arrival_rate', 'cpu', 'memory'] as const;

export type ScalingMetric = (typeof SCALING_METRICS)[number];

export type MetricKind = 'per_worker_total' | 'per_worker_average' | 'pool_value';

export interface MetricInfo {
  readonly kind: MetricKind;
  /** Unit of the metric's target (and capacity). */
  readonly unit: string;
  /** A fraction 0..1: its target and capacity may not exceed 1. */
  readonly fraction: boolean;
  /**
   * What counts as full (1.0) in the weighted score when the policy names no capacity; null when
   * there is no natural full value and the policy must name one. Seeds' normalisation: CPU / 100 %,
   * response time / 5000 ms, error rate / 10 %.
   */
  readonly defaultCapacity: number | null;
  /** True when the metric can see demand while the pool has no worker (what scaling from zero needs). */
  readonly seesDemandAtZero: boolean;
}

export const METRIC_INFO: Readonly<Record<ScalingMetric, MetricInfo>> = {
  backlog_per_worker: { kind: 'per_worker_total', unit: 'tasks per worker (consumer lag plus local queue)', fraction: false, defaultCapacity: null, seesDemandAtZero: true },
  arrival_rate: { kind: 'per_worker_total', unit: 'tasks per second per worker', fraction: false, defaultCapacity: null, seesDemandAtZero: true },
  utilization: { kind: 'per_worker_average', unit: 'busy slot-time / available slot-time, 0..1', fraction: true, defaultCapacity: 1, seesDemandAtZero: false },
  cpu: { kind: 'per_worker_average', unit: 'percent of one core per worker', fraction: false, defaultCapacity: 100, seesDemandAtZero: false },
  memory: { kind: 'per_worker_average', unit: 'MiB resident per worker', fraction: false, defaultCapacity: null, seesDemandAtZero: false },
  latency_p95: { kind: 'pool_value', unit: 'ms, p95 from dispatch taken to outcome', fraction: false, defaultCapacity: 5000, seesDemandAtZero: false },
  error_rate: { kind: 'pool_value', unit: 'failed / finished attempts, 0..1', fraction: true, defaultCapacity: 0.1, seesDemandAtZero: false },
};
