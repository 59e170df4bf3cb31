import { createArrivalForecaster } from './arrival-forecaster';
import type { ArrivalForecasterState } from './forecaster-state';
import { createPredictiveAdvisor, type PredictiveAdviceRequest, type ShadowRecord } from './predictive-advisor';
import { DAILY_SHAPE, seasonalSeries, type SeriesShape } from './seasonal-series.fixture';
import { addShadow, EMPTY_SHADOW_BOOK, MAX_PENDING, scoreShadows, summarizeShadows, type ShadowBook } from './shadow-book';

const MINUTE = 60_000;
const shape: SeriesShape = { ...DAILY_SHAPE, seasonLength: 96, trendPerStep: 0, seed: 5 };
const series = seasonalSeries(shape, 7 * 96);
const forecaster = createArrivalForecaster({ seasonLengthSteps: 96 });
const advisor = createPredictiveAdvisor(forecaster);

const fed: ArrivalForecasterState[] = [forecaster.initialState];
/** The forecaster after steps [0, until). */
function fedUntil(until: number): ArrivalForecasterState {
  for (let step = fed.length - 1; step < until; step++) fed.push(forecaster.observeStep(fed[step], step, series[step]));
  return fed[until];
}

/** The shadow record of a forecast-only evaluation at `atMs` (the forecaster fed up to that step). */
function shadowAt(atMs: number): ShadowRecord {
  const step = Math.floor(atMs / MINUTE);
  const request: PredictiveAdviceRequest = {
    mode: 'forecast_only',
    now: atMs,
    horizonMs: 15 * MINUTE,
    timeToReadyMs: 5 * MINUTE,
    observedArrivalRatePerSec: series[step - 1],
    forecaster: fedUntil(step),
  };
  const advice = advisor.advise(request);
  if (advice.source !== 'reactive' || !advice.shadow) throw new Error('expected a shadow record');
  return advice.shadow;
}

describe('shadow book (forecast-only tally)', () => {
  it('keeps one record per forecaster step: the first evaluation of the step', () => {
    const first = shadowAt(460 * MINUTE);
    const book = [first, shadowAt(460 * MINUTE + 15_000), shadowAt(460 * MINUTE + 45_000)].reduce((b, r) => addShadow(b, r, MINUTE), EMPTY_SHADOW_BOOK);
    expect(book.pending).toEqual([first]);
    // the same record added again changes nothing (a redelivered evaluation)
    expect(addShadow(book, first, MINUTE)).toBe(book);
    expect(addShadow(book, shadowAt(461 * MINUTE), MINUTE).pending).toHaveLength(2);
  });

  it('is bounded: past MAX_PENDING the oldest record goes', () => {
    let book: ShadowBook = EMPTY_SHADOW_BOOK;
    const record = shadowAt(460 * MINUTE);
    for (let i = 0; i < MAX_PENDING + 5; i++) book = addShadow(book, { ...record, decidedAt: i * MINUTE }, MINUTE);
    expect(book.pending).toHaveLength(MAX_PENDING);
    expect(book.pending[0].decidedAt).toBe(5 * MINUTE);
  });

  it('scores each record once its window has passed, and tallies coverage and error', () => {
    // given forecast-only evaluations through the morning ramp (steps 455–464), each window 5–15 min ahead
    let book: ShadowBook = EMPTY_SHADOW_BOOK;
    for (let step = 455; step < 465; step++) book = addShadow(book, shadowAt(step * MINUTE), MINUTE);

    // when the forecaster has seen only up to step 470, the windows running past it still wait
    const early = scoreShadows(book, advisor.scoreShadow, fedUntil(470), 470 * MINUTE);
    expect(early.tally.scored).toBe(0);
    expect(early).toBe(book);

    // when every window has passed, every record is scored exactly once
    const scored = scoreShadows(book, advisor.scoreShadow, fedUntil(481), 481 * MINUTE);
    expect(scored.pending).toHaveLength(0);
    expect(scored.tally.scored).toBe(10);
    // and scoring again adds nothing (idempotent)
    expect(scoreShadows(scored, advisor.scoreShadow, fedUntil(481), 482 * MINUTE)).toBe(scored);

    // then, on a rising edge, the reactive rate of the moment covers none of the peaks ahead; the forecast most of them
    const summary = summarizeShadows(scored);
    expect(summary).toMatchObject({ scored: 10, pending: 0, unavailable: 0, reactiveCoveredPct: 0, lastScoredAt: 481 * MINUTE });
    expect(summary.forecastCoveredPct).not.toBeNull();
    expect(summary.forecastCoveredPct!).toBeGreaterThanOrEqual(50);
    expect(summary.medianPeakErrorPct!).toBeGreaterThanOrEqual(0);
    expect(summary.medianPeakErrorPct!).toBeLessThan(20);
  });

  it('counts a record whose window left the history as unavailable, not as a miss', () => {
    const book = addShadow(EMPTY_SHADOW_BOOK, shadowAt(460 * MINUTE), MINUTE);
    const late = scoreShadows(book, advisor.scoreShadow, fedUntil(7 * 96), 7 * 96 * MINUTE);
    expect(summarizeShadows(late)).toMatchObject({ scored: 0, pending: 0, unavailable: 1, forecastCoveredPct: null, reactiveCoveredPct: null, medianPeakErrorPct: null });
  });

  it('scores a record whose forecast was not usable for the reactive side only', () => {
    // at step 30 the history is too short: the record says why the forecast would not have been used
    const record = shadowAt(30 * MINUTE);
    expect(record.wouldNotUseBecause).toMatch(/^history too short/);
    const scored = scoreShadows(addShadow(EMPTY_SHADOW_BOOK, record, MINUTE), advisor.scoreShadow, fedUntil(60), 60 * MINUTE);
    expect(scored.tally).toMatchObject({ scored: 1, forecastUsable: 0, forecastCovered: 0, peakErrorsPct: [] });
    expect(summarizeShadows(scored).forecastCoveredPct).toBeNull();
  });
});
