import type { MetricTarget } from '../../policies/domain/scaling-policy';
import { combineByMax, isWithinTolerance, proposeForMetric, roundDown, roundUp } from './hpa';
import type { PoolSnapshot } from './pool-snapshot';
import { snapshotOf } from './snapshot.fixture';

const DEFAULT_TOLERANCE = { scaleUp: 0.1, scaleDown: 0.1 };

function target(metric: MetricTarget['metric'], value: number): MetricTarget {
  return { metric, target: value, weight: 1, capacity: null };
}

function propose(spec: MetricTarget, figures: Partial<PoolSnapshot>, currentReplicas: number, tolerances = DEFAULT_TOLERANCE) {
  return proposeForMetric(spec, snapshotOf({ reportingWorkers: currentReplicas, ...figures }), currentReplicas, tolerances);
}

describe('HPA ratio formula: desired = ⌈current × value / target⌉', () => {
  it.each([
    ['4 workers at 60 % utilization, target 50 %', target('utilization', 0.5), { utilization: 0.6 }, 4, 5],
    ['4 workers at 25 %, target 50 %: halved', target('utilization', 0.5), { utilization: 0.25 }, 4, 2],
    ['docs: 200m of CPU against 100m doubles', target('cpu', 100), { cpuPercentPerWorker: 200 }, 3, 6],
    ['docs: 50m against 100m halves', target('cpu', 100), { cpuPercentPerWorker: 50 }, 4, 2],
    ['Kubernetes blog: 50 replicas at 90 % CPU, target 75 % → 60', target('cpu', 75), { cpuPercentPerWorker: 90 }, 50, 60],
    ['float noise does not add a replica: 5 at 70 % of 50 % is 7', target('utilization', 0.5), { utilization: 0.7 }, 5, 7],
    ['p95 latency 3 s against 1 s, 2 workers', target('latency_p95', 1000), { latencyP95Ms: 3000 }, 2, 6],
  ])('%s', (_name, spec, figures, current, replicas) => {
    expect(propose(spec, figures, current)).toMatchObject({ replicas, outcome: 'computed' });
  });

  it.each([
    ['60 % of 50 % (ratio 1.2)', 0.6, 5, 'computed'],
    ['54 % of 50 % (ratio 1.08): within 0.1', 0.54, 4, 'within_tolerance'],
    ['46 % of 50 % (ratio 0.92): within 0.1', 0.46, 4, 'within_tolerance'],
    ['44 % of 50 % (ratio 0.88)', 0.44, 4, 'computed'],
  ])('proposes no change while the ratio is within the tolerance: %s', (_name, utilization, replicas, outcome) => {
    expect(propose(target('utilization', 0.5), { utilization }, 4)).toMatchObject({ replicas, outcome });
  });

  it('treats the tolerance band as closed, as Kubernetes\' isWithin does (1 − 0.1 ≤ ratio ≤ 1 + 0.1)', () => {
    expect(isWithinTolerance(1.1, DEFAULT_TOLERANCE)).toBe(true);
    expect(isWithinTolerance(0.9, DEFAULT_TOLERANCE)).toBe(true);
    expect(propose(target('cpu', 100), { cpuPercentPerWorker: 110 }, 10)).toMatchObject({ replicas: 10, outcome: 'within_tolerance' });
    expect(propose(target('cpu', 100), { cpuPercentPerWorker: 111 }, 10)).toMatchObject({ replicas: 12, outcome: 'computed' });
  });

  it('takes each direction\'s own tolerance (Kubernetes 1.33 behavior.scaleUp/scaleDown.tolerance)', () => {
    const eager = { scaleUp: 0, scaleDown: 0.2 };
    // 4 workers at 51 % of 50 %: up with no tolerance; 42 % (ratio 0.84) stays within a 0.2 scale-down tolerance.
    expect(propose(target('utilization', 0.5), { utilization: 0.51 }, 4, eager)).toMatchObject({ replicas: 5, outcome: 'computed' });
    expect(propose(target('utilization', 0.5), { utilization: 0.42 }, 4, eager)).toMatchObject({ replicas: 4, outcome: 'within_tolerance' });
  });

  it('sizes a per-worker total by ⌈total / target⌉ (AverageValue), and from zero workers by the total alone', () => {
    expect(propose(target('backlog_per_worker', 5), { backlog: 30 }, 4)).toMatchObject({ replicas: 6, usageRatio: 1.5, outcome: 'computed' });
    expect(propose(target('backlog_per_worker', 5), { backlog: 21 }, 4)).toMatchObject({ replicas: 4, outcome: 'within_tolerance' });
    expect(propose(target('backlog_per_worker', 5), { backlog: 12 }, 0)).toMatchObject({ replicas: 3, usageRatio: null, outcome: 'computed' });
    expect(propose(target('backlog_per_worker', 5), { backlog: 0 }, 0)).toMatchObject({ replicas: 0 });
    expect(propose(target('arrival_rate', 2), { arrivalRatePerSec: 9 }, 2)).toMatchObject({ replicas: 5 });
  });
});

describe('HPA missing-metric rules', () => {
  it('marks a metric missing from the snapshot unavailable', () => {
    expect(propose(target('latency_p95', 1000), {}, 3)).toMatchObject({ replicas: null, outcome: 'unavailable', note: 'not in the snapshot' });
    expect(propose(target('utilization', 0.5), { utilization: 0.7, reportingWorkers: 0 }, 3)).toMatchObject({ replicas: null, outcome: 'unavailable' });
  });

  it('on a scale-up, counts workers that did not report as using 0', () => {
    // 4 workers, 2 reported at 100 % against 40 %: naively ⌈2.5 × 2⌉ = 5 from the reporting ones (⌈2.5 × 4⌉ = 10 for all);
    // with the 2 missing at 0 the ratio is 2 / 1.6 = 1.25, so ⌈1.25 × 4⌉ = 5.
    expect(propose(target('utilization', 0.4), { utilization: 1, reportingWorkers: 2 }, 4)).toMatchObject({
      replicas: 5,
      usageRatio: 1.25,
      outcome: 'computed',
      note: '2 of 4 workers did not report: assumed at 0',
    });
  });

  it('on a scale-down, counts workers that did not report as exactly at the target', () => {
    // 4 workers, 2 reported at 10 % against 50 %: with the 2 missing at 50 % the ratio is 0.6, so ⌈0.6 × 4⌉ = 3, not 1.
    expect(propose(target('utilization', 0.5), { utilization: 0.1, reportingWorkers: 2 }, 4)).toMatchObject({
      replicas: 3,
      outcome: 'computed',
      note: '2 of 4 workers did not report: assumed at the target',
    });
  });

  it('proposes no change when the assumption brings the ratio within the tolerance', () => {
    // 10 workers, 1 reported at 30 % against 50 %: (0.3 + 9 × 0.5) / (10 × 0.5) = 0.96.
    expect(propose(target('utilization', 0.5), { utilization: 0.3, reportingWorkers: 1 }, 10)).toMatchObject({ replicas: 10, outcome: 'within_tolerance' });
  });

  it('proposes no change when the assumption reverses the direction', () => {
    // 5 workers, 2 reported at 100 % against 50 % (ratio 2, up); with 3 missing at 0 the ratio is 0.8 (down).
    expect(propose(target('utilization', 0.5), { utilization: 1, reportingWorkers: 2 }, 5)).toMatchObject({ replicas: 5, outcome: 'direction_reversed' });
  });
});

describe('HPA combination of several metrics', () => {
  it('takes the largest proposal', () => {
    expect(combineByMax([{ source: 'utilization', replicas: 5 }, { source: 'backlog_per_worker', replicas: 8 }, { source: 'cpu', replicas: 3 }], 4)).toEqual({
      replicas: 8,
      source: 'backlog_per_worker',
      note: 'backlog_per_worker proposes the most',
    });
  });

  it('still scales up when a metric is unavailable and another proposes more', () => {
    expect(combineByMax([{ source: 'utilization', replicas: 6 }, { source: 'latency_p95', replicas: null }], 4)).toMatchObject({ replicas: 6, source: 'utilization' });
  });

  it('keeps the current count when a metric is unavailable and the others propose no change', () => {
    expect(combineByMax([{ source: 'utilization', replicas: 4 }, { source: 'latency_p95', replicas: null }], 4)).toMatchObject({ replicas: 4 });
  });

  it('holds a scale-down while any metric is unavailable', () => {
    expect(combineByMax([{ source: 'utilization', replicas: 2 }, { source: 'latency_p95', replicas: null }], 4)).toEqual({
      replicas: null,
      source: null,
      note: 'scale-down to 2 held: latency_p95 unavailable, and HPA scales down only when every metric is known',
    });
  });

  it('decides nothing when no metric is available', () => {
    expect(combineByMax([{ source: 'utilization', replicas: null }], 4)).toEqual({ replicas: null, source: null, note: 'no metric could be computed (utilization)' });
  });
});

describe('rounding of float replica counts', () => {
  it.each([
    [7.000000000000001, 7, 7],
    [2.0999999999999996, 3, 2],
    [0.9999999999999998, 1, 1],
    [5.4, 6, 5],
  ])('%p rounds up to %p and down to %p', (x, up, down) => {
    expect(roundUp(x)).toBe(up);
    expect(roundDown(x)).toBe(down);
  });
});
