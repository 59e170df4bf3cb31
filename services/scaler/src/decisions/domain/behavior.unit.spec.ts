import { DEFAULT_SCALE_DOWN, DEFAULT_SCALE_UP, type RatePolicy, type ScalingBehavior, type ScalingRules } from '../../policies/domain/scaling-policy';
import { limitRate, scaleDownLimit, scaleUpLimit, stabilize } from './behavior';
import type { ScaleEvent } from './scaling-history';

const NOW = 1_000_000_000;
const s = (seconds: number) => seconds * 1000;
const DEFAULTS: ScalingBehavior = { scaleUp: DEFAULT_SCALE_UP, scaleDown: DEFAULT_SCALE_DOWN };

function rules(selectPolicy: ScalingRules['selectPolicy'], ...policies: RatePolicy[]): ScalingRules {
  return { stabilizationWindowSeconds: 0, selectPolicy, policies, tolerance: null };
}
const pods = (value: number, periodSeconds = 15): RatePolicy => ({ type: 'Pods', value, periodSeconds });
const percent = (value: number, periodSeconds = 15): RatePolicy => ({ type: 'Percent', value, periodSeconds });

describe('stabilization as a rolling window over recommendations', () => {
  it('scales down only to the highest recommendation of the last 300 s (the default scale-down window)', () => {
    const recommendations = [
      { at: NOW - s(290), replicas: 8 },
      { at: NOW - s(200), replicas: 6 },
      { at: NOW - s(100), replicas: 5 },
    ];
    expect(stabilize(recommendations, 3, 8, DEFAULTS, NOW)).toEqual({ replicas: 8, scaleUpBound: 3, scaleDownBound: 8 });
    // Twenty seconds later the 8 is 310 s old and out of the window: the highest left is 6.
    expect(stabilize(recommendations, 3, 8, DEFAULTS, NOW + s(20)).replicas).toBe(6);
  });

  it('rolls: a pool recommended 10 once, then 4, stays at 10 until that 10 is a full window old', () => {
    // Given an evaluation every 60 s recommending 10 and then 4, with the pool at 10.
    const sizes: number[] = [];
    const recommendations: { at: number; replicas: number }[] = [];
    [10, 4, 4, 4, 4, 4, 4].forEach((recommended, i) => {
      const at = NOW + s(60 * i);
      sizes.push(stabilize(recommendations, recommended, 10, DEFAULTS, at).replicas);
      recommendations.push({ at, replicas: recommended });
    });
    // Then the 10 of t = 0 counts while strictly younger than 300 s, and at t = 300 s it no longer does.
    expect(sizes).toEqual([10, 10, 10, 10, 10, 4, 4]);
  });

  it('scales up at once with the default scale-up window of 0 s, whatever came before', () => {
    expect(stabilize([{ at: NOW - s(1), replicas: 2 }], 9, 4, DEFAULTS, NOW).replicas).toBe(9);
  });

  it('scales up only to the lowest recommendation of a scale-up window', () => {
    const behavior = { ...DEFAULTS, scaleUp: { ...DEFAULT_SCALE_UP, stabilizationWindowSeconds: 60 } };
    const recommendations = [{ at: NOW - s(50), replicas: 5 }, { at: NOW - s(30), replicas: 7 }];
    expect(stabilize(recommendations, 9, 4, behavior, NOW)).toEqual({ replicas: 5, scaleUpBound: 5, scaleDownBound: 9 });
    expect(stabilize(recommendations, 9, 4, behavior, NOW + s(15)).replicas).toBe(7);
  });

  it('keeps the current count when it lies between the two bounds', () => {
    const behavior = { ...DEFAULTS, scaleUp: { ...DEFAULT_SCALE_UP, stabilizationWindowSeconds: 60 } };
    // Recent recommendations 3 and 9: a scale-up goes no higher than 3, a scale-down no lower than 9; 6 stays.
    expect(stabilize([{ at: NOW - s(10), replicas: 3 }, { at: NOW - s(5), replicas: 9 }], 7, 6, behavior, NOW).replicas).toBe(6);
  });
});

describe('rate policies: scale-up limit from the replicas at the start of each period', () => {
  it.each([
    ['Pods 4 per 15 s', rules('Max', pods(4)), 10, 14],
    ['Percent 100 per 15 s', rules('Max', percent(100)), 10, 20],
    ['Percent rounds up, so a small pool can grow: 10 % of 3', rules('Max', percent(10)), 3, 4],
    ['Percent of zero replicas is zero', rules('Max', percent(100)), 0, 0],
    ['defaults, Max of 100 % and 4 pods: 1 → 5', DEFAULT_SCALE_UP, 1, 5],
    ['defaults, Max of 100 % and 4 pods: 10 → 20', DEFAULT_SCALE_UP, 10, 20],
    ['selectPolicy Min of 100 % and 4 pods: 1 → 2', rules('Min', percent(100), pods(4)), 1, 2],
    ['selectPolicy Min of 100 % and 4 pods: 10 → 14', rules('Min', percent(100), pods(4)), 10, 14],
    ['selectPolicy Disabled: no scale-up', rules('Disabled', percent(100), pods(4)), 10, 10],
  ])('%s', (_name, scaleUp, current, limit) => {
    expect(scaleUpLimit(current, [], scaleUp, NOW)).toBe(limit);
  });

  it('counts the replicas added within the period: after 10 → 14 ten seconds ago, Pods 4 per 15 s allows nothing more until the period passes', () => {
    const events: ScaleEvent[] = [{ at: NOW - s(10), from: 10, to: 14 }];
    expect(scaleUpLimit(14, events, rules('Max', pods(4)), NOW)).toBe(14);
    expect(scaleUpLimit(14, events, rules('Max', pods(4)), NOW + s(5))).toBe(18);
  });

  it('counts removals within the period too: after 10 → 8, the period started at 10', () => {
    expect(scaleUpLimit(8, [{ at: NOW - s(5), from: 10, to: 8 }], rules('Max', pods(4)), NOW)).toBe(14);
  });
});

describe('rate policies: scale-down limit', () => {
  it.each([
    ['Pods 2 per 60 s', rules('Max', pods(2, 60)), 10, 8],
    ['Percent 10 per 60 s', rules('Max', percent(10, 60)), 10, 9],
    ['Percent keeps (1 − 10 %) rounded down: 15 → 13', rules('Max', percent(10, 60)), 15, 13],
    ['default 100 % per 15 s: to zero', DEFAULT_SCALE_DOWN, 10, 0],
    ['docs, Max of 4 pods and 10 %: 80 → 72 (the percent removes more)', rules('Max', pods(4, 60), percent(10, 60)), 80, 72],
    ['docs, Max of 4 pods and 10 %: 30 → 26 (the pods remove more)', rules('Max', pods(4, 60), percent(10, 60)), 30, 26],
    ['selectPolicy Min of 4 pods and 10 %: 80 → 76 (the smaller change)', rules('Min', pods(4, 60), percent(10, 60)), 80, 76],
    ['selectPolicy Disabled: no scale-down', rules('Disabled', pods(4, 60)), 10, 10],
  ])('%s', (_name, scaleDown, current, limit) => {
    expect(scaleDownLimit(current, [], scaleDown, NOW)).toBe(limit);
  });

  it('counts the replicas removed within the period: after 10 → 8 thirty seconds ago, Pods 2 per 60 s allows nothing more', () => {
    const events: ScaleEvent[] = [{ at: NOW - s(30), from: 10, to: 8 }];
    expect(scaleDownLimit(8, events, rules('Max', pods(2, 60)), NOW)).toBe(8);
    expect(scaleDownLimit(8, events, rules('Max', pods(2, 60)), NOW + s(30))).toBe(6);
  });
});

describe('limiting the stabilized count', () => {
  const behavior: ScalingBehavior = { scaleUp: rules('Max', pods(4)), scaleDown: rules('Max', pods(2, 60)) };

  it.each([
    ['up within the limit', 10, 12, 12, 14],
    ['up past the limit', 10, 20, 14, 14],
    ['down within the limit', 10, 9, 9, 8],
    ['down past the limit', 10, 3, 8, 8],
    ['no change', 10, 10, 10, null],
  ])('%s', (_name, current, desired, replicas, limit) => {
    expect(limitRate(current, desired, behavior, [], NOW)).toEqual({ replicas, limit });
  });

  it('changes nothing while earlier changes put the limit behind the current count', () => {
    // An override took the pool from 2 to 10 five seconds ago: Pods 4 per 15 s counts from 2, so 6 < 10.
    expect(limitRate(10, 12, behavior, [{ at: NOW - s(5), from: 2, to: 10 }], NOW)).toEqual({ replicas: 10, limit: 10 });
  });
});
