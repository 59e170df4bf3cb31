import type { PoolMetricsReported } from '@flotilla/contracts';
import { mmcWaitMs } from '../../services/scaler/src/decisions/domain/queue-aware';
import { integrate, measure } from './figures';
import { comparedPolicies } from './policies';
import { SimulatedPool, type PoolSimulationOptions } from './pool-simulation';
import { snapshotOf } from './pool-view';
import { exponential, seededUniform } from './random';
import { MEASURED_STARTUP, replay } from './replay';
import { parseTrace } from './trace';

function poolOf(arrivalsMs: number[], serviceMs: number[] | number, overrides: Partial<PoolSimulationOptions> = {}): SimulatedPool {
  return new SimulatedPool({
    slotsPerWorker: 2,
    reportIntervalMs: 5_000,
    partitions: 6,
    arrivalsMs: Float64Array.from(arrivalsMs),
    serviceMs: Float64Array.from(typeof serviceMs === 'number' ? arrivalsMs.map(() => serviceMs) : serviceMs),
    startupMs: () => 3_000,
    initialWorkers: 1,
    ...overrides,
  });
}

const waits = (pool: SimulatedPool, arrivalsMs: number[]): number[] => arrivalsMs.map((at, i) => pool.startAt[i] - at);

describe('simulated pool', () => {
  it('queues in arrival order on a fixed pool: the waits follow from the slots and the service times', () => {
    // given one worker of two slots, 1 s tasks, and five arrivals
    const arrivals = [0, 0, 100, 200, 2_500];
    const pool = poolOf(arrivals, 1_000);
    // when the pool runs them
    pool.advanceTo(10_000);
    // then two start at once, the next two when those finish at 1000, the last finds a free slot
    expect(waits(pool, arrivals)).toEqual([0, 0, 900, 800, 0]);
    expect(pool.done).toBe(true);
  });

  it('counts a worker only once its start-up time has passed', () => {
    // given no worker, and a task at 100 ms
    const pool = poolOf([100, 200], 1_000, { initialWorkers: 0, startupMs: () => 3_000 });
    // when one worker is asked for at 0 (ready at 3000)
    pool.scaleTo(1, 0);
    pool.advanceTo(2_999);
    // then nothing has started before it is ready; it is a replica, paid for, but not ready
    expect(pool.startAt[0]).toBeNaN();
    expect({ replicas: pool.replicas, ready: pool.readyWorkers, provisioned: pool.provisionedWorkers }).toEqual({ replicas: 1, ready: 0, provisioned: 1 });
    // and at 3000 both tasks start
    pool.advanceTo(3_000);
    expect(waits(pool, [100, 200])).toEqual([2_900, 2_800]);
  });

  it('drains a worker asked to leave: it finishes what it runs, takes nothing more, then leaves', () => {
    // given two workers each running two 4 s tasks, and two more tasks waiting
    const arrivals = [0, 0, 0, 0, 10, 20];
    const pool = poolOf(arrivals, 4_000, { initialWorkers: 2 });
    pool.advanceTo(1_000);
    expect(pool.queued).toBe(2);
    // when the pool goes down to one worker at 1000
    pool.scaleTo(1, 1_000);
    // then the drained worker is still paid for until its tasks end at 4000, and the waiting tasks run on the other
    expect({ replicas: pool.replicas, provisioned: pool.provisionedWorkers }).toEqual({ replicas: 1, provisioned: 2 });
    pool.advanceTo(20_000);
    expect(waits(pool, arrivals)).toEqual([0, 0, 0, 0, 3_990, 3_980]);
    expect(integrate(pool.timeline.at, pool.timeline.provisioned, 0, 20_000)).toBe(2 * 4_000 + 16_000);
  });

  it('drops a worker still starting before it counts, and removes it first', () => {
    const pool = poolOf([], 1_000, { initialWorkers: 1 });
    pool.scaleTo(3, 0);
    pool.scaleTo(2, 1_000);
    pool.advanceTo(10_000);
    expect({ replicas: pool.replicas, ready: pool.readyWorkers }).toEqual({ replicas: 2, ready: 2 });
    // one started worker for 1 s, one for 10 s, the initial one for 10 s
    expect(integrate(pool.timeline.at, pool.timeline.provisioned, 0, 10_000)).toBe(1_000 + 10_000 + 10_000);
  });

  it('reports each window as the agent pool does: utilization of the slots, rates, latency', () => {
    // given one worker and one 2.5 s task
    const pool = poolOf([0], 2_500);
    // when its first report is made at 5 s
    pool.advanceTo(5_000);
    const [report] = pool.latestReports();
    // then a quarter of its slot-time was busy, one task was taken and finished in 5 s
    expect(report).toMatchObject({ windowStartedAt: 0, windowEndedAt: 5_000, concurrency: 2, inFlight: 0, utilization: 0.25, arrivalRatePerSec: 0.2, completionRatePerSec: 0.2, latencyP95Ms: 2_500 });
  });

  it("splits the lag over the workers' partitions, so the reports' backlogs add up to it once", () => {
    // given four workers (6 partitions: two own 2, two own 1) busy with long tasks and 12 waiting
    const arrivals = Array.from({ length: 20 }, () => 0);
    const pool = poolOf(arrivals, 60_000, { initialWorkers: 4 });
    pool.advanceTo(5_000);
    const backlogs = pool.latestReports().map((r) => r.backlog);
    expect(backlogs).toEqual([4, 4, 2, 2]);
    expect(backlogs.reduce((a, b) => a + b, 0)).toBe(pool.queued);
    // and the lag of committed offsets counts the running tasks too
    expect(pool.uncommitted).toBe(20);
  });

  it('agrees with M/M/c: Poisson arrivals and exponential service on a fixed pool wait what Erlang C says', () => {
    // given 3 workers × 2 slots at 75 % (λ = 2.25/s, S = 2 s), 40 000 tasks
    const uniform = seededUniform(7);
    const arrivals: number[] = [];
    for (let t = 0, i = 0; i < 40_000; i++) arrivals.push((t += exponential(uniform, 1_000 / 2.25)));
    const service = arrivals.map(() => exponential(uniform, 2_000));
    const pool = poolOf(arrivals, service, { initialWorkers: 3 });
    pool.advanceTo(arrivals[arrivals.length - 1] + 600_000);
    // then the mean wait is within 10 % of the engine's M/M/c formula (≈ 0.85 s)
    const mean = waits(pool, arrivals).reduce((a, b) => a + b, 0) / arrivals.length;
    const expected = mmcWaitMs(6, 2.25, 2_000);
    expect(Math.abs(mean - expected) / expected).toBeLessThan(0.1);
  });
});

describe('figures', () => {
  const trace = parseTrace(['# measure_from_ms=0', '# end_ms=20000', '0', '0', '0', '1000'].join('\n'));

  it('counts SLO-violation seconds once where waits overlap, and the p95 wait', () => {
    // given four tasks that started at 0, 6000, 8000, 9000 with a 5 s target
    const figures = measure({
      trace,
      serviceMs: Float64Array.from([1, 1, 1, 1]),
      startAt: Float64Array.from([0, 6_000, 8_000, 9_000]),
      timeline: { at: [0], provisioned: [2], ready: [2] },
      slotsPerWorker: 2,
      sloWaitMs: 5_000,
      scaleActions: 0,
      endedAt: 20_000,
    });
    // then the intervals [5000, 6000], [5000, 8000] and [6000, 9000] cover 5000..9000: 4 s
    expect(figures.violationSeconds).toBe(4);
    expect(figures.p95WaitMs).toBe(8_000);
    expect(figures.workerSeconds).toBe(40);
  });
});

describe('trace', () => {
  it('reads metadata, a header, and a size column; times count from start_ms', () => {
    const trace = parseTrace(['# name=t', '# start_ms=1000', '# step_at_ms=5000 9000', '# step_rate_per_sec=2 3', 'timestamp_ms,size_ms', '3000,250', '1500,', '2000,100'].join('\n'));
    expect(trace.name).toBe('t');
    expect([...trace.arrivalsMs]).toEqual([500, 1_000, 2_000]);
    expect([...trace.sizesMs!]).toEqual([Number.NaN, 100, 250]);
    expect(trace.steps).toEqual([{ atMs: 5_000, ratePerSec: 2 }, { atMs: 9_000, ratePerSec: 3 }]);
  });

  it('names the line of a bad row', () => {
    expect(() => parseTrace('0\n1000\nsoon\n')).toThrow('trace line 3');
  });
});

describe('what the autoscalers see', () => {
  const report = (instanceId: string, windowEndedAt: number, figures: Partial<PoolMetricsReported> = {}): PoolMetricsReported => ({
    agentType: 'code_gen',
    instanceId,
    windowStartedAt: windowEndedAt - 5_000,
    windowEndedAt,
    workers: 1,
    concurrency: 2,
    inFlight: 2,
    backlog: 3,
    utilization: 1,
    arrivalRatePerSec: 0.4,
    completionRatePerSec: 0.4,
    errorRate: 0,
    latencyP50Ms: 2_000,
    latencyP95Ms: 2_500,
    cpuPercent: 0,
    memoryRssBytes: 0,
    reportedAt: windowEndedAt,
    ...figures,
  });
  // Worker a reported at 5 s and 10 s, worker b (ready later) only at 14 s.
  const latest = [report('a', 10_000), report('b', 14_000, { utilization: 0.5, backlog: 1 })];
  const reading = { now: 15_000, slotsPerWorker: 2, latest, recent: [report('a', 5_000, { utilization: 0 }), ...latest], uncommitted: 8 };

  it("Flotilla's scaler, by its own snapshotOf: each worker's newest report, a departed one until its report is stale", () => {
    // given c, which left after reporting at 9 s
    const recent = [...reading.recent, report('c', 9_000, { backlog: 2 })];
    const scaler = { kind: 'scaler', staleAfterMs: 20_000 } as const;
    const snapshot = snapshotOf(scaler, { ...reading, recent });
    expect(snapshot).toMatchObject({ reportingWorkers: 3, backlog: 6 });
    expect(snapshot.arrivalRatePerSec).toBeCloseTo(1.2);
    // and 30 s later nothing is fresh: the group's lag, read by the scaler itself
    expect(snapshotOf(scaler, { ...reading, recent, now: 45_000 })).toMatchObject({ reportingWorkers: 0, backlog: 8, utilization: null });
  });

  it('a windowed view: the latest backlogs once, rates and utilization over the window', () => {
    const snapshot = snapshotOf({ kind: 'windowed', windowMs: 15_000, scrape: null, backlog: 'reported' }, reading);
    expect(snapshot).toMatchObject({ reportingWorkers: 2, backlog: 4, inFlight: 4, arrivalRatePerSec: 0.8 });
    // busy slot-time 0 + 10 + 5 of 30 available
    expect(snapshot.utilization).toBeCloseTo(0.5);
  });

  it('HPA: the last scrape only, so a worker ready since is a missing pod', () => {
    // scrapes every 15 s at 7.5 s past: the one at 7.5 s holds only a's first window
    const snapshot = snapshotOf({ kind: 'windowed', windowMs: 15_000, scrape: { periodMs: 15_000, phaseMs: 7_500 }, backlog: 'reported' }, reading);
    expect(snapshot).toMatchObject({ reportingWorkers: 1, utilization: 0 });
  });

  it('KEDA: the lag of committed offsets, running tasks included', () => {
    expect(snapshotOf({ kind: 'windowed', windowMs: 15_000, scrape: null, backlog: 'uncommitted' }, reading).backlog).toBe(8);
  });
});

describe('replay', () => {
  it('is deterministic: the same trace, policy and seed give the same figures', () => {
    const uniform = seededUniform(3);
    const arrivals: number[] = [];
    for (let t = 0; t < 300_000; ) arrivals.push((t += exponential(uniform, t < 150_000 ? 500 : 250)));
    const trace = parseTrace(['# step_at_ms=150000', '# step_rate_per_sec=4', ...arrivals.map((a) => String(Math.round(a)))].join('\n'));
    const [hpa, , reactive] = comparedPolicies({ sloWaitMs: 5_000, maxReplicas: 6, defaultServiceTimeMs: 2_000, timeToReadyMs: 5_900, seasonMs: null });
    const options = { seed: 1, slotsPerWorker: 2, sloWaitMs: 5_000, startup: MEASURED_STARTUP, serviceMeanMs: 2_000, serviceSigma: 0.5, reportIntervalMs: 5_000, partitions: 6 };
    for (const policy of [hpa, reactive]) expect(replay(trace, policy, options).figures).toEqual(replay(trace, policy, options).figures);
    expect(replay(trace, reactive, { ...options, seed: 2 }).figures).not.toEqual(replay(trace, reactive, options).figures);
  });
});
