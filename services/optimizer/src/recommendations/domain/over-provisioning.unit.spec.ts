import { DEFAULT_OVER_PROVISIONING, HOURS_PER_MONTH, overProvisioning, type PoolSample } from './over-provisioning';

const NOW = Date.UTC(2026, 10, 27, 12);
const policy = { ...DEFAULT_OVER_PROVISIONING, minSamples: 10, rightSizing: { ...DEFAULT_OVER_PROVISIONING.rightSizing, halfLifeMs: Number.POSITIVE_INFINITY } };
/** `n` reports a minute apart from one instance with 8 workers of 2 slots, busy as `utilization(i)` says. */
const reports = (n: number, utilization: (i: number) => number, instanceId = 'pool-1', workers = 8, concurrency = 16): PoolSample[] =>
  Array.from({ length: n }, (_, i) => ({ instanceId, windowEndedAt: NOW - i * 60_000, workers, concurrency, utilization: utilization(i) }));

describe('over-provisioning (worked examples)', () => {
  it('sizes a pool 10 % busy down to p90 of its busy slots plus 15 %, in whole workers, and prices the saving', () => {
    // 16 slots, 10 % busy: 1.6 busy slots every time; p90 = 1.6; + 15 % = 1.84 slots → 1 worker of 2 slots.
    const rec = overProvisioning('code_gen', reports(20, () => 0.1), NOW, 140_000, policy)!;
    expect(rec).toMatchObject({ kind: 'over_provisioned', currentWorkers: 8, recommendedWorkers: 1, estimatedMonthlySavingMicros: 7 * 140_000 * HOURS_PER_MONTH });
    expect(rec.efficiency).toBeCloseTo(0.1, 10);
    expect(rec.evidence).toMatchObject({ utilizationPercent: '10', p90BusySlots: '1.60', samples: '20', instances: '1' });
    expect(rec.summary).toBe('the code_gen pool was 10 % busy over the last 60 min: 1 worker(s) instead of 8');
  });

  it('sizes to the busy peaks, not the average: p90 of a pool idle most of the time but at 9 slots one sample in five', () => {
    // busy slots: 9 in 4 of 20 samples (20 %), 0 otherwise; p90 = 9; × 1.15 = 10.35 → 6 workers of 2.
    const rec = overProvisioning('code_gen', reports(20, (i) => (i % 5 === 0 ? 9 / 16 : 0)), NOW, 140_000, policy)!;
    expect(rec).toMatchObject({ currentWorkers: 8, recommendedWorkers: 6 });
  });

  it('calls a pool that ran nothing idle, and leaves it one worker', () => {
    expect(overProvisioning('review', reports(12, () => 0), NOW, 140_000, policy)).toMatchObject({ kind: 'idle_pool', recommendedWorkers: 1, currentWorkers: 8 });
  });

  it.each([
    ['busy enough (35 %)', reports(20, () => 0.35)],
    ['too few samples', reports(9, () => 0)],
    ['samples older than the window', reports(20, () => 0).map((s) => ({ ...s, windowEndedAt: s.windowEndedAt - 2 * 3_600_000 }))],
    ['already at one worker', reports(20, () => 0, 'pool-1', 1, 2)],
  ])('recommends nothing when %s', (_name, samples) => {
    expect(overProvisioning('code_gen', samples, NOW, 140_000, policy)).toBeNull();
  });

  it('sizes each instance on its own and adds them up', () => {
    const rec = overProvisioning('testing', [...reports(10, () => 0.1, 'a'), ...reports(10, () => 0, 'b', 4, 8)], NOW, 100_000, policy)!;
    expect(rec).toMatchObject({ currentWorkers: 12, recommendedWorkers: 2, estimatedMonthlySavingMicros: 10 * 100_000 * HOURS_PER_MONTH, evidence: { instances: '2' } });
  });
});
