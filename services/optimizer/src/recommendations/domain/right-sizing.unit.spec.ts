import { DEFAULT_RIGHT_SIZING, estimateRightSize, weightedPercentile, type UsageSample } from './right-sizing';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 27);
/** Values 1..n, all observed `age` ago. */
const flat = (n: number, age = 0): UsageSample[] => Array.from({ length: n }, (_, i) => ({ at: NOW - age, value: i + 1 }));

describe('weighted percentile', () => {
  it.each([
    [0.5, 5],
    [0.9, 9],
    [0.95, 10],
    [1, 10],
  ])('of 1..10 at equal weight, p%p is %p', (p, expected) => {
    expect(weightedPercentile(flat(10).map((s) => ({ value: s.value, weight: 1 })), p)).toBe(expected);
  });

  it('lets a heavier sample hold more of the distribution', () => {
    // Equal weights: the median is the smaller value; a little more weight on 10 moves p51 to it.
    expect(weightedPercentile([{ value: 1, weight: 9 }, { value: 10, weight: 9 }], 0.5)).toBe(1);
    expect(weightedPercentile([{ value: 1, weight: 9 }, { value: 10, weight: 9.0001 }], 0.51)).toBe(10);
  });
});

describe('right-sizing estimate (p90 + 15 %, VPA-style)', () => {
  it('sets the target at p90 plus the margin, with bounds at p50 and a widened p95', () => {
    // 100 samples over 7 days: full confidence, so the upper bound is p95 + 15 % exactly.
    const samples = Array.from({ length: 100 }, (_, i) => ({ at: NOW - 7 * DAY + i, value: (i % 10) + 1 }));
    const estimate = estimateRightSize(samples, NOW, { ...DEFAULT_RIGHT_SIZING, halfLifeMs: Number.POSITIVE_INFINITY })!;
    expect(estimate.confidence).toBe(1);
    expect(estimate.target).toBeCloseTo(9 * 1.15, 10);
    expect(estimate.lowerBound).toBeCloseTo(5 * 1.15, 10);
    expect(estimate.upperBound).toBeCloseTo(10 * 1.15, 10);
  });

  it.each([
    ['10 samples seen just now', flat(10), 0],
    ['10 samples over a day: a tenth of the samples needed', [...flat(5), ...flat(5, DAY)], 0.1],
    ['200 samples over 3.5 days: half the span needed', [...flat(100), ...flat(100, 3.5 * DAY)], 0.5],
  ])('grows confidence with span and samples: %s', (_name, samples, confidence) => {
    expect(estimateRightSize(samples, NOW)!.confidence).toBeCloseTo(confidence, 10);
  });

  it('widens the upper bound while confidence is low', () => {
    const estimate = estimateRightSize(flat(10), NOW)!; // confidence 0
    expect(estimate.upperBound).toBeCloseTo(10 * 1.15 * 2, 10);
  });

  it('counts old usage less: a busy week long past moves the target less than a busy day now', () => {
    const quietNow = Array.from({ length: 50 }, (_, i) => ({ at: NOW - i * 60_000, value: 1 }));
    const busyLongAgo = Array.from({ length: 50 }, (_, i) => ({ at: NOW - 10 * DAY - i * 60_000, value: 8 }));
    // Ten half-lives old, the busy samples weigh 1/1024 each: p90 stays at the quiet level.
    expect(estimateRightSize([...quietNow, ...busyLongAgo], NOW)!.target).toBeCloseTo(1.15, 10);
    // Equal weights (no decay), half the samples are busy: p90 is the busy level.
    expect(estimateRightSize([...quietNow, ...busyLongAgo], NOW, { ...DEFAULT_RIGHT_SIZING, halfLifeMs: Number.POSITIVE_INFINITY })!.target).toBeCloseTo(8 * 1.15, 10);
  });

  it('has nothing to say without usable samples', () => {
    expect(estimateRightSize([], NOW)).toBeNull();
    expect(estimateRightSize([{ at: NOW + 1, value: 3 }, { at: NOW, value: Number.NaN }, { at: NOW, value: -1 }], NOW)).toBeNull();
  });
});
