import { assertNever, ValidationError, type FieldProblem } from '@flotilla/domain';
import type { ArrivalForecaster, ForecastPoint } from './arrival-forecaster';
import { recentError } from './forecast-error';
import type { ArrivalForecasterState } from './forecaster-state';

/**
 * The predictive advisor (pure): from a pool's forecaster, the arrival rate to provision for now so
 * that workers started now are ready before the load arrives: the highest forecast over
 * [now + time to ready, now + horizon]. Or the reason the forecast is not to be used.
 *
 * It only ever raises. The rate it returns is never below the rate the reactive path sizes for
 * (`observedArrivalRatePerSec`), and `combineReplicaProposals` takes the larger of the reactive and
 * the predictive proposal: a forecast of less load never scales a pool in; scaling in stays with the
 * reactive path, its stabilization window and cooldowns.
 *
 * Modes: `off`; `forecast_only`, the shadow mode: act reactively, and keep a ShadowRecord of what the
 * forecast would have proposed, to be scored once its window has passed; `forecast_and_scale`.
 */
export type PredictiveMode = 'off' | 'forecast_only' | 'forecast_and_scale';

export interface PredictiveAdvisorOptions {
  /** Above this recent error (WAPE of the forecasts made a horizon ahead) the forecast is not used. */
  readonly maxRecentErrorPct?: number;
  /** How many forecasts must have been scored since the seasonal model was fitted before it is trusted. */
  readonly minScoredForecasts?: number;
  /** An error below this rate does not matter for capacity: the WAPE's denominator is at least this per step. */
  readonly errorFloorRatePerSec?: number;
  /** A forecaster whose last observed step ended longer ago than this is not used. */
  readonly maxStalenessMs?: number;
}

export interface PredictiveAdviceRequest {
  readonly mode: PredictiveMode;
  readonly now: number;
  readonly horizonMs: number;
  /** Measured time from asking for a worker to its being ready. */
  readonly timeToReadyMs: number;
  /** The rate the reactive path sizes for now. */
  readonly observedArrivalRatePerSec: number;
  readonly forecaster: ArrivalForecasterState;
}

export interface ForecastWindow {
  readonly fromAt: number;
  readonly toAt: number;
}

/** What the forecast would propose now, whatever the mode. */
export type ForecastEvaluation =
  | {
      readonly usable: true;
      readonly window: ForecastWindow;
      readonly forecastPeakRatePerSec: number;
      readonly peakAt: number;
      /** max(observed, forecast peak): never below what the reactive path sizes for. */
      readonly provisionForRatePerSec: number;
      /** True when the forecast asks for more than the reactive path would. */
      readonly raises: boolean;
      readonly recentErrorPct: number;
      readonly points: readonly ForecastPoint[];
    }
  | { readonly usable: false; readonly reason: string; readonly recentErrorPct: number | null };

export type PredictiveAdvice =
  | ({ readonly source: 'forecast' } & Omit<Extract<ForecastEvaluation, { usable: true }>, 'usable'>)
  | { readonly source: 'reactive'; readonly reason: string; readonly shadow: ShadowRecord | null };

/** What forecast-only mode would have done at `decidedAt`; stored, and scored once its window has passed. */
export interface ShadowRecord {
  readonly version: 1;
  readonly decidedAt: number;
  readonly window: ForecastWindow;
  readonly observedArrivalRatePerSec: number;
  /** Null when the forecast would not have been used either (see `wouldNotUseBecause`). */
  readonly wouldProvisionForRatePerSec: number | null;
  readonly forecastPeakRatePerSec: number | null;
  readonly wouldNotUseBecause: string | null;
  readonly recentErrorPct: number | null;
}

export type ShadowOutcome =
  | { readonly status: 'pending'; readonly reason: string }
  | { readonly status: 'unavailable'; readonly reason: string }
  | {
      readonly status: 'scored';
      readonly actualPeakRatePerSec: number;
      /** |forecast peak − actual peak| / actual peak (with the error floor), per cent. */
      readonly peakErrorPct: number;
      /** Whether provisioning for the forecast would have covered the actual peak; null when it would not have been used. */
      readonly forecastWouldHaveCovered: boolean | null;
      readonly reactiveWouldHaveCovered: boolean;
      readonly observedSteps: number;
      readonly missedSteps: number;
    };

export interface PredictiveAdvisor {
  readonly settings: Required<PredictiveAdvisorOptions>;
  evaluate(request: Omit<PredictiveAdviceRequest, 'mode'>): ForecastEvaluation;
  advise(request: PredictiveAdviceRequest): PredictiveAdvice;
  scoreShadow(record: ShadowRecord, forecaster: ArrivalForecasterState): ShadowOutcome;
}

export function createPredictiveAdvisor(forecaster: ArrivalForecaster, options: PredictiveAdvisorOptions = {}): PredictiveAdvisor {
  const settings = advisorSettings(options);
  const { stepMs } = forecaster.settings;

  const evaluate = (request: Omit<PredictiveAdviceRequest, 'mode'>): ForecastEvaluation => {
    const { now, horizonMs, timeToReadyMs, observedArrivalRatePerSec, forecaster: state } = request;
    const problems: FieldProblem[] = [];
    if (!(horizonMs > 0)) problems.push({ field: 'horizonMs', problem: `must be above 0, got ${horizonMs}` });
    if (!(timeToReadyMs >= 0)) problems.push({ field: 'timeToReadyMs', problem: `must be at least 0, got ${timeToReadyMs}` });
    if (!(observedArrivalRatePerSec >= 0)) problems.push({ field: 'observedArrivalRatePerSec', problem: `must be at least 0, got ${observedArrivalRatePerSec}` });
    if (problems.length > 0) throw new ValidationError(problems);

    const status = forecaster.describe(state);
    const model = state.model;
    const error = model.status === 'empty' ? { scoredCount: 0, errorPct: null } : recentError(model.tracking, settings.errorFloorRatePerSec);
    const notUsable = (reason: string): ForecastEvaluation => ({ usable: false, reason, recentErrorPct: error.errorPct });
    if (!status.seasonal || status.lastObservedStep === null) return notUsable(`history too short: ${status.note}`);
    const silentMs = now - (status.lastObservedStep + 1) * stepMs;
    if (silentMs > settings.maxStalenessMs) return notUsable(`no arrival rate for ${duration(silentMs)} (limit ${duration(settings.maxStalenessMs)})`);
    if (timeToReadyMs > horizonMs) return notUsable(`time to ready ${duration(timeToReadyMs)} is beyond the ${duration(horizonMs)} horizon`);
    if (error.errorPct === null || error.scoredCount < settings.minScoredForecasts) {
      return notUsable(`too few scored forecasts: ${error.scoredCount} of the ${settings.minScoredForecasts} needed`);
    }
    if (error.errorPct > settings.maxRecentErrorPct) return notUsable(`recent error ${Math.round(error.errorPct)} % above the ${settings.maxRecentErrorPct} % limit`);

    const window = { fromAt: now + timeToReadyMs, toAt: now + horizonMs };
    const { points } = forecaster.forecast(state, window);
    if (points.length === 0) return notUsable('the forecast window holds no step');
    const peak = points.reduce((best, p) => (p.ratePerSec > best.ratePerSec ? p : best));
    return {
      usable: true,
      window,
      forecastPeakRatePerSec: peak.ratePerSec,
      peakAt: peak.at,
      provisionForRatePerSec: Math.max(observedArrivalRatePerSec, peak.ratePerSec),
      raises: peak.ratePerSec > observedArrivalRatePerSec,
      recentErrorPct: error.errorPct,
      points,
    };
  };

  return {
    settings,
    evaluate,
    advise(request) {
      switch (request.mode) {
        case 'off':
          return { source: 'reactive', reason: 'mode off', shadow: null };
        case 'forecast_only': {
          const evaluation = evaluate(request);
          const shadow: ShadowRecord = {
            version: 1,
            decidedAt: request.now,
            window: evaluation.usable ? evaluation.window : { fromAt: request.now + request.timeToReadyMs, toAt: request.now + request.horizonMs },
            observedArrivalRatePerSec: request.observedArrivalRatePerSec,
            wouldProvisionForRatePerSec: evaluation.usable ? evaluation.provisionForRatePerSec : null,
            forecastPeakRatePerSec: evaluation.usable ? evaluation.forecastPeakRatePerSec : null,
            wouldNotUseBecause: evaluation.usable ? null : evaluation.reason,
            recentErrorPct: evaluation.recentErrorPct,
          };
          return { source: 'reactive', reason: 'forecast only: acting reactively, the forecast is recorded', shadow };
        }
        case 'forecast_and_scale': {
          const evaluation = evaluate(request);
          if (!evaluation.usable) return { source: 'reactive', reason: evaluation.reason, shadow: null };
          const { usable: _usable, ...advice } = evaluation;
          return { source: 'forecast', ...advice };
        }
        default:
          return assertNever(request.mode, 'predictive mode');
      }
    },
    scoreShadow(record, state) {
      const fromStep = Math.floor(record.window.fromAt / stepMs);
      const toStep = Math.floor(record.window.toAt / stepMs);
      const last = forecaster.describe(state).lastObservedStep;
      if (last === null || last < toStep) return { status: 'pending', reason: `the window runs to step ${toStep}, the last observed is ${last ?? 'none'}` };
      const rates: number[] = [];
      let missedSteps = 0;
      for (let step = fromStep; step <= toStep; step++) {
        const rate = forecaster.observedRate(state, step);
        if (rate === undefined) return { status: 'unavailable', reason: `step ${step} is no longer in the forecaster's history` };
        if (rate === null) missedSteps += 1;
        else rates.push(rate);
      }
      if (rates.length === 0) return { status: 'unavailable', reason: 'no step of the window was observed' };
      const actualPeak = Math.max(...rates);
      const forecastPeak = record.forecastPeakRatePerSec;
      return {
        status: 'scored',
        actualPeakRatePerSec: actualPeak,
        peakErrorPct: forecastPeak === null ? 0 : (100 * Math.abs(forecastPeak - actualPeak)) / Math.max(actualPeak, settings.errorFloorRatePerSec),
        forecastWouldHaveCovered: record.wouldProvisionForRatePerSec === null ? null : record.wouldProvisionForRatePerSec >= actualPeak,
        reactiveWouldHaveCovered: record.observedArrivalRatePerSec >= actualPeak,
        observedSteps: rates.length,
        missedSteps,
      };
    },
  };
}

/**
 * The replicas to ask for: the larger of the two proposals. The predictive one only ever raises the
 * reactive one; with no predictive proposal (mode off, forecast not usable) the reactive one stands.
 */
export function combineReplicaProposals({ reactiveReplicas, predictiveReplicas }: { readonly reactiveReplicas: number; readonly predictiveReplicas: number | null }): {
  readonly replicas: number;
  readonly source: 'reactive' | 'forecast';
} {
  return predictiveReplicas !== null && predictiveReplicas > reactiveReplicas ? { replicas: predictiveReplicas, source: 'forecast' } : { replicas: reactiveReplicas, source: 'reactive' };
}

function advisorSettings(options: PredictiveAdvisorOptions): Required<PredictiveAdvisorOptions> {
  const settings = {
    maxRecentErrorPct: options.maxRecentErrorPct ?? 30,
    minScoredForecasts: options.minScoredForecasts ?? 30,
    errorFloorRatePerSec: options.errorFloorRatePerSec ?? 0.01,
    maxStalenessMs: options.maxStalenessMs ?? 5 * 60_000,
  };
  const problems = Object.entries(settings)
    .filter(([, value]) => !(Number.isFinite(value) && value >= 0))
    .map(([field, value]) => ({ field, problem: `must be a number of at least 0, got ${value}` }));
  if (problems.length > 0) throw new ValidationError(problems);
  return settings;
}

function duration(ms: number): string {
  return ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 6_000) / 10} min`;
}
