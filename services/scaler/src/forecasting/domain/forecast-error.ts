/**
 * How good the forecast has been lately. After each step the forecaster notes what it expects for the
 * step `leadSteps` ahead (the far end of the horizon the advisor provisions for, so the score is the
 * one that matters and not the flattering one-step error); when that step's arrival rate is known the
 * pair is scored, and the last `windowSteps` scored pairs are kept.
 *
 * The recent error is the WAPE (weighted absolute percentage error): Σ|actual − forecast| / Σ actual.
 * Not MAPE, which is undefined when a step had no arrivals and explodes on near-zero night-time rates;
 * not sMAPE, which punishes a forecast above the actual less than one below it. WAPE weighs each step
 * by its volume, which is what capacity is bought for. The denominator has a floor (a rate below which
 * an error does not matter for capacity, e.g. a fraction of one worker's service rate) so a quiet hour
 * does not turn a tiny absolute error into thousands of per cent.
 */
export interface PendingForecast {
  readonly step: number;
  readonly ratePerSec: number;
}

export interface ScoredForecast {
  readonly step: number;
  readonly forecastRatePerSec: number;
  readonly actualRatePerSec: number;
}

export interface ForecastTracking {
  /** Forecasts waiting for their step, oldest first. */
  readonly pending: readonly PendingForecast[];
  /** The most recent scored pairs, oldest first. */
  readonly scored: readonly ScoredForecast[];
}

export const emptyTracking: ForecastTracking = { pending: [], scored: [] };

/** The actual rate of `step` is known: scores the forecast made for it; forecasts for missed steps are dropped. */
export function scoreActual(tracking: ForecastTracking, step: number, actualRatePerSec: number, windowSteps: number): ForecastTracking {
  const due = tracking.pending.find((p) => p.step === step);
  const pending = tracking.pending.filter((p) => p.step > step);
  if (due === undefined) return pending.length === tracking.pending.length ? tracking : { ...tracking, pending };
  const scored = [...tracking.scored, { step, forecastRatePerSec: due.ratePerSec, actualRatePerSec }];
  return { pending, scored: scored.slice(Math.max(0, scored.length - windowSteps)) };
}

export function expectRate(tracking: ForecastTracking, step: number, ratePerSec: number): ForecastTracking {
  return { ...tracking, pending: [...tracking.pending.filter((p) => p.step !== step), { step, ratePerSec }] };
}

export interface RecentError {
  readonly scoredCount: number;
  /** WAPE in per cent; null before anything was scored. */
  readonly errorPct: number | null;
}

export function recentError(tracking: ForecastTracking, errorFloorRatePerSec: number): RecentError {
  const n = tracking.scored.length;
  if (n === 0) return { scoredCount: 0, errorPct: null };
  let absolute = 0;
  let actual = 0;
  for (const s of tracking.scored) {
    absolute += Math.abs(s.actualRatePerSec - s.forecastRatePerSec);
    actual += s.actualRatePerSec;
  }
  const denominator = Math.max(actual, n * errorFloorRatePerSec);
  return { scoredCount: n, errorPct: denominator > 0 ? (100 * absolute) / denominator : absolute > 0 ? 100 : 0 };
}
