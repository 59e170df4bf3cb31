import type { PoolMetricsReported } from '@flotilla/contracts';
import { mmcWaitMs } from '../../services/scaler/src/decisions/domain/queue-aware';
import { integrate, measure } from './figures';
import { evaluate } from '../../services/scaler/src/decisions/domain/evaluate';
import { unknownSnapshot } from '../../services/scaler/src/decisions/domain/pool-snapshot';
import { EMPTY_HISTORY } from '../../services/scaler/src/decisions/domain/scaling-history';
import { comparedPolicies, perWorkerWorkers, prototypeDecision, prototypeInput, prototypePolicies } from './policies';
import { QUEUE_MODELS, SimulatedPool, type PoolSimulationOptions } from './pool-simulation';
import { snapshotOf } from './pool-view';
import { exponential, seededUniform } from './random';
import { MEASURED_STARTUP, replay, taskPartitions } from './replay';
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

describe.each(QUEUE_MODELS)('simulated pool, %s queue: what both models do alike', (queue) => {
  const poolIn = (arrivalsMs: number[], serviceMs: number[] | number, overrides: Partial<PoolSimulationOptions> = {}) => poolOf(arrivalsMs, serviceMs, { queue, ...overrides });

  it('queues in arrival order on one worker: the waits follow from the slots and the service times', () => {
    // given one worker of two slots (partitioned: it owns every partition), 1 s tasks, and five arrivals
    const arrivals = [0, 0, 100, 200, 2_500];
    const pool = poolIn(arrivals, 1_000);
    // when the pool runs them
    pool.advanceTo(10_000);
    // then two start at once, the next two when those finish at 1000 (partitioned: taken ahead, in its local queue), the last finds a free slot
    expect(waits(pool, arrivals)).toEqual([0, 0, 900, 800, 0]);
    expect(pool.done).toBe(true);
  });

  it('counts a worker only once its start-up time has passed', () => {
    // given no worker, and a task at 100 ms
    const pool = poolIn([100, 200], 1_000, { initialWorkers: 0, startupMs: () => 3_000 });
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

  it('drops a worker still starting before it counts, and removes it first', () => {
    const pool = poolIn([], 1_000, { initialWorkers: 1 });
    pool.scaleTo(3, 0);
    pool.scaleTo(2, 1_000);
    pool.advanceTo(10_000);
    expect({ replicas: pool.replicas, ready: pool.readyWorkers }).toEqual({ replicas: 2, ready: 2 });
    // one started worker for 1 s, one for 10 s, the initial one for 10 s
    expect(integrate(pool.timeline.at, pool.timeline.provisioned, 0, 10_000)).toBe(1_000 + 10_000 + 10_000);
  });

  it('reports each window as the agent pool does: utilization of the slots, rates, latency', () => {
    // given one worker and one 2.5 s task
    const pool = poolIn([0], 2_500);
    // when its first report is made at 5 s
    pool.advanceTo(5_000);
    const [report] = pool.latestReports();
    // then a quarter of its slot-time was busy, one task was taken and finished in 5 s
    expect(report).toMatchObject({ windowStartedAt: 0, windowEndedAt: 5_000, concurrency: 2, inFlight: 0, utilization: 0.25, arrivalRatePerSec: 0.2, completionRatePerSec: 0.2, latencyP95Ms: 2_500 });
  });
});

describe('simulated pool: shared queue against partitions', () => {
  it.each([
    // One FIFO: the two idle slots of worker 1 take tasks 2 and 3, and 4 and 5 wait for the first slot to free.
    { queue: 'shared', waits: [0, 0, 0, 0, 1_000, 1_000] },
    // Partition 0 is worker 0's: it runs two, holds two in its local queue, and two wait in the partition; worker 1 stays idle.
    { queue: 'partitioned', waits: [0, 0, 1_000, 1_000, 2_000, 2_000] },
  ] as const)('$queue: a task waits behind a busy worker while another is idle', ({ queue, waits: expected }) => {
    // given two workers and six 1 s tasks at 0, all keyed to partition 0
    const arrivals = [0, 0, 0, 0, 0, 0];
    const pool = poolOf(arrivals, 1_000, { queue, initialWorkers: 2, partitionOf: arrivals.map(() => 0) });
    // when they run
    pool.advanceTo(10_000);
    // then
    expect(waits(pool, arrivals)).toEqual(expected);
  });

  it.each([
    { queue: 'shared', backlogs: [4, 4, 2, 2], local: [0, 0, 0, 0] },
    // Task i in partition i mod 6: 4 tasks in partitions 0 and 1, 3 in the others. Workers 0 and 1 own two
    // partitions (7 tasks), 2 and 3 one (3 tasks); each holds 2 running + 2 taken ahead at most.
    { queue: 'partitioned', backlogs: [5, 5, 1, 1], local: [2, 2, 1, 1] },
  ] as const)("$queue: each report's backlog is what waits for its worker, and they add up to the lag once", ({ queue, backlogs, local }) => {
    // given four workers busy with long tasks and 20 arrivals at 0
    const arrivals = Array.from({ length: 20 }, () => 0);
    const pool = poolOf(arrivals, 60_000, { queue, initialWorkers: 4 });
    pool.advanceTo(5_000);
    // then (shared: the queue split by each worker's share of the partitions)
    const reported = pool.latestReports().map((r) => r.backlog);
    expect(reported).toEqual(backlogs);
    expect(reported.reduce((a, b) => a + b, 0)).toBe(pool.queued);
    expect(pool.localQueues()).toEqual(local);
    // and the lag of committed offsets counts the running tasks too
    expect(pool.uncommitted).toBe(20);
  });

  it.each([
    { queue: 'shared', expected: () => mmcWaitMs(6, 2.25, 2_000), model: 'one M/M/6 (≈ 0.85 s)' },
    { queue: 'partitioned', expected: () => mmcWaitMs(2, 2.25 / 3, 2_000), model: 'an M/M/2 per worker at a third of the rate (≈ 2.6 s)' },
  ] as const)('$queue: Poisson arrivals and exponential service on a fixed pool wait what $model says', ({ queue, expected }) => {
    // given 3 workers × 2 slots at 75 % (λ = 2.25/s, S = 2 s), 40 000 tasks hashed uniformly over 6 partitions
    const uniform = seededUniform(7);
    const arrivals: number[] = [];
    for (let t = 0, i = 0; i < 40_000; i++) arrivals.push((t += exponential(uniform, 1_000 / 2.25)));
    const service = arrivals.map(() => exponential(uniform, 2_000));
    const pool = poolOf(arrivals, service, { queue, initialWorkers: 3, partitionOf: taskPartitions(arrivals.length, 6, 7) });
    pool.advanceTo(arrivals[arrivals.length - 1] + 600_000);
    // then the mean wait is within 10 % of Erlang C's (partitioned: each worker owns two partitions, a third of the arrivals)
    const mean = waits(pool, arrivals).reduce((a, b) => a + b, 0) / arrivals.length;
    expect(Math.abs(mean - expected()) / expected()).toBeLessThan(0.1);
  });
});

describe('simulated pool, partitioned: the consumer group', () => {
  it.each([
    // kafkajs sorts the member ids and deals the partitions round-robin: the first two in that order own two.
    { keys: [0, 1, 2, 3], assignment: [[0, 4], [1, 5], [2], [3]] },
    { keys: [3, 2, 1, 0], assignment: [[3], [2], [1, 5], [0, 4]] },
    { keys: [0.7, 0.1, 0.4, 0.9], assignment: [[2], [0, 4], [1, 5], [3]] },
  ])('4 workers over 6 partitions (member keys $keys): two own two partitions, two own one', ({ keys, assignment }) => {
    // given four workers and a steady 2.4/s spread over the partitions, 1 s tasks
    const arrivals = Array.from({ length: 2_400 }, (_, i) => i * (1_000 / 2.4));
    const pool = poolOf(arrivals, 1_000, { initialWorkers: 4, memberKey: (n) => keys[n], partitionOf: arrivals.map((_, i) => i % 6) });
    pool.advanceTo(arrivals[arrivals.length - 1] + 10_000);
    // then the assignment is uneven, and so is the load: the workers' reports count twice the tasks taken on those that own two
    expect(pool.assignment()).toEqual(assignment);
    const taken = [0, 1, 2, 3].map((w) =>
      pool
        .reportsSince(0)
        .reports.filter((r) => r.instanceId === `worker-${w}`)
        .reduce((sum, r) => sum + (r.arrivalRatePerSec * (r.windowEndedAt - r.windowStartedAt)) / 1_000, 0),
    );
    const total = taken.reduce((a, b) => a + b, 0);
    taken.forEach((n, w) => expect(n / total).toBeCloseTo(assignment[w].length / 6, 2));
  });

  it('reassigns the partitions at every join, and a rebalance stops fetching for its pause', () => {
    // given one worker owning every partition, and two more asked for at 0 (ready at 3000 and 4000), pauses of 500 ms
    const startups = [3_000, 4_000];
    const arrivals = [2_600];
    const pool = poolOf(arrivals, 1_000, { initialWorkers: 1, startupMs: (n) => startups[n], rebalancePauseMs: 500 });
    pool.scaleTo(3, 0);
    // then, at each time
    const seen = [1_000, 2_500, 3_000, 3_500, 4_000].map((at) => {
      pool.advanceTo(at);
      return { at, fetching: pool.fetching, assignment: pool.assignment() };
    });
    expect(seen).toEqual([
      { at: 1_000, fetching: true, assignment: [[0, 1, 2, 3, 4, 5], [], []] },
      { at: 2_500, fetching: false, assignment: [[0, 1, 2, 3, 4, 5], [], []] },
      { at: 3_000, fetching: true, assignment: [[0, 2, 4], [1, 3, 5], []] },
      { at: 3_500, fetching: false, assignment: [[0, 2, 4], [1, 3, 5], []] },
      { at: 4_000, fetching: true, assignment: [[0, 3], [1, 4], [2, 5]] },
    ]);
    // and the task that arrived at 2600 waited for the rebalance to end, though worker 0 had both slots free
    expect(waits(pool, arrivals)).toEqual([400]);
  });

  it.each([
    // The platform: EventConsumer.stop pauses, lets the bulkhead finish, then leaves; only then do its partitions move (after the pause).
    { drain: 'hold', assignmentAt2s: [[0, 2, 4], [1, 3, 5]], waitOfLate: 3_000, workerSeconds: 10 + 4 },
    // Gives its partitions up as it is asked to leave: they are worker 0's once the pause is over.
    { drain: 'release', assignmentAt2s: [[0, 1, 2, 3, 4, 5], []], waitOfLate: 0, workerSeconds: 10 + 4 },
  ] as const)('drain $drain: a draining worker takes nothing more and finishes what it holds; its partitions move then', ({ drain, assignmentAt2s, waitOfLate, workerSeconds }) => {
    // given two workers; worker 1 runs two 4 s tasks of partition 1 from 0; a third task of partition 1 comes at 1500
    const arrivals = [0, 0, 1_500];
    const pool = poolOf(arrivals, 4_000, { initialWorkers: 2, drain, rebalancePauseMs: 500, partitionOf: [1, 1, 1] });
    // when the pool goes down to one worker at 1000 (the youngest ready goes: worker 1)
    pool.scaleTo(1, 1_000);
    pool.advanceTo(2_000);
    expect(pool.assignment()).toEqual(assignmentAt2s);
    pool.advanceTo(10_000);
    // then worker 1 finished its two and left at 4000; the late task waited for partition 1 to reach worker 0
    expect(waits(pool, arrivals)).toEqual([0, 0, waitOfLate]);
    expect(pool.assignment()).toEqual([[0, 1, 2, 3, 4, 5], []]);
    expect(integrate(pool.timeline.at, pool.timeline.provisioned, 0, 10_000) / 1_000).toBe(workerSeconds);
  });

  it.each([
    { queue: 'shared', waits: [0, 0, 0, 0, 3_990, 3_980], workerSeconds: 4 + 20 },
    // Worker 1 had taken task 5 ahead (its local queue): it runs it before it leaves at 8000.
    { queue: 'partitioned', waits: [0, 0, 0, 0, 3_990, 3_980], workerSeconds: 8 + 20 },
  ] as const)('$queue: a drained worker is paid for until what it holds is done', ({ queue, waits: expected, workerSeconds }) => {
    // given two workers each running two 4 s tasks, and two more tasks waiting (task i in partition i mod 6)
    const arrivals = [0, 0, 0, 0, 10, 20];
    const pool = poolOf(arrivals, 4_000, { queue, initialWorkers: 2 });
    pool.advanceTo(1_000);
    expect(pool.queued).toBe(2);
    // when the pool goes down to one worker at 1000
    pool.scaleTo(1, 1_000);
    // then the drained worker is still paid for, and the waiting tasks run at 4000
    expect({ replicas: pool.replicas, provisioned: pool.provisionedWorkers }).toEqual({ replicas: 1, provisioned: 2 });
    pool.advanceTo(20_000);
    expect(waits(pool, arrivals)).toEqual(expected);
    expect(integrate(pool.timeline.at, pool.timeline.provisioned, 0, 20_000) / 1_000).toBe(workerSeconds);
  });

  it.each([
    // The Bulkhead's queueCapacity is max(1, slots × POOL_QUEUE_PER_SLOT): even 0 leaves one place.
    { queuePerSlot: 0, local: 1 },
    { queuePerSlot: 1, local: 2 },
    { queuePerSlot: 2, local: 4 },
  ])('POOL_QUEUE_PER_SLOT $queuePerSlot: a worker takes $local task(s) ahead of its two slots', ({ queuePerSlot, local }) => {
    const arrivals = Array.from({ length: 12 }, () => 0);
    const pool = poolOf(arrivals, 10_000, { queuePerSlot });
    pool.advanceTo(1);
    expect({ running: pool.inFlight, local: pool.localQueues()[0], notTaken: pool.queued - pool.localQueues()[0] }).toEqual({ running: 2, local, notTaken: 12 - 2 - local });
  });

  it('gives back what it took ahead for a partition taken away: its new owner runs it', () => {
    // given one worker running tasks 0 and 1 (partitions 0, 1) for 10 s, holding 2 (partition 2) and 3 (partition 3)
    const arrivals = Array.from({ length: 10 }, () => 0);
    const pool = poolOf(arrivals, 10_000, { rebalancePauseMs: 0 });
    pool.advanceTo(1);
    expect(pool.localQueues()).toEqual([2]);
    // when a second worker, asked for at 1, joins at 3001 and takes partitions 1, 3 and 5
    pool.scaleTo(2, 1);
    pool.advanceTo(3_001);
    // then task 3 went back to partition 3 and started on worker 1 at once; task 2 still waits on worker 0
    expect(pool.assignment()).toEqual([[0, 2, 4], [1, 3, 5]]);
    expect(pool.startAt[3]).toBe(3_001);
    expect(pool.startAt[2]).toBeNaN();
    expect(pool.localQueues()).toEqual([2, 2]);
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
  it.each(QUEUE_MODELS)('is deterministic (%s queue): the same trace, policy and seed give the same figures', (queue) => {
    const uniform = seededUniform(3);
    const arrivals: number[] = [];
    for (let t = 0; t < 300_000; ) arrivals.push((t += exponential(uniform, t < 150_000 ? 500 : 250)));
    const trace = parseTrace(['# step_at_ms=150000', '# step_rate_per_sec=4', ...arrivals.map((a) => String(Math.round(a)))].join('\n'));
    const [hpa, , reactive] = comparedPolicies({ sloWaitMs: 5_000, maxReplicas: 6, defaultServiceTimeMs: 2_000, timeToReadyMs: 5_900, seasonMs: null });
    const options = { seed: 1, slotsPerWorker: 2, sloWaitMs: 5_000, startup: MEASURED_STARTUP, serviceMeanMs: 2_000, serviceSigma: 0.5, reportIntervalMs: 5_000, partitions: 6, queue };
    for (const policy of [hpa, reactive]) expect(replay(trace, policy, options).figures).toEqual(replay(trace, policy, options).figures);
    expect(replay(trace, reactive, { ...options, seed: 2 }).figures).not.toEqual(replay(trace, reactive, options).figures);
  });
});

describe('PROTOTYPE policies (bench only)', () => {
  const settings = { sloWaitMs: 5_000, maxReplicas: 6, defaultServiceTimeMs: 2_000, timeToReadyMs: 5_900, seasonMs: null };
  const byKey = (key: string) => prototypePolicies(settings, 6).find((p) => p.key === key)!;
  const snapshot = (figures: { utilization: number; arrivalRatePerSec: number }, reportingWorkers: number) => ({
    ...unknownSnapshot('code_gen', 0, 2, 0),
    reportingWorkers,
    inFlight: 0,
    completionRatePerSec: figures.arrivalRatePerSec,
    errorRate: 0,
    meanServiceTimeMs: 2_000,
    ...figures,
  });

  it.each([
    // λ/n on 2 slots needs a per-worker load below 2 Erlangs at 2 s: λ = 3/s wants 4 workers (0.75/s each, 2.6 s mean wait) …
    { lambda: 3, share: 'even', workers: 4 },
    // … but at 4 or 5 workers the busiest owns 2 of 6 partitions (1/s, 2 Erlangs: no end to its queue): 6.
    { lambda: 3, share: 'busiest', workers: 6 },
    { lambda: 2.4, share: 'busiest', workers: 3 },
    { lambda: 0, share: 'busiest', workers: 0 },
  ] as const)('per-worker M/M/2 at $lambda/s ($share share) asks for $workers workers', ({ lambda, share, workers }) => {
    expect(perWorkerWorkers(lambda, 2_000, 5_000, 2, 6, 6, share)).toBe(workers);
  });

  it("enters the engine as an arrival_rate metric: the engine's decision is the per-worker count", () => {
    const input = { policy: byKey('proto_worker_busiest').policy, snapshot: snapshot({ utilization: 0.5, arrivalRatePerSec: 3 }, 3), history: EMPTY_HISTORY, currentReplicas: 3, override: null, paused: false, now: 0 };
    expect(evaluate(prototypeInput(input, { divisorReplicas: false, perWorker: 'busiest' }, 6)).desiredReplicas).toBe(6);
    // where the engine's own M/M/c over every slot asks for 7 slots (1.2 s mean wait at 6 Erlangs): 4 workers
    expect(evaluate(input).desiredReplicas).toBe(4);
  });

  it.each([
    // scale-down: the engine goes 6 -> 5 (one per 30 s); the prototype goes one divisor down, to 3, the recommendation (2) allowing it
    { current: 6, utilization: 0.2, arrivalRatePerSec: 1, engine: 5, proto: 3 },
    // scale-up: the engine goes 3 -> 4; the prototype to the next divisor, 6
    { current: 3, utilization: 1, arrivalRatePerSec: 2.6, engine: 4, proto: 6 },
  ])('replica counts that divide the partitions: from $current, engine $engine, prototype $proto', ({ current, utilization, arrivalRatePerSec, engine, proto }) => {
    const compared = byKey('proto_divisors');
    const input = { policy: compared.policy, snapshot: snapshot({ utilization, arrivalRatePerSec }, current), history: EMPTY_HISTORY, currentReplicas: current, override: null, paused: false, now: 60_000 };
    const decision = evaluate(input);
    expect(decision.desiredReplicas).toBe(engine);
    const adjusted = prototypeDecision(decision, input, compared.prototype!, 6);
    expect(adjusted.desiredReplicas).toBe(proto);
    // and the history the next evaluation sees records the change made
    expect(adjusted.history.lastScale).toEqual({ at: 60_000, from: current, to: proto });
    expect(adjusted.history.scaleEvents.at(-1)).toEqual({ at: 60_000, from: current, to: proto });
  });
});
