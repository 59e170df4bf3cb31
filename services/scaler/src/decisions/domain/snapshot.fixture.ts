import type { PoolSnapshot } from './pool-snapshot';

/** A snapshot for specs: every figure missing unless given; one slot per worker. */
export function snapshotOf(figures: Partial<PoolSnapshot> = {}): PoolSnapshot {
  return {
    agentType: 'code_gen',
    observedAt: 0,
    slotsPerWorker: 1,
    reportingWorkers: 0,
    backlog: null,
    inFlight: null,
    utilization: null,
    arrivalRatePerSec: null,
    completionRatePerSec: null,
    errorRate: null,
    latencyP95Ms: null,
    meanServiceTimeMs: null,
    cpuPercentPerWorker: null,
    memoryMibPerWorker: null,
    ...figures,
  };
}
