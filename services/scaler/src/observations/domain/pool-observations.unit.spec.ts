import type { PoolMetricsReported } from '@flotilla/contracts';
import { emptyObservations, observeGroupLag, observeReport, snapshotOf } from './pool-observations';

const report = (instanceId: string, overrides: Partial<PoolMetricsReported> = {}): PoolMetricsReported => ({
  agentType: 'code_gen',
  instanceId,
  windowStartedAt: 0,
  windowEndedAt: 10_000,
  workers: 1,
  concurrency: 2,
  inFlight: 2,
  backlog: 5,
  utilization: 0.5,
  arrivalRatePerSec: 1,
  completionRatePerSec: 0.5,
  errorRate: 0,
  latencyP50Ms: 800,
  latencyP95Ms: 1_500,
  cpuPercent: 20,
  memoryRssBytes: 200 * 1024 * 1024,
  reportedAt: 10_000,
  ...overrides,
});
const options = { staleAfterMs: 15_000, slotsPerWorker: 2 };

describe('pool observations → the decision engine\'s snapshot', () => {
  it('adds the workers up: backlogs (the lag of the partitions each owns, once), rates; weighs utilization by slots and errors by completions', () => {
    let obs = emptyObservations('code_gen');
    obs = observeReport(obs, report('w1', { backlog: 5, utilization: 1, completionRatePerSec: 1, errorRate: 0.5, latencyP95Ms: 2_000 }));
    obs = observeReport(obs, report('w2', { backlog: 3, utilization: 0.5, completionRatePerSec: 3, errorRate: 0, latencyP95Ms: 900 }));
    const snapshot = snapshotOf(obs, 12_000, options);
    expect(snapshot).toMatchObject({ reportingWorkers: 2, backlog: 8, inFlight: 4, utilization: 0.75, arrivalRatePerSec: 2, completionRatePerSec: 4, errorRate: 0.125, latencyP95Ms: 2_000, cpuPercentPerWorker: 20, memoryMibPerWorker: 200 });
    // Mean service time: 0.75 × 4 slots busy for 4 completions a second: 750 ms.
    expect(snapshot.meanServiceTimeMs).toBeCloseTo(750, 6);
  });

  it('takes states (backlog) from each worker\'s newest report, and forgets workers silent for longer than the staleness', () => {
    let obs = observeReport(emptyObservations('code_gen'), report('w1', { windowStartedAt: 5_000, windowEndedAt: 10_000, backlog: 5 }));
    obs = observeReport(obs, report('w1', { windowStartedAt: 4_000, windowEndedAt: 9_000, backlog: 99 }));
    obs = observeReport(obs, report('w2', { windowStartedAt: 0, windowEndedAt: 1_000, backlog: 7 }));
    expect(snapshotOf(obs, 20_000, options)).toMatchObject({ reportingWorkers: 1, backlog: 5 });
  });

  it('takes flows (rates, utilization, errors) over the rate window, weighted by each report\'s window', () => {
    let obs = emptyObservations('code_gen');
    // Three 5 s reports: arrivals 3, 1, 2 a second; utilization 0.9, 0.3, 0.6; only the last two within a 10 s window.
    for (const [end, arrival, util] of [[5_000, 3, 0.9], [10_000, 1, 0.3], [15_000, 2, 0.6]] as const) {
      obs = observeReport(obs, report('w1', { windowStartedAt: end - 5_000, windowEndedAt: end, arrivalRatePerSec: arrival, utilization: util }));
    }
    expect(snapshotOf(obs, 16_000, { ...options, rateWindowMs: 15_000 })).toMatchObject({ arrivalRatePerSec: 2, utilization: expect.closeTo(0.6, 9) });
    expect(snapshotOf(obs, 16_000, { ...options, rateWindowMs: 10_000 })).toMatchObject({ arrivalRatePerSec: 1.5, utilization: expect.closeTo(0.45, 9) });
  });

  it('with no worker reporting (scaled to zero), the backlog is the group\'s lag as the scaler read it; everything else unknown', () => {
    const obs = observeGroupLag(emptyObservations('code_gen'), 12, 30_000);
    expect(snapshotOf(obs, 31_000, options)).toMatchObject({ reportingWorkers: 0, backlog: 12, utilization: null, arrivalRatePerSec: null, meanServiceTimeMs: null });
    expect(snapshotOf(obs, 60_000, options).backlog).toBeNull();
  });
});
