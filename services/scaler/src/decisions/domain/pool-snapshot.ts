import { assertNever } from '@flotilla/domain';
import type { ScalingMetric } from '../../policies/domain/scaling-metrics';

/**
 * What the scaler knows about one pool when it evaluates: the instances' latest PoolMetricsReported
 * aggregated, plus the consumer lag of the pool's dispatch topic. Any figure may be missing (null):
 * no instance reported it, or the lag could not be read. The decision records it whole.
 *
 * Aggregation (outside this module) must count the topic's lag once: each instance's report already
 * includes the lag it saw in its `backlog`.
 */
export interface PoolSnapshot {
  readonly agentType: string;
  /** When the newest report in it was made (ms since the epoch). */
  readonly observedAt: number;
  /** Task slots per worker (replica). */
  readonly slotsPerWorker: number;
  /**
   * Partitions of the pool's dispatch topic. Each worker takes only from the partitions the consumer
   * group gives it, so the pool is that many queues, not one; absent or null when unknown (sized as
   * one queue then).
   */
  readonly partitions?: number | null;
  /** Workers the reports account for; fewer than the current replicas means some did not report. */
  readonly reportingWorkers: number;
  /** Tasks not started: the dispatch topic's consumer lag plus tasks waiting locally for a slot. */
  readonly backlog: number | null;
  readonly inFlight: number | null;
  /** Busy slot-time / available slot-time of the reporting workers over the window, 0..1. */
  readonly utilization: number | null;
  /** Dispatches taken per second, the whole pool. */
  readonly arrivalRatePerSec: number | null;
  readonly completionRatePerSec: number | null;
  /** Failed / finished attempts, 0..1. */
  readonly errorRate: number | null;
  /** p95 of dispatch-taken-to-outcome, the whole pool. */
  readonly latencyP95Ms: number | null;
  /** Mean time a task holds a slot (see meanServiceTimeMs in queue-aware.ts for how to derive it). */
  readonly meanServiceTimeMs: number | null;
  /** Average over reporting workers: percent of one core. */
  readonly cpuPercentPerWorker: number | null;
  /** Average over reporting workers: resident memory in MiB. */
  readonly memoryMibPerWorker: number | null;
}

/** A pool the scaler knows nothing of yet but its name, slots and (maybe) backlog: every other figure missing. */
export function unknownSnapshot(agentType: string, observedAt: number, slotsPerWorker: number, backlog: number | null = null): PoolSnapshot {
  return {
    agentType,
    observedAt,
    slotsPerWorker,
    reportingWorkers: 0,
    backlog,
    inFlight: null,
    utilization: null,
    arrivalRatePerSec: null,
    completionRatePerSec: null,
    errorRate: null,
    latencyP95Ms: null,
    meanServiceTimeMs: null,
    cpuPercentPerWorker: null,
    memoryMibPerWorker: null,
  };
}

/**
 * The snapshot's figure for a metric: a pool-wide total for backlog and arrival rate, an average
 * over the reporting workers for utilization, CPU and memory, the pool's value for latency and errors.
 */
export function observed(snapshot: PoolSnapshot, metric: ScalingMetric): number | null {
  switch (metric) {
    case 'backlog_per_worker':
      return finiteOrNull(snapshot.backlog);
    case 'arrival_rate':
      return finiteOrNull(snapshot.arrivalRatePerSec);
    case 'utilization':
      return finiteOrNull(snapshot.utilization);
    case 'cpu':
      return finiteOrNull(snapshot.cpuPercentPerWorker);
    case 'memory':
      return finiteOrNull(snapshot.memoryMibPerWorker);
    case 'latency_p95':
      return finiteOrNull(snapshot.latencyP95Ms);
    case 'error_rate':
      return finiteOrNull(snapshot.errorRate);
    default:
      return assertNever(metric, 'metric');
  }
}

function finiteOrNull(value: number | null): number | null {
  return value !== null && Number.isFinite(value) && value >= 0 ? value : null;
}
