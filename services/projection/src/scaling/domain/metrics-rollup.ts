/**
 * Workers' metrics reports (PoolMetricsReported, every few seconds per worker or agent-pool instance)
 * kept as a per-minute rollup instead of every report: per reporter and minute (the minute its
 * window ended in), its reports, highest backlog, summed arrival rate (for the mean) and workers.
 * A pool's minute adds its reporters up as the scaler's snapshot does
 * (services/scaler/src/observations/domain/pool-observations.ts): each worker's backlog is the lag of
 * the partitions it owns plus its own queue, so their sum counts the topic's lag once; rates add up.
 */
export const MINUTE_MS = 60_000;

export const minuteOf = (ms: number): number => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

/** Rates to a millionth: a mean of a few floats, or a peak × (1 ± an error), should not print as 2.4000000000000004. */
export const roundRate = (x: number): number => Math.round(x * 1e6) / 1e6;

/**
 * One reporter's minute, as stored; the store adds each report in with one upsert (reports + 1,
 * greatest backlog, arrival rate summed, most workers), applying it only when its window ends after
 * the last one applied, which makes a report applied twice count once.
 */
export interface ReporterMinute {
  readonly minute: number;
  readonly instanceId: string;
  readonly reports: number;
  readonly backlogMax: number;
  readonly arrivalRateSum: number;
  readonly workersMax: number;
}

export interface PoolMinute {
  readonly minute: number;
  /** The reporters' highest backlogs of the minute, added up. */
  readonly backlog: number;
  /** The reporters' mean arrival rates of the minute, added up: the pool's, per second. */
  readonly arrivalRatePerSec: number;
  /** Workers the reporters accounted for (each one's most in the minute), added up. */
  readonly reportingWorkers: number;
  readonly reporters: number;
  readonly reports: number;
}

/** Each minute of the pool that someone reported in, from its reporters' rows. */
export function poolMinutes(rows: readonly ReporterMinute[]): Map<number, PoolMinute> {
  const minutes = new Map<number, PoolMinute>();
  for (const r of rows) {
    const m = minutes.get(r.minute) ?? { minute: r.minute, backlog: 0, arrivalRatePerSec: 0, reportingWorkers: 0, reporters: 0, reports: 0 };
    minutes.set(r.minute, {
      minute: r.minute,
      backlog: m.backlog + r.backlogMax,
      arrivalRatePerSec: m.arrivalRatePerSec + (r.reports > 0 ? r.arrivalRateSum / r.reports : 0),
      reportingWorkers: m.reportingWorkers + r.workersMax,
      reporters: m.reporters + 1,
      reports: m.reports + r.reports,
    });
  }
  return minutes;
}
