import type { PoolMetricsReported } from '@flotilla/contracts';
import type { PoolSnapshot } from '../../decisions/domain/pool-snapshot';
import { meanServiceTimeMs } from '../../decisions/domain/queue-aware';

/**
 * What the scaler has seen of one pool: the latest metrics report of each of its workers (or of each
 * instance, for a pool embedded in the agent pool), the replicas the agent pool last recorded, and
 * the consumer lag of the pool's group, read by the scaler itself (with no worker, nobody reports it:
 * that is how a pool scaled to zero is woken, as KEDA does).
 */
export interface PoolObservations {
  readonly agentType: string;
  readonly reports: Readonly<Record<string, PoolMetricsReported>>;
  readonly groupLag: { readonly messages: number; readonly at: number } | null;
}

export function emptyObservations(agentType: string): PoolObservations {
  return { agentType, reports: {}, groupLag: null };
}

/** Keeps each reporter's newest report (reports may arrive out of order across partitions and restarts). */
export function observeReport(observations: PoolObservations, report: PoolMetricsReported): PoolObservations {
  const previous = observations.reports[report.instanceId];
  if (previous && previous.windowEndedAt >= report.windowEndedAt) return observations;
  return { ...observations, reports: { ...observations.reports, [report.instanceId]: report } };
}

export function observeGroupLag(observations: PoolObservations, messages: number, at: number): PoolObservations {
  return { ...observations, groupLag: { messages, at } };
}

/** Drops the reports of reporters silent for longer than `staleAfterMs` (a worker that left, or died). */
export function forgetStale(observations: PoolObservations, now: number, staleAfterMs: number): PoolObservations {
  const fresh = Object.entries(observations.reports).filter(([, r]) => now - r.windowEndedAt <= staleAfterMs);
  return fresh.length === Object.keys(observations.reports).length ? observations : { ...observations, reports: Object.fromEntries(fresh) };
}

/**
 * The pool as one snapshot for the decision engine, from its fresh reports:
 * - backlog: each worker reports the lag of the partitions it owns plus what waits in its queue, so
 *   their sum counts the topic's lag once; with no fresh report, the group's lag as the scaler read it;
 * - utilization and error rate weighted by slots and completions, rates summed, p95 the worst
 *   worker's (a pool is as slow as its slowest worker for the tasks it holds), CPU and memory per worker.
 */
export function snapshotOf(observations: PoolObservations, now: number, options: { readonly staleAfterMs: number; readonly slotsPerWorker: number }): PoolSnapshot {
  const reports = Object.values(forgetStale(observations, now, options.staleAfterMs).reports);
  const lag = observations.groupLag && now - observations.groupLag.at <= options.staleAfterMs ? observations.groupLag.messages : null;
  if (reports.length === 0) {
    return {
      agentType: observations.agentType,
      observedAt: observations.groupLag?.at ?? now,
      slotsPerWorker: options.slotsPerWorker,
      reportingWorkers: 0,
      backlog: lag,
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
