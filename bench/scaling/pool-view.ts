import type { PoolMetricsReported } from '@flotilla/contracts';
import { unknownSnapshot, type PoolSnapshot } from '../../services/scaler/src/decisions/domain/pool-snapshot';
import { meanServiceTimeMs } from '../../services/scaler/src/decisions/domain/queue-aware';
import { emptyObservations, observeGroupLag, observeReport, snapshotOf as scalerSnapshotOf } from '../../services/scaler/src/observations/domain/pool-observations';

/**
 * What an autoscaler sees of the pool when it evaluates: a PoolSnapshot built from the simulated
 * PoolMetricsReported, in the way each compared system gets its figures.
 *
 * - `scaler` (Flotilla): the scaler's own code, `snapshotOf` of services/scaler/src/observations:
 *   each worker's newest report (a worker that left counts until its report is `staleAfterMs` old),
 *   backlogs and rates summed, utilization weighted by slots; with no fresh report, the group's lag
 *   (of committed offsets) as the scaler reads it itself.
 * - `windowed`: rates, utilization, service time and p95 over the reports of the current ready
 *   workers whose windows ended within `windowMs`. For HPA that is metrics-server's scrape (`scrape`: a
 *   15 s window refreshed once per 15 s, out of phase with the sync, so half a period old on average;
 *   a ready worker not scraped yet is a missing pod). Backlogs add up over each worker's latest report
 *   (each is the lag of the partitions its worker owns, so the topic's lag counts once). KEDA
 *   (`backlog: 'uncommitted'`) reads the consumer group's lag of committed offsets when the HPA asks;
 *   on this platform an offset commits when the task's outcome is recorded, so running tasks count.
 *   Utilization is busy over available slot-time of all the windows; rates add up over workers; p95
 *   is the highest of the workers'; the mean service time follows from Little's law on the slots.
 */
export type MetricsView =
  | { readonly kind: 'scaler'; readonly staleAfterMs: number }
  | {
      readonly kind: 'windowed';
      readonly windowMs: number;
      readonly scrape: { readonly periodMs: number; readonly phaseMs: number } | null;
      readonly backlog: 'reported' | 'uncommitted';
    };

/** What the view needs of the pool at evaluation. */
export interface PoolReading {
  readonly now: number;
  readonly slotsPerWorker: number;
  /** The dispatch topic's partitions, as the scaler knows them; null or absent: one queue. */
  readonly partitions?: number | null;
  /** The latest report of each ready worker. */
  readonly latest: readonly PoolMetricsReported[];
  /** Every report of the last minute or so (at least the longest window and the staleness), oldest first. */
  readonly recent: readonly PoolMetricsReported[];
  /** Tasks not finished: the lag of committed offsets. */
  readonly uncommitted: number;
}

export function snapshotOf(view: MetricsView, reading: PoolReading, agentType = 'code_gen'): PoolSnapshot {
  if (view.kind === 'scaler') return scalerSnapshot(view.staleAfterMs, reading, agentType);
  const current = new Set(reading.latest.map((r) => r.instanceId));
  const until = view.scrape ? Math.floor((reading.now - view.scrape.phaseMs) / view.scrape.periodMs) * view.scrape.periodMs + view.scrape.phaseMs : reading.now;
  const windows = reading.recent.filter((r) => current.has(r.instanceId) && r.windowEndedAt <= until && r.windowEndedAt > until - view.windowMs);
  const rates = aggregate(windows, reading, agentType);
  const latest = aggregate(reading.latest, reading, agentType);
  // The workers in the window report; the others are missing (for HPA: ready, but not scraped yet).
  return {
    ...rates,
    observedAt: latest.observedAt,
    backlog: view.backlog === 'uncommitted' ? reading.uncommitted : latest.backlog,
    inFlight: latest.inFlight,
  };
}

/** As the scaler's loop does: the reports it has seen, and the group's lag read when none is fresh. */
function scalerSnapshot(staleAfterMs: number, reading: PoolReading, agentType: string): PoolSnapshot {
  const options = { staleAfterMs, slotsPerWorker: reading.slotsPerWorker, partitions: reading.partitions ?? null };
  const observations = reading.recent.reduce(observeReport, emptyObservations(agentType));
  const snapshot = scalerSnapshotOf(observations, reading.now, options);
  return snapshot.reportingWorkers > 0 ? snapshot : scalerSnapshotOf(observeGroupLag(observations, reading.uncommitted, reading.now), reading.now, options);
}

function aggregate(reports: readonly PoolMetricsReported[], reading: PoolReading, agentType: string): PoolSnapshot {
  const empty = unknownSnapshot(agentType, reading.now, reading.slotsPerWorker, reading.uncommitted);
  if (reports.length === 0) return empty;
  let busy = 0;
  let available = 0;
  let backlog = 0;
  let inFlight = 0;
  let arrivals = 0;
  let completions = 0;
  let failures = 0;
  let observedAt = 0;
  let p95: number | null = null;
  const instances = new Map<string, { arrivals: number; completions: number; seconds: number }>();
  for (const r of reports) {
    const ms = r.windowEndedAt - r.windowStartedAt;
    busy += r.utilization * r.concurrency * ms;
    available += r.concurrency * ms;
    // Several windows of one instance (a scrape window) make one rate over their time.
    const seen = instances.get(r.instanceId) ?? { arrivals: 0, completions: 0, seconds: 0 };
    seen.arrivals += (r.arrivalRatePerSec * ms) / 1000;
    seen.completions += (r.completionRatePerSec * ms) / 1000;
    seen.seconds += ms / 1000;
    instances.set(r.instanceId, seen);
    failures += (r.errorRate * r.completionRatePerSec * ms) / 1000;
    observedAt = Math.max(observedAt, r.windowEndedAt);
    if (r.latencyP95Ms !== null) p95 = Math.max(p95 ?? 0, r.latencyP95Ms);
  }
  const latestOf = new Map<string, PoolMetricsReported>();
  for (const r of reports) if ((latestOf.get(r.instanceId)?.windowEndedAt ?? -1) < r.windowEndedAt) latestOf.set(r.instanceId, r);
  let concurrency = 0;
  for (const r of latestOf.values()) {
    backlog += r.backlog;
    inFlight += r.inFlight;
    concurrency += r.concurrency;
  }
  for (const i of instances.values()) {
    arrivals += i.arrivals / Math.max(i.seconds, 1e-9);
    completions += i.completions / Math.max(i.seconds, 1e-9);
  }
  const utilization = available > 0 ? busy / available : 0;
  const finished = [...instances.values()].reduce((sum, i) => sum + i.completions, 0);
  return {
    ...empty,
    observedAt,
    reportingWorkers: latestOf.size,
    backlog,
    inFlight,
    utilization,
    arrivalRatePerSec: arrivals,
    completionRatePerSec: completions,
    errorRate: finished > 0 ? failures / finished : 0,
    latencyP95Ms: p95,
    meanServiceTimeMs: meanServiceTimeMs({ utilization, concurrency, completionRatePerSec: completions }),
  };
}
