import { expectRate, recentError, scoreActual, emptyTracking } from './forecast-error';
import { advanceUnobserved, dampedSum, fitHoltWinters, initialComponents, runFilter, smooth, varianceFactors } from './holt-winters';
import { minimise } from './nelder-mead';
import { addReport, poolRatePerSec } from './step-aggregation';

describe('Holt–Winters arithmetic (worked examples)', () => {
  it('damps the trend: φ + φ² + … + φʰ', () => {
    expect(dampedSum(0.9, 3)).toBeCloseTo(0.9 + 0.81 + 0.729, 12);
    expect(dampedSum(1, 5)).toBe(5);
    expect(dampedSum(0.9, 0)).toBe(0);
  });

  it('moves the state across missed steps as if each error were zero', () => {
    // level 10, trend 1, φ = 0.5, two steps: level 10 + (0.5 + 0.25)·1, trend 0.25
    expect(advanceUnobserved({ level: 10, trend: 1 }, 0.5, 2)).toEqual({ level: 10.75, trend: 0.25 });
  });

  it('corrects level, trend and season by the one-step error', () => {
    // forecast 10 + 1·1 + 2 = 13, observed 14, error 1
    const next = smooth({ level: 10, trend: 1 }, 2, { alpha: 0.5, beta: 0.1, gamma: 0.2, phi: 1 }, 14);
    expect(next.error).toBe(1);
    expect(next.level).toBeCloseTo(11.5, 12);
    expect(next.trend).toBeCloseTo(1.1, 12);
    expect(next.seasonal).toBeCloseTo(2.2, 12);
  });

  it('widens the band by the weights of the errors still to come', () => {
    // c₁ = 0.5 + 0.1·1 = 0.6; c₂ = 0.5 + 0.1·2 + 0.2 (a whole season of 2) = 0.9
    const factors = varianceFactors({ alpha: 0.5, beta: 0.1, gamma: 0.2, phi: 1 }, 2, 3);
    expect(factors[0]).toBe(1);
    expect(factors[1]).toBeCloseTo(1.36, 12);
    expect(factors[2]).toBeCloseTo(2.17, 12);
  });

  it('starts from the first two seasons: the line through their means, and each slot around it', () => {
    // seasons [1, 3] and [3, 5]: means 2 and 4, so 1 per step; slot 0 sits 0.5 below the line, slot 1 0.5 above
    const start = initialComponents([1, 3, 3, 5], 0, 2);
    expect(start).toEqual({ level: 0.5, trend: 1, seasonal: [-0.5, 0.5] });
    // and from there, a series that keeps to the pattern is forecast without error
    if (start === null) throw new Error('expected components');
    expect(runFilter([1, 3, 3, 5, 5, 7], 0, 2, { alpha: 0.3, beta: 0.1, gamma: 0.1, phi: 1 }, start).sse).toBeCloseTo(0, 20);
    // slots follow the absolute step: starting at step 1, the first value is slot 1
    expect(initialComponents([1, 3, 3, 5], 1, 2)?.seasonal).toEqual([0.5, -0.5]);
    // a season with nothing observed cannot start it
    expect(initialComponents([1, 3, null, null], 0, 2)).toBeNull();
  });

  it('fits a noiseless seasonal series almost exactly', () => {
    const wave = Array.from({ length: 48 }, (_, step) => 20 + 0.1 * step + 5 * Math.sin((2 * Math.PI * step) / 12));
    const fit = fitHoltWinters(wave, 0, 12);
    expect(fit?.mse).toBeLessThan(1e-3);
    expect(fit?.parameters.phi).toBeGreaterThanOrEqual(0.8);
    expect(fit?.parameters.beta).toBeLessThanOrEqual(fit?.parameters.alpha ?? 0);
  });
});

describe('Nelder–Mead', () => {
  it('finds the bottom of a skewed bowl', () => {
    const found = minimise(([x, y]) => (x - 3) ** 2 + 10 * (y + 1) ** 2, [0, 0], { maxEvaluations: 400 });
    expect(found.point[0]).toBeCloseTo(3, 3);
    expect(found.point[1]).toBeCloseTo(-1, 3);
    expect(found.evaluations).toBeLessThanOrEqual(400);
  });

  it('treats a diverging value as the worst', () => {
    const found = minimise(([x]) => (x < -1 ? Number.NaN : (x - 1) ** 2), [0], { maxEvaluations: 100 });
    expect(found.point[0]).toBeCloseTo(1, 3);
  });
});

describe('forecast error (WAPE over the scored forecasts)', () => {
  it('scores each forecast when its step arrives, and drops the ones whose step was missed', () => {
    let tracking = expectRate(expectRate(expectRate(emptyTracking, 5, 10), 6, 12), 7, 9);
    tracking = scoreActual(tracking, 5, 8, 60);
    tracking = scoreActual(tracking, 7, 9, 60); // step 6 never arrived
    expect(tracking).toEqual({
      pending: [],
      scored: [
        { step: 5, forecastRatePerSec: 10, actualRatePerSec: 8 },
        { step: 7, forecastRatePerSec: 9, actualRatePerSec: 9 },
      ],
    });
    // |8 − 10| + |9 − 9| over 8 + 9
    expect(recentError(tracking, 0.01)).toEqual({ scoredCount: 2, errorPct: (100 * 2) / 17 });
  });

  it('keeps only the window, and does not blow up on a quiet hour', () => {
    let tracking = emptyTracking;
    for (let step = 0; step < 5; step++) tracking = scoreActual(expectRate(tracking, step, 0.001), step, 0, 3);
    expect(tracking.scored.map((s) => s.step)).toEqual([2, 3, 4]);
    // 0.003 tasks/s of error over a floor of 3 × 0.01
    expect(recentError(tracking, 0.01).errorPct).toBeCloseTo(10, 10);
    expect(recentError(emptyTracking, 0.01)).toEqual({ scoredCount: 0, errorPct: null });
  });
});

describe('step aggregation', () => {
  it('counts the instances\' arrivals over the longest span any of them covered (a worker joining mid-step adds its tasks, not a second rate)', () => {
    // a alone for 40 s at 1/s, then a and b split the same 1/s for 20 s: 1 task/s, not 1.33.
    let joined = addReport([], 0, { instanceId: 'a', windowStartedAt: 0, windowEndedAt: 40_000, arrivalRatePerSec: 1 });
    joined = addReport(joined, 0, { instanceId: 'a', windowStartedAt: 40_000, windowEndedAt: 60_000, arrivalRatePerSec: 0.5 });
    joined = addReport(joined, 0, { instanceId: 'b', windowStartedAt: 40_000, windowEndedAt: 60_000, arrivalRatePerSec: 0.5 });
    expect(poolRatePerSec(joined[0])).toBeCloseTo(1, 12);
  });

  it('counts a pool whose reports cover part of the step at its rate over that part', () => {
    const open = addReport(addReport([], 0, { instanceId: 'a', windowStartedAt: 0, windowEndedAt: 10_000, arrivalRatePerSec: 2 }), 0, {
      instanceId: 'b',
      windowStartedAt: 50_000,
      windowEndedAt: 55_000,
      arrivalRatePerSec: 6,
    });
    // 20 + 30 tasks over the 10 s of the longest coverage.
    expect(poolRatePerSec(open[0])).toBeCloseTo(5, 12);
  });
});
