import type { MetricTarget, QueueAwareSizing } from '../../policies/domain/scaling-policy';
import { proposeForMetric } from './hpa';
import { busiestWorkerSizing, erlangB, erlangC, erlangCServers, littlesLawServers, meanServiceTimeMs, mmcWaitMs, queueAwareProposal } from './queue-aware';
import { snapshotOf } from './snapshot.fixture';

const erlang = (targetWaitMs: number, defaultServiceTimeMs: number | null = null): QueueAwareSizing => ({ targetWaitMs, model: 'erlang_c', defaultServiceTimeMs });
const littles = (targetWaitMs: number): QueueAwareSizing => ({ targetWaitMs, model: 'littles_law', defaultServiceTimeMs: null });

describe('M/M/c (Erlang C) on worked numbers: λ = 2/s, S = 1.5 s, so a = λ·S = 3 busy slots', () => {
  it.each([
    // c, Erlang B, Erlang C (probability of waiting), W_q = C·S/(c − a)
    [4, 0.2061, 27 / 53, 764.15],
    [5, 0.1101, 81 / 343, 177.11],
    [6, 0.0522, 0.0991, 49.57],
  ])('with %p slots: B = %p, C = %p, W_q = %p ms', (c, b, pWait, waitMs) => {
    expect(erlangB(c, 3)).toBeCloseTo(b, 4);
    expect(erlangC(c, 3)).toBeCloseTo(pWait, 4);
    expect(mmcWaitMs(c, 2, 1500)).toBeCloseTo(waitMs, 2);
  });

  it('cannot keep up with 3 slots or fewer: every arrival waits, for ever on average', () => {
    expect(erlangC(3, 3)).toBe(1);
    expect(mmcWaitMs(3, 2, 1500)).toBe(Number.POSITIVE_INFINITY);
  });

  it('needs 5 slots to keep the expected wait under 200 ms (4 leave it at 764 ms)', () => {
    expect(erlangCServers(2, 1500, 200, 100)).toEqual({ servers: 5, expectedWaitMs: expect.closeTo(177.11, 2), reached: true });
  });

  it('asks for more as the target tightens: 6 slots for 50 ms', () => {
    expect(erlangCServers(2, 1500, 50, 100).servers).toBe(6);
  });

  it('stops at the most servers allowed and says the target is out of reach', () => {
    expect(erlangCServers(2, 1500, 200, 4)).toMatchObject({ servers: 4, reached: false });
  });

  it('turns slots into workers: 5 slots are 3 workers of 2 slots', () => {
    const snapshot = snapshotOf({ slotsPerWorker: 2, arrivalRatePerSec: 2, meanServiceTimeMs: 1500 });
    expect(queueAwareProposal(erlang(200), snapshot, 10)).toMatchObject({ offeredLoad: 3, slots: 5, replicas: 3, note: 'M/M/c: 5 slot(s) keep the expected wait at 177 ms' });
  });
});

describe("Little's law (the fluid estimate)", () => {
  it('with no backlog, runs the λ·S busy slots at 100 %: 3 slots where M/M/c needs 5 (it ignores variability)', () => {
    expect(littlesLawServers(2, 1500, 0, 200)).toEqual({ servers: 3, expectedWaitMs: 0 });
  });

  it('adds the slots that start the waiting backlog within the target: 10 waiting, W = 60 s → ⌈3 + 10 × 1.5 / 60⌉ = 4', () => {
    expect(littlesLawServers(2, 1500, 10, 60_000)).toEqual({ servers: 4, expectedWaitMs: 15_000 });
  });

  it('sizes a batch pool: 0.5 tasks/s of 30 s with 1000 waiting and 10 minutes to start them → 15 + 50 = 65 slots', () => {
    expect(littlesLawServers(0.5, 30_000, 1000, 600_000)).toEqual({ servers: 65, expectedWaitMs: 600_000 });
  });

  it('needs the backlog: without it the estimate is unavailable', () => {
    expect(queueAwareProposal(littles(60_000), snapshotOf({ arrivalRatePerSec: 2, meanServiceTimeMs: 1500 }), 10)).toMatchObject({ replicas: null, note: 'backlog not in the snapshot' });
  });
});

describe('queue-aware proposal', () => {
  it('derives the mean service time by Little\'s law on the slots: 75 % of 4 slots busy at 2 completions/s is 1.5 s', () => {
    expect(meanServiceTimeMs({ utilization: 0.75, concurrency: 4, completionRatePerSec: 2 })).toBe(1500);
    expect(meanServiceTimeMs({ utilization: 0, concurrency: 4, completionRatePerSec: 0 })).toBeNull();
  });

  it('needs no slot without arrivals, even when the service time is unknown (an idle pool can scale down)', () => {
    expect(queueAwareProposal(erlang(200), snapshotOf({ arrivalRatePerSec: 0 }), 10)).toMatchObject({ slots: 0, replicas: 0 });
  });

  it('is unavailable without an arrival rate, or with demand but no service time', () => {
    expect(queueAwareProposal(erlang(200), snapshotOf({}), 10)).toMatchObject({ replicas: null, note: 'arrival rate not in the snapshot' });
    expect(queueAwareProposal(erlang(200), snapshotOf({ arrivalRatePerSec: 2 }), 10)).toMatchObject({ replicas: null });
  });

  it("falls back to the policy's service time when no worker runs, so it can wake a pool from zero", () => {
    expect(queueAwareProposal(erlang(200, 1500), snapshotOf({ arrivalRatePerSec: 2 }), 10)).toMatchObject({ serviceTimeMs: 1500, slots: 5, replicas: 5 });
  });

  it('reacts to a burst before utilization does: arrivals jump from 1.4/s to 4/s', () => {
    // Given 4 one-slot workers, S = 1.5 s, and a utilization target of 50 %.
    const utilization: MetricTarget = { metric: 'utilization', target: 0.5, weight: 1, capacity: null };
    const tolerances = { scaleUp: 0.1, scaleDown: 0.1 };
    // When the window in which arrivals jumped closes, the slots were busy 54 % of it: within HPA's tolerance.
    const burst = snapshotOf({ reportingWorkers: 4, utilization: 0.54, arrivalRatePerSec: 4, meanServiceTimeMs: 1500 });
    expect(proposeForMetric(utilization, burst, 4, tolerances)).toMatchObject({ replicas: 4, outcome: 'within_tolerance' });
    // Then queue-aware sizing already asks for 9: a = 6, and 9 slots keep the wait at 98 ms (8 leave it at 268 ms).
    expect(queueAwareProposal(erlang(200), burst, 20)).toMatchObject({ offeredLoad: 6, slots: 9, replicas: 9 });
    expect(mmcWaitMs(8, 4, 1500)).toBeCloseTo(267.74, 2);
    // Only a window later, saturated at 100 %, does utilization propose ⌈2 × 4⌉ = 8, still short of 9.
    const saturated = snapshotOf({ reportingWorkers: 4, utilization: 1, arrivalRatePerSec: 4, meanServiceTimeMs: 1500 });
    expect(proposeForMetric(utilization, saturated, 4, tolerances)).toMatchObject({ replicas: 8 });
  });
});

describe('a partitioned pool: each worker serves only its own partitions (P = 6, 2 slots a worker, S = 2 s, W = 5 s)', () => {
  // One worker with 2 slots at 0.8 tasks/s: a = 1.6, B(2, 1.6) = 1.28 / 3.88, C = 2B / (2 − a(1 − B)) = 0.7111,
  // W_q = C·S / (2 − a) = 3,555 ms. At 1.6 tasks/s a worker of 2 slots cannot keep up (a = 3.2 > 2).
  it('works the per-worker M/M/2 on its numbers', () => {
    expect(mmcWaitMs(2, 0.8, 2000)).toBeCloseTo(3555.6, 0);
    expect(mmcWaitMs(2, 1.6, 2000)).toBe(Number.POSITIVE_INFINITY);
  });

  it.each([
    // λ, workers, the busiest's partitions, its wait, and what one queue over every slot would ask
    [2.4, 3, 2, 3555.6, 3],
    [4.8, 6, 1, 3555.6, 5],
    // M/M/2 at 0.6/s: a = 1.2, B = 0.72 / 2.92, C = 0.45, W_q = 0.45 × 2000 / 0.8 = 1,125 ms
    [1.2, 2, 3, 1125, 2],
  ])('at %p tasks/s asks for %p workers (the busiest owns %p of 6, waiting %p ms); one shared queue would say %p', (lambda, workers, owned, waitMs, pooled) => {
    expect(busiestWorkerSizing(lambda, 2000, 5000, 2, 6, 10)).toEqual({ workers, expectedWaitMs: expect.closeTo(waitMs, 0), reached: true });
    expect(Math.ceil(6 / workers)).toBe(owned);
    expect(Math.ceil(erlangCServers(lambda, 2000, 5000, 20).servers / 2)).toBe(pooled);
  });

  it('never asks for 4 or 5 workers of 6 partitions: the busiest would still own two, as with 3', () => {
    const asked = new Set<number>();
    for (let lambda = 0.1; lambda <= 4.8; lambda += 0.05) asked.add(busiestWorkerSizing(lambda, 2000, 5000, 2, 6, 10).workers);
    expect(asked.has(4) || asked.has(5)).toBe(false);
    expect([...asked].sort()).toEqual([1, 2, 3, 6]);
  });

  it('never asks for more workers than partitions (they would get none), and says when that is not enough', () => {
    expect(busiestWorkerSizing(6, 2000, 5000, 2, 6, 10)).toEqual({ workers: 6, expectedWaitMs: Number.POSITIVE_INFINITY, reached: false });
  });

  it('is what the erlang_c proposal does when the snapshot knows the partitions, and one queue when it does not', () => {
    const snapshot = snapshotOf({ arrivalRatePerSec: 4.8, meanServiceTimeMs: 2000, slotsPerWorker: 2 });
    const partitioned = queueAwareProposal(erlang(5000), { ...snapshot, partitions: 6 }, 10);
    expect(partitioned).toMatchObject({ replicas: 6, slots: 12, expectedWaitMs: expect.closeTo(3555.6, 0) });
    expect(partitioned.note).toBe('M/M/2 per worker: at 6 worker(s) the busiest owns 1 of 6 partitions and waits 3556 ms');
    expect(queueAwareProposal(erlang(5000), snapshot, 10)).toMatchObject({ replicas: 5 });
  });
});
