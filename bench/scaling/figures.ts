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
 * - waiting beside a free slot: how long some task waited while a ready slot was free (idleWhileWaiting;
 *   never with one shared queue, often with partitions).
 */
export interface Figures {
  readonly violationSeconds: number;
  readonly p95WaitMs: number;
  readonly meanWaitMs: number;
  readonly workerSeconds: number;
  readonly timeToCapacitySeconds: number | null;
  readonly scaleActions: number;
  readonly idleWhileWaitingSeconds: number;
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
    idleWhileWaitingSeconds:
      idleWhileWaiting(
        { arrivals: [...arrivals], starts: [...startAt], finishes: Array.from(startAt, (s, i) => s + input.serviceMs[i]), timeline: input.timeline, slotsPerWorker: input.slotsPerWorker },
        from,
        trace.endMs,
      ).totalMs / 1000,
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

/**
 * Time in [fromMs, toMs] during which some task waited while the pool had a free ready slot (ready
 * workers × slots above the tasks running): time a work-conserving pool, one FIFO queue over every
 * slot as the simulation has, would not have spent. Conservative: a task still running on a draining
 * worker counts against the ready slots. Times relative to any common origin.
 */
export function idleWhileWaiting(
  input: { readonly arrivals: readonly number[]; readonly starts: readonly number[]; readonly finishes: readonly number[]; readonly timeline: WorkerTimeline; readonly slotsPerWorker: number },
  fromMs: number,
  toMs: number,
): { readonly totalMs: number; readonly longest: readonly { readonly at: number; readonly ms: number }[] } {
  const points: { at: number; waiting: number; running: number; readySlots: number | null }[] = [];
  for (const a of input.arrivals) points.push({ at: a, waiting: 1, running: 0, readySlots: null });
  for (const s of input.starts) if (Number.isFinite(s)) points.push({ at: s, waiting: -1, running: 1, readySlots: null });
  for (const f of input.finishes) if (Number.isFinite(f)) points.push({ at: f, waiting: 0, running: -1, readySlots: null });
  input.timeline.at.forEach((at, i) => points.push({ at, waiting: 0, running: 0, readySlots: input.timeline.ready[i] * input.slotsPerWorker }));
  points.sort((a, b) => a.at - b.at);
  let waiting = 0;
  let running = 0;
  let readySlots = 0;
  let totalMs = 0;
  const stretches: { at: number; ms: number }[] = [];
  let openAt: number | null = null;
  const close = (at: number) => {
    if (openAt === null) return;
    const start = Math.max(openAt, fromMs);
    const end = Math.min(at, toMs);
    if (end > start) {
      totalMs += end - start;
      stretches.push({ at: start, ms: end - start });
    }
    openAt = null;
  };
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    waiting += p.waiting;
    running += p.running;
    if (p.readySlots !== null) readySlots = p.readySlots;
    if (i + 1 < points.length && points[i + 1].at === p.at) continue;
    const idle = waiting > 0 && readySlots - running > 0;
    if (idle && openAt === null) openAt = p.at;
    else if (!idle) close(p.at);
  }
  close(toMs);
  stretches.sort((a, b) => b.ms - a.ms);
  return { totalMs, longest: stretches.slice(0, 5) };
}
