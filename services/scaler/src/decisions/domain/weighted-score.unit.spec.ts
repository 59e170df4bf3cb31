import type { MetricTarget } from '../../policies/domain/scaling-policy';
import type { PoolSnapshot } from './pool-snapshot';
import { snapshotOf } from './snapshot.fixture';
import { weightedScore, type WeightedRule } from './weighted-score';

const balanced: WeightedRule = { mode: 'weighted', scaleUpThreshold: 0.7, scaleDownThreshold: 0.3, targetScore: 0.5 };
const m = (metric: MetricTarget['metric'], weight: number, capacity: number | null = null): MetricTarget => ({ metric, target: 1, weight, capacity });

/** The seeds' five metrics, normalised as they normalise them: CPU / 100 %, memory / 100 %, response time / 5000 ms, errors / 10 %, requests / 1000 rps. */
const seedsMetrics = (cpuWeight = 1) => [m('cpu', cpuWeight), m('memory', 1, 1000), m('latency_p95', 1), m('error_rate', 1), m('arrival_rate', 1, 1000)];
const seedsSnapshot = snapshotOf({ reportingWorkers: 1, cpuPercentPerWorker: 80, memoryMibPerWorker: 600, latencyP95Ms: 2500, errorRate: 0.02, arrivalRatePerSec: 500 });

function score(metrics: readonly MetricTarget[], figures: Partial<PoolSnapshot>, current: number, rule = balanced) {
  return weightedScore(metrics, rule, snapshotOf({ reportingWorkers: current, ...figures }), current);
}

describe('weighted score (seeds): Σ(normalised × weight) / Σ weight', () => {
  it('normalises each metric to a fraction of its capacity: (0.8 + 0.6 + 0.5 + 0.2 + 0.5) / 5 = 0.52', () => {
    const result = weightedScore(seedsMetrics(), balanced, seedsSnapshot, 1);
    expect(result.terms.map((t) => t.normalised)).toEqual([0.8, 0.6, 0.5, expect.closeTo(0.2, 10), 0.5]);
    expect(result.score).toBeCloseTo(0.52, 10);
    expect(result).toMatchObject({ signal: 'no_change', replicas: 1 });
  });

  it('weighs: CPU at weight 3 gives (2.4 + 0.6 + 0.5 + 0.2 + 0.5) / 7 = 0.6', () => {
    expect(weightedScore(seedsMetrics(3), balanced, seedsSnapshot, 1).score).toBeCloseTo(0.6, 10);
  });

  it.each([
    [0.71, 'scale_up'],
    [0.7, 'no_change'],
    [0.5, 'no_change'],
    [0.3, 'no_change'],
    [0.29, 'scale_down'],
  ])('scales up above the scale-up threshold and down below the scale-down threshold: %p is %s', (utilization, signal) => {
    expect(score([m('utilization', 1)], { utilization }, 4).signal).toBe(signal);
  });

  it('clamps each term to 0..1: an error rate of 50 % against 10 % counts as full, not 5×', () => {
    expect(score([m('error_rate', 1)], { errorRate: 0.5 }, 2).terms[0].normalised).toBe(1);
  });

  it('takes per-worker totals per worker: 24 waiting over 4 workers against a capacity of 10 per worker is 0.6', () => {
    expect(score([m('backlog_per_worker', 1, 10)], { backlog: 24 }, 4).terms[0]).toMatchObject({ value: 6, normalised: 0.6 });
  });
});

describe('weighted score sizing: HPA\'s ratio on the score, landing at the target score', () => {
  it('scales 10 workers at score 0.8 to ⌈10 × 0.8 / 0.5⌉ = 16', () => {
    expect(score([m('utilization', 1)], { utilization: 0.8 }, 10)).toMatchObject({ signal: 'scale_up', replicas: 16 });
  });

  it('scales 10 workers at score 0.2 to ⌈10 × 0.2 / 0.5⌉ = 4', () => {
    expect(score([m('utilization', 1)], { utilization: 0.2 }, 10)).toMatchObject({ signal: 'scale_down', replicas: 4 });
  });

  it('keeps the size inside the band: the thresholds are its tolerance', () => {
    expect(score([m('utilization', 1)], { utilization: 0.65 }, 10)).toMatchObject({ signal: 'no_change', replicas: 10 });
  });

  it('wakes a pool from zero by ⌈score / target⌉: any backlog is a full term, so 1 / 0.5 = 2', () => {
    expect(score([m('backlog_per_worker', 1, 10)], { backlog: 3 }, 0)).toMatchObject({ score: 1, signal: 'scale_up', replicas: 2 });
    expect(score([m('backlog_per_worker', 1, 10)], { backlog: 0 }, 0)).toMatchObject({ score: 0, replicas: 0 });
  });
});

describe('weighted score with missing metrics (HPA\'s rules)', () => {
  const two = [m('utilization', 1), m('latency_p95', 1)];

  it('counts a missing metric as 0: a scale-up the others show still happens', () => {
    // (1.0 + 0) / 2 = 0.5 would not scale up; with utilization weighted 3, (3 + 0) / 4 = 0.75 does.
    expect(score([m('utilization', 3), m('latency_p95', 1)], { utilization: 1 }, 4)).toMatchObject({ score: 0.75, signal: 'scale_up', replicas: 6 });
  });

  it('holds a scale-down while a metric is missing', () => {
    expect(score(two, { utilization: 0.1 }, 4)).toMatchObject({ signal: 'scale_down', replicas: null, note: 'score 0.050 against 0.3..0.7: scale-down held, 1 metric(s) missing' });
  });

  it('holds a scale-down while some workers did not report', () => {
    expect(score(two, { utilization: 0.1, latencyP95Ms: 100, reportingWorkers: 3 }, 4)).toMatchObject({ replicas: null, note: expect.stringContaining('only 3 of 4 workers reported') });
  });

  it('proposes nothing when no metric of the score is known', () => {
    expect(score(two, {}, 4)).toMatchObject({ replicas: null, note: 'no metric of the score is in the snapshot' });
  });
});
