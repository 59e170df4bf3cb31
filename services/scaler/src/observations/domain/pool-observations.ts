import type { PoolMetricsReported } from '@flotilla/contracts';
import { unknownSnapshot, type PoolSnapshot } from '../../decisions/domain/pool-snapshot';
import { meanServiceTimeMs } from '../../decisions/domain/queue-aware';

/**
 * What the scaler has seen of one pool: the latest metrics report of each of its workers (or of each
 * instance, for a pool embedded in the agent pool), the replicas the agent pool last recorded, and
 * the consumer lag of the pool's group, read by the scaler itself (with no worker, nobody reports it:
 * that is how a pool scaled to zero is woken, as KEDA does).
 */
export interface PoolObservations {
  readonly agentType: string;
  /** Each reporter's recent reports, oldest first (kept for the rate window). */
  readonly reports: Readonly<Record<string, readonly PoolMetricsReported[]>>;
  readonly groupLag: { readonly messages: number; readonly at: number } | null;
}

/**
 * Rates and utilization are taken over this much of each worker's recent reports, not its newest
 * alone: a 5 s report of tasks lasting seconds swings by a third, and a scale-down window would hold
 * the highs of that noise (measured in npm run bench:scaling, daily trace: 1.14–1.23× HPA's
 * worker-seconds with the newest report only, 0.97–1.06× over 15 s).
 */
export const DEFAULT_RATE_WINDOW_MS = 15_000;

export function emptyObservations(agentType: string): PoolObservations {
  return { agentType, reports: {}, groupLag: null };
}

/** How long a reporter's reports are kept: enough for any rate window and staleness the scaler is set to. */
const KEPT_MS = 120_000;

/** Keeps each reporter's recent reports in window order (reports may arrive out of order across partitions and restarts; a repeat changes nothing). */
export function observeReport(observations: PoolObservations, report: PoolMetricsReported): PoolObservations {
  const previous = observations.reports[report.instanceId] ?? [];
  if (previous.some((r) => r.windowEndedAt === report.windowEndedAt)) return observations;
  const newest = Math.max(report.windowEndedAt, previous.at(-1)?.windowEndedAt ?? 0);
  const kept = [...previous, report].filter((r) => newest - r.windowEndedAt <= KEPT_MS).sort((a, b) => a.windowEndedAt - b.windowEndedAt);
  return { ...observations, reports: { ...observations.reports, [report.instanceId]: kept } };
}

export function observeGroupLag(observations: PoolObservations, messages: number, at: number): PoolObservations {
  return { ...observations, groupLag: { messages, at } };
}

/** Drops the reporters silent for longer than `staleAfterMs` (a worker that left, or died). */
export function forgetStale(observations: PoolObservations, now: number, staleAfterMs: number): PoolObservations {
  const fresh = Object.entries(observations.reports).filter(([, r]) => r.length > 0 && now - r[r.length - 1].windowEndedAt <= staleAfterMs);
  return fresh.length === Object.keys(observations.reports).length ? observations : { ...observations, reports: Object.fromEntries(fresh) };
}

/**
 * One reporter over the rate window: its newest report's backlog, in-flight, slots and workers (they
 * are states), and its rates, utilization and errors over the window's reports, weighted by their
 * windows' lengths (they are flows).
 */
function overWindow(reports: readonly PoolMetricsReported[], rateWindowMs: number): PoolMetricsReported {
  const newest = reports[reports.length - 1];
  const inWindow = reports.filter((r) => newest.windowEndedAt - r.windowEndedAt < Math.max(rateWindowMs, 1));
  const weights = inWindow.map((r) => Math.max(1, r.windowEndedAt - r.windowStartedAt));
  const total = weights.reduce((a, b) => a + b, 0);
  const mean = (f: (r: PoolMetricsReported) => number) => inWindow.reduce((sum, r, i) => sum + f(r) * weights[i], 0) / total;
  const completionRatePerSec = mean((r) => r.completionRatePerSec);
  return {
    ...newest,
    windowStartedAt: inWindow[0].windowStartedAt,
    utilization: mean((r) => r.utilization),
    arrivalRatePerSec: mean((r) => r.arrivalRatePerSec),
    completionRatePerSec,
    errorRate: completionRatePerSec > 0 ? mean((r) => r.errorRate * r.completionRatePerSec) / completionRatePerSec : newest.errorRate,
    cpuPercent: mean((r) => r.cpuPercent),
  };
}

/**
 * The pool as one snapshot for the decision engine, from its fresh reporters, each over the rate window:
 * - backlog: each worker reports the lag of the partitions it owns plus what waits in its queue, so
 *   their sum counts the topic's lag once; with no fresh report, the group's lag as the scaler read it;
 * - utilization and error rate weighted by slots and completions, rates summed, p95 the worst
 *   worker's (a pool is as slow as its slowest worker for the tasks it holds), CPU and memory per worker.
 */
export function snapshotOf(
  observations: PoolObservations,
  now: number,
  options: { readonly staleAfterMs: number; readonly slotsPerWorker: number; readonly rateWindowMs?: number; readonly partitions?: number | null },
): PoolSnapshot {
  const partitions = options.partitions ?? null;
  const reports = Object.values(forgetStale(observations, now, options.staleAfterMs).reports).map((r) => overWindow(r, options.rateWindowMs ?? DEFAULT_RATE_WINDOW_MS));
  const lag = observations.groupLag && now - observations.groupLag.at <= options.staleAfterMs ? observations.groupLag.messages : null;
  if (reports.length === 0) return { ...unknownSnapshot(observations.agentType, observations.groupLag?.at ?? now, options.slotsPerWorker, lag), partitions };
  const sum = (f: (r: PoolMetricsReported) => number) => reports.reduce((total, r) => total + f(r), 0);
  const workers = sum((r) => r.workers);
  const slots = sum((r) => r.concurrency);
  const completions = sum((r) => r.completionRatePerSec);
  const utilization = slots > 0 ? sum((r) => r.utilization * r.concurrency) / slots : null;
  const p95s = reports.map((r) => r.latencyP95Ms).filter((v): v is number => v !== null && Number.isFinite(v));
  return {
    agentType: observations.agentType,
    observedAt: Math.max(...reports.map((r) => r.windowEndedAt)),
    slotsPerWorker: options.slotsPerWorker,
    partitions,
    reportingWorkers: workers,
    backlog: sum((r) => r.backlog),
    inFlight: sum((r) => r.inFlight),
    utilization,
    arrivalRatePerSec: sum((r) => r.arrivalRatePerSec),
    completionRatePerSec: completions,
    errorRate: completions > 0 ? sum((r) => r.errorRate * r.completionRatePerSec) / completions : null,
    latencyP95Ms: p95s.length > 0 ? Math.max(...p95s) : null,
    meanServiceTimeMs: utilization === null ? null : meanServiceTimeMs({ utilization, concurrency: slots, completionRatePerSec: completions }),
    cpuPercentPerWorker: workers > 0 ? sum((r) => r.cpuPercent) / workers : null,
    memoryMibPerWorker: workers > 0 ? sum((r) => r.memoryRssBytes) / workers / (1024 * 1024) : null,
  };
}
