import { MINUTE_MS, minuteOf, roundRate } from './metrics-rollup';

/**
 * The forecast's part in a decision, read out of ScalingDecisionRecorded.forecast (the scaler's
 * predictive advice, services/scaler/src/forecasting/domain/predictive-advisor.ts):
 *
 * - `{source: 'forecast', window, forecastPeakRatePerSec, provisionForRatePerSec, recentErrorPct, …}`
 *   when the forecast set the rate the pool was sized for;
 * - `{source: 'reactive', reason, shadow}` otherwise, where `shadow` (forecast-only mode) says what
 *   the forecast would have done: its window, peak and recent error, or why it would not be used.
 *
 * The scaler publishes the advice without the forecast's points, so the band over the window is the
 * peak ± its recent error (WAPE of the forecasts made a horizon ahead). Where the JSON does carry
 * `points` ({at, ratePerSec, lower, upper}, the forecaster's own intervals), those are the band.
 */
export interface ForecastPointRecord {
  readonly at: number;
  readonly ratePerSec: number;
  readonly lower: number;
  readonly upper: number;
}

export interface ForecastRecord {
  /** forecast: it sized the pool; shadow: what forecast-only mode would have done; reactive: not used (see note). */
  readonly source: 'forecast' | 'shadow' | 'reactive';
  readonly windowFrom: number | null;
  readonly windowTo: number | null;
  readonly peakRatePerSec: number | null;
  readonly provisionForRatePerSec: number | null;
  readonly observedRatePerSec: number | null;
  readonly recentErrorPct: number | null;
  /** Why the forecast was not used, when it was not. */
  readonly note: string | null;
  readonly points: readonly ForecastPointRecord[] | null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const obj = (v: unknown): Record<string, unknown> | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

function pointsOf(v: unknown): ForecastPointRecord[] | null {
  if (!Array.isArray(v)) return null;
  const points = v.flatMap((p) => {
    const o = obj(p);
    const at = num(o?.at);
    const rate = num(o?.ratePerSec);
    if (at === null || rate === null) return [];
    return [{ at, ratePerSec: rate, lower: num(o?.lower) ?? rate, upper: num(o?.upper) ?? rate }];
  });
  return points.length > 0 ? points : null;
}

/** The forecast of a decision's `forecast` JSON (parsed); null when it says nothing a read model keeps. */
export function forecastRecordOf(advice: unknown): ForecastRecord | null {
  const a = obj(advice);
  if (!a) return null;
  const windowOf = (w: unknown) => ({ windowFrom: num(obj(w)?.fromAt), windowTo: num(obj(w)?.toAt) });
  if (a.source === 'forecast') {
    return {
      source: 'forecast',
      ...windowOf(a.window),
      peakRatePerSec: num(a.forecastPeakRatePerSec),
      provisionForRatePerSec: num(a.provisionForRatePerSec),
      observedRatePerSec: null,
      recentErrorPct: num(a.recentErrorPct),
      note: null,
      points: pointsOf(a.points),
    };
  }
  if (a.source !== 'reactive') return null;
  const shadow = obj(a.shadow);
  if (shadow) {
    return {
      source: 'shadow',
      ...windowOf(shadow.window),
      peakRatePerSec: num(shadow.forecastPeakRatePerSec),
      provisionForRatePerSec: num(shadow.wouldProvisionForRatePerSec),
      observedRatePerSec: num(shadow.observedArrivalRatePerSec),
      recentErrorPct: num(shadow.recentErrorPct),
      note: str(shadow.wouldNotUseBecause),
      points: pointsOf(shadow.points),
    };
  }
  return { source: 'reactive', windowFrom: null, windowTo: null, peakRatePerSec: null, provisionForRatePerSec: null, observedRatePerSec: null, recentErrorPct: null, note: str(a.reason), points: null };
}

export interface DecidedForecast {
  readonly decisionId: string;
  readonly decidedAt: number;
  readonly record: ForecastRecord;
}

export interface BandPoint {
  readonly ratePerSec: number;
  readonly lower: number;
  readonly upper: number;
  readonly decisionId: string;
}

/**
 * The band at each minute of [from, to) that some forecast covers; where several do, the latest
 * decision's. Points given are placed in their minute; otherwise every minute of the window gets the
 * peak with ± its recent error (none known: a band of zero width).
 */
export function bandByMinute(forecasts: readonly DecidedForecast[], from: number, to: number): Map<number, BandPoint> {
  const band = new Map<number, BandPoint>();
  const ordered = [...forecasts].sort((a, b) => a.decidedAt - b.decidedAt || a.decisionId.localeCompare(b.decisionId));
  for (const { decisionId, record } of ordered) {
    if (record.points) {
      for (const p of record.points) {
        const minute = minuteOf(p.at);
        if (minute >= from && minute < to) band.set(minute, { ratePerSec: roundRate(p.ratePerSec), lower: roundRate(Math.max(0, p.lower)), upper: roundRate(Math.max(p.upper, p.ratePerSec)), decisionId });
      }
      continue;
    }
    const peak = record.peakRatePerSec;
    if (peak === null || record.windowFrom === null || record.windowTo === null) continue;
    const error = Math.max(0, record.recentErrorPct ?? 0) / 100;
    const point = { ratePerSec: roundRate(peak), lower: roundRate(Math.max(0, peak * (1 - error))), upper: roundRate(peak * (1 + error)), decisionId };
    for (let minute = Math.max(minuteOf(record.windowFrom), from); minute <= record.windowTo && minute < to; minute += MINUTE_MS) band.set(minute, point);
  }
  return band;
}
