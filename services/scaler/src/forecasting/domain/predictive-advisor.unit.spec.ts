import { isValidationError } from '@flotilla/domain';
import { createArrivalForecaster } from './arrival-forecaster';
import type { ArrivalForecasterState } from './forecaster-state';
import { combineReplicaProposals, createPredictiveAdvisor, type PredictiveAdviceRequest } from './predictive-advisor';
import { DAILY_SHAPE, expectedRate, seasonalSeries, seededRandom, type SeriesShape } from './seasonal-series.fixture';

const MINUTE = 60_000;
const atStep = (step: number): number => step * MINUTE;

// A "day" of 96 one-minute steps; the advisor looks 15 minutes ahead and a worker takes 5 to be ready.
const shape: SeriesShape = { ...DAILY_SHAPE, seasonLength: 96, trendPerStep: 0, seed: 5 };
const series = seasonalSeries(shape, 7 * 96);
const forecaster = createArrivalForecaster({ seasonLengthSteps: 96 });
const advisor = createPredictiveAdvisor(forecaster);

/** Given the forecaster after steps [0, until), and a request made at the start of step `until`. */
function at(until: number, overrides: Partial<PredictiveAdviceRequest> = {}, rates: readonly number[] = series): PredictiveAdviceRequest {
  return {
    mode: 'forecast_and_scale',
    now: atStep(until),
    horizonMs: 15 * MINUTE,
    timeToReadyMs: 5 * MINUTE,
    observedArrivalRatePerSec: rates[until - 1],
    forecaster: fedUntil(until, rates),
    ...overrides,
  };
}

const cache = new Map<string, ArrivalForecasterState>();
function fedUntil(until: number, rates: readonly number[]): ArrivalForecasterState {
  const key = `${until}:${rates === series ? 'series' : 'other'}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const state = rates.slice(0, until).reduce((s, rate, step) => forecaster.observeStep(s, step, rate), forecaster.initialState);
  cache.set(key, state);
  return state;
}

describe('predictive advisor', () => {
  it('provisions ahead of a rising edge for the highest forecast between ready and the horizon', () => {
    // given the morning ramp: at step 460, 2.5 tasks/s arrive and the wave is climbing
    const request = at(460);
    // when it is asked
    const advice = advisor.advise(request);
    // then it asks for the peak of steps 465..475 (the truth: 8.68 tasks/s at step 475), well above now
    expect(advice).toMatchObject({ source: 'forecast', raises: true, window: { fromAt: atStep(465), toAt: atStep(475) }, peakAt: atStep(475) });
    if (advice.source !== 'forecast') throw new Error('expected a forecast');
    expect(advice.points.map((p) => p.step)).toEqual([465, 466, 467, 468, 469, 470, 471, 472, 473, 474, 475]);
    expect(advice.provisionForRatePerSec).toBe(advice.forecastPeakRatePerSec);
    expect(advice.forecastPeakRatePerSec).toBeGreaterThan(3 * request.observedArrivalRatePerSec);
    expect(Math.abs(advice.forecastPeakRatePerSec - expectedRate(shape, 475)) / expectedRate(shape, 475)).toBeLessThan(0.1);
    expect(advice.recentErrorPct).toBeLessThan(10);
  });

  it('never lowers: on a falling edge it provisions for what arrives now', () => {
    // given the evening decline: 9.4 tasks/s now, about 6 forecast 15 minutes on
    const request = at(440);
    const advice = advisor.advise(request);
    expect(advice).toMatchObject({ source: 'forecast', raises: false, provisionForRatePerSec: request.observedArrivalRatePerSec });
    if (advice.source !== 'forecast') throw new Error('expected a forecast');
    expect(advice.forecastPeakRatePerSec).toBeLessThan(request.observedArrivalRatePerSec * 0.8);
  });

  it('never proposes less than the reactive path, at any step of a whole day', () => {
    let state = fedUntil(384, series);
    for (let step = 384; step < 480; step++) {
      const observedArrivalRatePerSec = series[step - 1];
      const advice = advisor.advise({ ...at(384), now: atStep(step), observedArrivalRatePerSec, forecaster: state });
      expect(advice.source).toBe('forecast');
      if (advice.source === 'forecast') expect(advice.provisionForRatePerSec).toBeGreaterThanOrEqual(observedArrivalRatePerSec);
      state = forecaster.observeStep(state, step, series[step]);
    }
  });

  it.each([
    [3, null, { replicas: 3, source: 'reactive' }],
    [3, 5, { replicas: 5, source: 'forecast' }],
    [5, 3, { replicas: 5, source: 'reactive' }],
    [4, 4, { replicas: 4, source: 'reactive' }],
  ])('combines reactive %i with predictive %p into the larger: %j', (reactiveReplicas, predictiveReplicas, expected) => {
    expect(combineReplicaProposals({ reactiveReplicas, predictiveReplicas })).toEqual(expected);
  });

  describe('falls back to reactive, and says why', () => {
    it('when the mode is off', () => {
      expect(advisor.advise(at(460, { mode: 'off' }))).toEqual({ source: 'reactive', reason: 'mode off', shadow: null });
    });

    it('when the history is too short to be seasonal', () => {
      expect(advisor.advise(at(30))).toEqual({
        source: 'reactive',
        reason: 'history too short: not seasonal yet: 30 of 192 steps (two seasons) seen; forecasting with holt_linear',
        shadow: null,
      });
    });

    it('when the seasonal model has not been scored enough yet', () => {
      // Seasonal from step 191; its first forecast 15 steps ahead is scored at step 206.
      expect(advisor.advise(at(192))).toMatchObject({ reason: 'too few scored forecasts: 0 of the 30 needed' });
      expect(advisor.advise(at(230))).toMatchObject({ reason: 'too few scored forecasts: 24 of the 30 needed' });
      expect(advisor.advise(at(236)).source).toBe('forecast');
    });

    it('when the recent error is high', () => {
      // given four good days, then an hour of erratic arrivals
      const random = seededRandom(99);
      const erratic = series.map((rate, step) => (step >= 384 && step < 444 ? 40 * random() : rate));
      const advice = advisor.advise(at(444, {}, erratic));
      expect(advice.source).toBe('reactive');
      if (advice.source !== 'reactive') throw new Error('expected reactive');
      expect(advice.reason).toMatch(/^recent error \d+ % above the 30 % limit$/);
      expect(Number(/\d+/.exec(advice.reason)?.[0])).toBeGreaterThan(30);
    });

    it('when the arrival rates have stopped coming', () => {
      expect(advisor.advise(at(460, { now: atStep(460) + 20 * MINUTE }))).toMatchObject({ reason: 'no arrival rate for 20 min (limit 5 min)' });
    });

    it('when a worker takes longer to be ready than the horizon', () => {
      expect(advisor.advise(at(460, { timeToReadyMs: 20 * MINUTE }))).toMatchObject({ reason: 'time to ready 20 min is beyond the 15 min horizon' });
    });
  });

  describe('forecast only (shadow)', () => {
    it('acts reactively, records what it would have done, and scores it once the window has passed', () => {
      // given forecast-only mode on the morning ramp
      const request = at(460, { mode: 'forecast_only' });
      const advice = advisor.advise(request);
      const wouldHave = advisor.advise({ ...request, mode: 'forecast_and_scale' });
      if (advice.source !== 'reactive' || advice.shadow === null || wouldHave.source !== 'forecast') throw new Error('expected a shadow record');
      expect(advice.reason).toBe('forecast only: acting reactively, the forecast is recorded');
      const record = JSON.parse(JSON.stringify(advice.shadow));
      expect(record).toEqual({
        version: 1,
        decidedAt: atStep(460),
        window: { fromAt: atStep(465), toAt: atStep(475) },
        observedArrivalRatePerSec: request.observedArrivalRatePerSec,
        wouldProvisionForRatePerSec: wouldHave.provisionForRatePerSec,
        forecastPeakRatePerSec: wouldHave.forecastPeakRatePerSec,
        wouldNotUseBecause: null,
        recentErrorPct: wouldHave.recentErrorPct,
      });
      // when the window has not passed yet, then it is pending
      expect(advisor.scoreShadow(record, fedUntil(470, series))).toEqual({ status: 'pending', reason: 'the window runs to step 475, the last observed is 469' });
      // when it has, then it is scored against what arrived
      const outcome = advisor.scoreShadow(record, fedUntil(476, series));
      const actualPeak = Math.max(...series.slice(465, 476));
      expect(outcome).toMatchObject({ status: 'scored', actualPeakRatePerSec: actualPeak, reactiveWouldHaveCovered: false, observedSteps: 11, missedSteps: 0 });
      if (outcome.status !== 'scored') throw new Error('expected a score');
      // The highest of eleven noisy steps sits above the mean curve the forecast draws (11 % here): the
      // sizing's headroom, not the forecast, has to cover that.
      expect(outcome.peakErrorPct).toBeLessThan(15);
      // and once the history has moved on past it, it can no longer be scored
      expect(advisor.scoreShadow(record, fedUntil(7 * 96, series))).toEqual({ status: 'unavailable', reason: "step 465 is no longer in the forecaster's history" });
    });

    it('records why the forecast would not have been used either', () => {
      const advice = advisor.advise(at(30, { mode: 'forecast_only' }));
      expect(advice).toMatchObject({
        source: 'reactive',
        shadow: { wouldProvisionForRatePerSec: null, forecastPeakRatePerSec: null, wouldNotUseBecause: expect.stringMatching(/^history too short/) },
      });
    });
  });

  it('refuses a request that makes no sense', () => {
    const attempt = (): unknown => {
      try {
        return advisor.advise(at(460, { horizonMs: 0, timeToReadyMs: -1 }));
      } catch (error) {
        return error;
      }
    };
    const error = attempt();
    expect(isValidationError(error)).toBe(true);
    expect(error).toMatchObject({ message: 'horizonMs: must be above 0, got 0; timeToReadyMs: must be at least 0, got -1' });
    expect(() => createPredictiveAdvisor(forecaster, { maxRecentErrorPct: -5 })).toThrow('maxRecentErrorPct: must be a number of at least 0, got -5');
  });
});
