import { estimateRightSize, DEFAULT_RIGHT_SIZING, type RightSizingPolicy, type UsageSample } from './right-sizing';
import type { PoolSample } from './over-provisioning';

/**
 * When a pool could run smaller: its busy slots per hour of the day (UTC), over the days observed,
 * sized like a whole pool (p90 + margin, in whole workers). Consecutive hours that need fewer workers
 * than the pool runs now form a window; the longest one is the hint, with its saving at the
 * worker-hour price over a month of such days.
 */
export interface ScheduleHint {
  readonly agentType: string;
  /** UTC hours [fromHour, toHour), toHour may be 24. */
  readonly fromHour: number;
  readonly toHour: number;
  readonly currentWorkers: number;
  readonly workersInWindow: number;
  readonly estimatedMonthlySavingMicros: number;
  /** Days that had samples in every hour of the window: the hint's evidence. */
  readonly daysObserved: number;
  readonly summary: string;
}

export interface ScheduleHintPolicy {
  /** Days with samples needed before a daily pattern says anything; 3. */
  readonly minDays: number;
  /** Shortest window worth a schedule; 3 hours. */
  readonly minHours: number;
  readonly rightSizing: RightSizingPolicy;
}

export const DEFAULT_SCHEDULE_HINTS: ScheduleHintPolicy = { minDays: 3, minHours: 3, rightSizing: { ...DEFAULT_RIGHT_SIZING, halfLifeMs: 7 * 86_400_000 } };

const HOUR = 3_600_000;
const DAYS_PER_MONTH = 30.4;

export function scheduleHint(agentType: string, samples: readonly PoolSample[], now: number, workerHourMicros: number, policy: ScheduleHintPolicy = DEFAULT_SCHEDULE_HINTS): ScheduleHint | null {
  if (samples.length === 0) return null;
  const { currentWorkers, slotsPerWorker } = poolAsItRuns(samples);

  // What the pool needed in each hour bucket, then per hour of the day.
  const byHour: UsageSample[][] = Array.from({ length: 24 }, () => []);
  for (const [at, value] of busySlotsPerHour(samples)) byHour[new Date(at).getUTCHours()].push({ at, value });
  const needed = byHour.map((hourSamples) => {
    const size = workersNeeded(hourSamples, now, slotsPerWorker, policy.rightSizing);
    return size === null ? null : { workers: size.workers, days: new Set(hourSamples.map((h) => Math.floor(h.at / 86_400_000))).size };
  });

  let best: { from: number; to: number; workers: number; days: number } | null = null;
  for (let from = 0; from < 24; from++) {
    let workers = 0;
    let days = Number.POSITIVE_INFINITY;
    for (let to = from; to < 24; to++) {
      const hour = needed[to];
      if (hour === null || hour.days < policy.minDays || hour.workers >= currentWorkers) break;
      workers = Math.max(workers, hour.workers);
      days = Math.min(days, hour.days);
      const length = to + 1 - from;
      const saving = (currentWorkers - workers) * length;
      if (length >= policy.minHours && (best === null || saving > (currentWorkers - best.workers) * (best.to - best.from))) best = { from, to: to + 1, workers, days };
    }
  }
  if (best === null) return null;
  const hours = best.to - best.from;
  return {
    agentType,
    fromHour: best.from,
    toHour: best.to,
    currentWorkers,
    workersInWindow: best.workers,
    estimatedMonthlySavingMicros: Math.round((currentWorkers - best.workers) * hours * workerHourMicros * DAYS_PER_MONTH),
    daysObserved: best.days,
    summary: `the ${agentType} pool could run ${best.workers} worker(s) instead of ${currentWorkers} between ${clock(best.from)} and ${clock(best.to)} UTC (seen on ${best.days} days)`,
  };
}

/**
 * The pool as it runs now: the latest report of each instance still reporting, added up, and the slots
 * one worker holds. An instance id is a host and process, so weeks of history hold every instance a
 * restart replaced: those whose last report is over an hour older than the newest one are gone.
 */
export function poolAsItRuns(samples: readonly PoolSample[]): { readonly currentWorkers: number; readonly slotsPerWorker: number } {
  const latest = new Map<string, PoolSample>();
  for (const s of samples) if ((latest.get(s.instanceId)?.windowEndedAt ?? -1) < s.windowEndedAt) latest.set(s.instanceId, s);
  const newest = Math.max(...[...latest.values()].map((s) => s.windowEndedAt));
  const running = [...latest.values()].filter((s) => s.windowEndedAt >= newest - HOUR);
  const currentWorkers = running.reduce((sum, s) => sum + s.workers, 0);
  const slotsPerWorker = Math.max(1, running.reduce((sum, s) => sum + s.concurrency, 0) / Math.max(1, currentWorkers));
  return { currentWorkers, slotsPerWorker };
}

/**
 * Busy slots of the whole pool per hour, keyed by the hour's start (ms): each instance at its busiest
 * in the hour, added up, which is what the pool needed in that hour. Raw reports and hourly rollups
 * (one report per instance and hour) give the same figures.
 */
export function busySlotsPerHour(samples: readonly PoolSample[]): Map<number, number> {
  const perBucket = new Map<number, Map<string, number>>();
  for (const s of samples) {
    const bucket = Math.floor(s.windowEndedAt / HOUR) * HOUR;
    const instances = perBucket.get(bucket) ?? new Map<string, number>();
    instances.set(s.instanceId, Math.max(instances.get(s.instanceId) ?? 0, busy(s)));
    perBucket.set(bucket, instances);
  }
  return new Map([...perBucket].map(([bucket, instances]) => [bucket, [...instances.values()].reduce((a, b) => a + b, 0)]));
}

/**
 * What the pool needs for these busy-slot samples, sized like a whole pool: p90 + margin, in whole
 * workers, never below one (and the p90 itself, as evidence); null without samples.
 */
export function workersNeeded(samples: readonly UsageSample[], now: number, slotsPerWorker: number, rightSizing: RightSizingPolicy): { readonly workers: number; readonly p90BusySlots: number } | null {
  const estimate = estimateRightSize(samples, now, rightSizing);
  return estimate === null ? null : { workers: Math.max(1, Math.ceil(estimate.target / slotsPerWorker)), p90BusySlots: estimate.target / (1 + rightSizing.margin) };
}

/** `00:00`…`24:00`. */
export function clock(hour: number): string {
  return `${String(hour).padStart(2, '0')}:00`;
}

function busy(s: PoolSample): number {
  const u = Number.isFinite(s.utilization) ? Math.min(1, Math.max(0, s.utilization)) : 0;
  return u * s.concurrency;
}
