import type { WorkerTimeline } from './pool-simulation';
import type { Trace } from './trace';

/**
 * The figures of one replay, over the trace's measured part [measure_from_ms, end_ms]:
 *
 * - SLO-violation seconds: how long, in total, some task had been waiting for a slot longer than the
 *   SLO's target: the union over tasks of [arrival + target, start].
 * - p95 queue wait: of the tasks that arrived in the measured part (nearest rank).
 * - worker-seconds: workers paid for (starting, ready or draining), integrated over the measured part.
 * - time to capacity after a step: from the step until the ready slots first run the new load at
 *   ≤ 90 % utilization (ready slots × 0.9 ≥ rate after × mean service time); the mean over the
 *   trace's steps, null when the trace names none, Infinity when capacity was never reached.
 * - scale actions: evaluations in the measured part that changed the replicas.
 */
export interface Figures {
  readonly violationSeconds: number;
  readonly p95WaitMs: number;
  readonly meanWaitMs: number;
  readonly workerSeconds: number;
  readonly timeToCapacitySeconds: number | null;
  readonly scaleActions: number;
  readonly tasks: number;
}

/** Capacity after a step: the new load at no more than this utilization of the ready slots. */
export const CAPACITY_UTILIZATION = 0.9;

export interface MeasureInput {
  readonly trace: Trace;
  readonly serviceMs: Float64Array;
  /** When each task started; NaN if it never did. */
  readonly startAt: Float64Array;
  readonly timeline: WorkerTimeline;
  readonly slotsPerWorker: number;
  readonly sloWaitMs: number;
  readonly scaleActions: number;
  /** When the replay stopped. */
  readonly endedAt: number;
}

export function measure(input: MeasureInput): Figures {
  const { trace, startAt, sloWaitMs } = input;
  const from = trace.measureFromMs;
  const arrivals = trace.arrivalsMs;
  const waits: number[] = [];
  let violationMs = 0;
  let coveredUntil = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < arrivals.length; i++) {
    // A task that never started waited until the replay ended.
    const started = Number.isNaN(startAt[i]) ? input.endedAt : startAt[i];
    if (arrivals[i] >= from) waits.push(started - arrivals[i]);
    // Arrivals ascend, so the intervals' starts do too: the union is one sweep.
    const begin = Math.max(arrivals[i] + sloWaitMs, from, coveredUntil);
    if (started > begin) violationMs += started - begin;
    coveredUntil = Math.max(coveredUntil, started);
  }
  waits.sort((a, b) => a - b);
  return {
    violationSeconds: violationMs / 1000,
    p95WaitMs: nearestRank(waits, 95),
    meanWaitMs: waits.length > 0 ? waits.reduce((a, b) => a + b, 0) / waits.length : 0,
    workerSeconds: integrate(input.timeline.at, input.timeline.provisioned, from, trace.endMs) / 1000,
    timeToCapacitySeconds: timeToCapacity(input),
    scaleActions: input.scaleActions,
    tasks: waits.length,
  };
}

function timeToCapacity({ trace, serviceMs, timeline, slotsPerWorker }: MeasureInput): number | null {
  if (trace.steps.length === 0) return null;
  let meanServiceMs = 0;
  for (const s of serviceMs) meanServiceMs += s / serviceMs.length;
  const times = trace.steps.map((step) => {
    const neededSlots = (step.ratePerSec * meanServiceMs) / 1000 / CAPACITY_UTILIZATION;
    const reachedAt = firstAtOrAfter(timeline, step.atMs, (ready) => ready * slotsPerWorker >= neededSlots);
    return reachedAt === null ? Number.POSITIVE_INFINITY : (reachedAt - step.atMs) / 1000;
  });
  return times.reduce((a, b) => a + b, 0) / times.length;
}

/** The first time at or after `from` at which the ready workers satisfy `enough`; null if never. */
function firstAtOrAfter(timeline: WorkerTimeline, from: number, enough: (ready: number) => boolean): number | null {
  const { at, ready } = timeline;
  for (let i = 0; i < at.length; i++) {
    const until = i + 1 < at.length ? at[i + 1] : Number.POSITIVE_INFINITY;
    if (until <= from) continue;
    if (enough(ready[i])) return Math.max(at[i], from);
  }
  return null;
}

/** ∫ value dt over [from, to] of a step function that holds `values[i]` from `at[i]` on. */
export function integrate(at: readonly number[], values: readonly number[], from: number, to: number): number {
  let total = 0;
  for (let i = 0; i < at.length; i++) {
    const start = Math.max(at[i], from);
    const end = Math.min(i + 1 < at.length ? at[i + 1] : Number.POSITIVE_INFINITY, to);
    if (end > start) total += values[i] * (end - start);
  }
  return total;
}

export function nearestRank(ascending: readonly number[], p: number): number {
  if (ascending.length === 0) return 0;
  return ascending[Math.min(ascending.length, Math.max(1, Math.ceil((p / 100) * ascending.length))) - 1];
}
