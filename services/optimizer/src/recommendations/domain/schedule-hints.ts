import { estimateRightSize, DEFAULT_RIGHT_SIZING, type RightSizingPolicy } from './right-sizing';
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
  // The pool as it runs now: the latest report of each instance.
  const latest = new Map<string, PoolSample>();
  for (const s of samples) if ((latest.get(s.instanceId)?.windowEndedAt ?? -1) < s.windowEndedAt) latest.set(s.instanceId, s);
  const currentWorkers = [...latest.values()].reduce((sum, s) => sum + s.workers, 0);
  const slotsPerWorker = Math.max(1, [...latest.values()].reduce((sum, s) => sum + s.concurrency, 0) / Math.max(1, currentWorkers));

  // Busy slots of the whole pool per hour bucket (summed over instances), then per hour of the day.
  // Each instance at its busiest in the hour, added up: what the pool needed in that hour.
  const perBucket = new Map<number, Map<string, number>>();
  for (const s of samples) {
    const bucket = Math.floor(s.windowEndedAt / HOUR);
    const instances = perBucket.get(bucket) ?? new Map<string, number>();
    instances.set(s.instanceId, Math.max(instances.get(s.instanceId) ?? 0, busy(s)));
    perBucket.set(bucket, instances);
  }
  const byHour: { at: number; value: number }[][] = Array.from({ length: 24 }, () => []);
  for (const [bucket, instances] of perBucket) byHour[new Date(bucket * HOUR).getUTCHours()].push({ at: bucket * HOUR, value: [...instances.values()].reduce((a, b) => a + b, 0) });
  const needed = byHour.map((hourSamples) => {
    const estimate = estimateRightSize(hourSamples, now, policy.rightSizing);
    return estimate === null ? null : { workers: Math.max(1, Math.ceil(estimate.target / slotsPerWorker)), days: new Set(hourSamples.map((h) => Math.floor(h.at / 86_400_000))).size };
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
  const pad = (h: number) => `${String(h).padStart(2, '0')}:00`;
  return {
    agentType,
    fromHour: best.from,
    toHour: best.to,
    currentWorkers,
    workersInWindow: best.workers,
    estimatedMonthlySavingMicros: Math.round((currentWorkers - best.workers) * hours * workerHourMicros * DAYS_PER_MONTH),
    daysObserved: best.days,
    summary: `the ${agentType} pool could run ${best.workers} worker(s) instead of ${currentWorkers} between ${pad(best.from)} and ${pad(best.to)} UTC (seen on ${best.days} days)`,
  };
}

function busy(s: PoolSample): number {
  const u = Number.isFinite(s.utilization) ? Math.min(1, Math.max(0, s.utilization)) : 0;
  return u * s.concurrency;
}
