/**
 * Window arithmetic of a pool's metrics (pure): what happened to one agent type's attempts between
 * two reports, turned into the rates, percentiles and utilization of PoolMetricsReported.
 */

/** An attempt's hold on a task slot; `finishedAt` is null while it still runs. */
export interface SlotSpan {
  readonly startedAt: number;
  readonly finishedAt: number | null;
}

/** The bulkhead's limit from `at` on. */
export interface LimitChange {
  readonly at: number;
  readonly limit: number;
}

export interface FinishedAttempt {
  /** From taking the dispatch off Kafka to the recorded outcome: local queue wait plus run time. */
  readonly latencyMs: number;
  readonly ok: boolean;
}

export interface WindowInput {
  readonly startedAt: number;
  readonly endedAt: number;
  /** Dispatches taken off the pool's topic in the window. */
  readonly arrivals: number;
  readonly finished: readonly FinishedAttempt[];
  readonly busySlotMs: number;
  readonly availableSlotMs: number;
}

export interface WindowSummary {
  readonly utilization: number;
  readonly arrivalRatePerSec: number;
  readonly completionRatePerSec: number;
  readonly errorRate: number;
  readonly latencyP50Ms: number | null;
  readonly latencyP95Ms: number | null;
}

export function summarizeWindow(input: WindowInput): WindowSummary {
  const seconds = Math.max(1, input.endedAt - input.startedAt) / 1000;
  const failed = input.finished.filter((f) => !f.ok).length;
  const latencies = input.finished.map((f) => f.latencyMs).sort((a, b) => a - b);
  return {
    utilization: input.availableSlotMs > 0 ? clamp01(input.busySlotMs / input.availableSlotMs) : 0,
    arrivalRatePerSec: input.arrivals / seconds,
    completionRatePerSec: input.finished.length / seconds,
    errorRate: input.finished.length > 0 ? failed / input.finished.length : 0,
    latencyP50Ms: percentile(latencies, 50),
    latencyP95Ms: percentile(latencies, 95),
  };
}

/** Nearest-rank percentile of ascending values; null when there are none. */
export function percentile(ascending: readonly number[], p: number): number | null {
  if (ascending.length === 0) return null;
  const rank = Math.ceil((p / 100) * ascending.length);
  return ascending[Math.min(ascending.length, Math.max(1, rank)) - 1];
}

/** Slot-time the spans held inside [from, to): each span counts only its overlap with the window. */
export function busySlotMs(spans: readonly SlotSpan[], from: number, to: number): number {
  let total = 0;
  for (const span of spans) {
    const start = Math.max(from, span.startedAt);
    const end = Math.min(to, span.finishedAt ?? to);
    if (end > start) total += end - start;
  }
  return total;
}

/**
 * Slot-time the bulkhead offered inside [from, to): the limit integrated over time, since a capacity
 * command may change it mid-window. `limitAtFrom` holds until the first change.
 */
export function availableSlotMs(limitAtFrom: number, changes: readonly LimitChange[], from: number, to: number): number {
  let total = 0;
  let limit = limitAtFrom;
  let since = from;
  for (const change of [...changes].sort((a, b) => a.at - b.at)) {
    if (change.at <= from) {
      limit = change.limit;
      continue;
    }
    if (change.at >= to) break;
    total += limit * (change.at - since);
    since = change.at;
    limit = change.limit;
  }
  return total + limit * Math.max(0, to - since);
}

/**
 * Splits what the process as a whole used among its pools, in proportion to each pool's busy
 * slot-time (equally when all were idle): in-process executors share one Node process, so its CPU
 * and memory cannot be measured per pool, only attributed. The shares sum to 1.
 */
export function processShares(busyByPool: Readonly<Record<string, number>>): Record<string, number> {
  const pools = Object.keys(busyByPool);
  const total = pools.reduce((sum, p) => sum + Math.max(0, busyByPool[p]), 0);
  return Object.fromEntries(pools.map((p) => [p, total > 0 ? Math.max(0, busyByPool[p]) / total : 1 / pools.length]));
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}
