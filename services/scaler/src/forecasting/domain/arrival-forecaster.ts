import { assertNever, ValidationError } from '@flotilla/domain';
import { emptyTracking, expectRate, scoreActual } from './forecast-error';
import {
  initialForecasterState,
  forecasterSettings,
  restoreForecasterState,
  type ArrivalForecasterOptions,
  type ArrivalForecasterSettings,
  type ArrivalForecasterState,
  type ForecastModel,
  type StepHistory,
} from './forecaster-state';
import { advanceUnobserved, dampedSum, fitHoltWinters, slotOf, smooth, varianceFactors, type SmoothingParameters } from './holt-winters';
import { addReport, elapsedSteps, poolRatePerSec, stepOfReport, type ArrivalReport } from './step-aggregation';

/**
 * A pool's arrival-rate forecaster (pure): reports in, one observation per step, the model updated
 * online in O(1) per step (plus copying the seasonal array and the 2m-step history, which keeps the
 * state immutable), and a forecast with a band out. The parameters are fitted by Nelder–Mead when two
 * seasons have been seen and again once a season, each time over the last two seasons only, never
 * over the whole history.
 *
 * Why written here and not taken from npm: the JavaScript packages for exponential smoothing
 * (`nostradamus`, `zodiac-ts`) and ARIMA (`arima`, an Emscripten build of ctsa) take the whole series
 * on every call and refit or re-run it; none updates online, keeps a state that can be stored as
 * JSON, handles missing steps or gives a prediction interval; the first two have had no release in
 * years, and a seasonal ARIMA with a 1440-step season is out of reach of the third on a shared 2-core
 * machine. Damped additive Holt–Winters is a standard, well-understood model (R's forecast::hw,
 * statsmodels' ExponentialSmoothing) and is a page of arithmetic.
 */
export type ForecastModelName = 'none' | 'simple_exponential_smoothing' | 'holt_linear' | 'holt_winters';

export interface ForecastPoint {
  readonly step: number;
  /** Start of the step, epoch ms. */
  readonly at: number;
  /** Point forecast, never below 0. */
  readonly ratePerSec: number;
  /** The band: ± predictionIntervalZ standard deviations of the h-step error, cut at 0. */
  readonly lower: number;
  readonly upper: number;
}

export interface ForecasterStatus {
  readonly model: ForecastModelName;
  readonly seasonal: boolean;
  /** For people: which model, and why not a seasonal one yet. */
  readonly note: string;
  readonly lastObservedStep: number | null;
  /** Steps from the first observation to the last, gaps included. */
  readonly elapsedSteps: number;
  readonly observedSteps: number;
  readonly parameters: SmoothingParameters | null;
  /** Standard deviation of the one-step error. */
  readonly residualSdRatePerSec: number | null;
}

export interface ArrivalForecast extends ForecasterStatus {
  readonly points: readonly ForecastPoint[];
}

export interface ArrivalForecaster {
  readonly settings: ArrivalForecasterSettings;
  readonly initialState: ArrivalForecasterState;
  /** Adds one instance's report to its step and closes the steps its window end has left behind. */
  recordPoolMetrics(state: ArrivalForecasterState, report: ArrivalReport): ArrivalForecasterState;
  /** Closes the steps the scaler's clock has left behind, so a silent pool still moves on. */
  closeElapsedSteps(state: ArrivalForecasterState, now: number): ArrivalForecasterState;
  /** One whole step's arrival rate (replays, backfills); a step at or before the last one is ignored. */
  observeStep(state: ArrivalForecasterState, step: number, ratePerSec: number): ArrivalForecasterState;
  /** The forecast for every step from `fromAt`'s to `toAt`'s (not before the next unobserved step). */
  forecast(state: ArrivalForecasterState, window: { readonly fromAt: number; readonly toAt: number }): ArrivalForecast;
  describe(state: ArrivalForecasterState): ForecasterStatus;
  /** The rate observed at `step`: null when it was missed, undefined when no longer (or not yet) held. */
  observedRate(state: ArrivalForecasterState, step: number): number | null | undefined;
  restore(stored: unknown): { readonly state: ArrivalForecasterState; readonly discarded: string | null };
}

/** Below this many observations the warm-up model ignores the trend (simple exponential smoothing). */
export const MIN_STEPS_FOR_TREND = 10;
const MAX_FORECAST_STEPS = 10_000;

type ObservedModel = Exclude<ForecastModel, { status: 'empty' }>;

export function createArrivalForecaster(options: ArrivalForecasterOptions = {}): ArrivalForecaster {
  const settings = forecasterSettings(options);
  const { stepMs, seasonLengthSteps: m, scoredLeadSteps, errorWindowSteps, residualHalfLifeSteps, predictionIntervalZ } = settings;
  const historyLength = 2 * m;
  const residualWeight = 1 - 2 ** (-1 / residualHalfLifeSteps);

  const parametersOf = (model: ObservedModel): SmoothingParameters => {
    if (model.status === 'seasonal') return model.parameters;
    const p = settings.warmUpParameters;
    return model.observedSteps < MIN_STEPS_FOR_TREND ? { alpha: p.alpha, beta: 0, gamma: 0, phi: 1 } : { ...p, gamma: 0 };
  };

  const meanAt = (model: ObservedModel, step: number): number => {
    const h = step - model.lastStep;
    const p = parametersOf(model);
    const seasonal = model.status === 'seasonal' ? model.seasonal[slotOf(step, m)] : 0;
    return model.level + dampedSum(p.phi, h) * model.trend + seasonal;
  };

  const nameOf = (model: ForecastModel): ForecastModelName => {
    switch (model.status) {
      case 'empty':
        return 'none';
      case 'warming_up':
        return model.observedSteps < MIN_STEPS_FOR_TREND ? 'simple_exponential_smoothing' : 'holt_linear';
      case 'seasonal':
        return 'holt_winters';
      default:
        return assertNever(model, 'forecast model');
    }
  };

  const describe = (state: ArrivalForecasterState): ForecasterStatus => {
    const model = state.model;
    if (model.status === 'empty') {
      return { model: 'none', seasonal: false, note: 'no arrival rate observed yet', lastObservedStep: null, elapsedSteps: 0, observedSteps: 0, parameters: null, residualSdRatePerSec: null };
    }
    const elapsed = model.lastStep - model.firstStep + 1;
    const name = nameOf(model);
    const note =
      model.status === 'seasonal'
        ? `holt_winters (additive, damped trend) over a season of ${m} steps, fitted at step ${model.fittedAtStep}`
        : elapsed < historyLength
          ? `not seasonal yet: ${elapsed} of ${historyLength} steps (two seasons) seen; forecasting with ${name}`
          : `not seasonal yet: only ${model.history.observedCount} of the last ${historyLength} steps observed, ${m} needed; forecasting with ${name}`;
    return {
      model: name,
      seasonal: model.status === 'seasonal',
      note,
      lastObservedStep: model.lastStep,
      elapsedSteps: elapsed,
      observedSteps: model.observedSteps,
      parameters: parametersOf(model),
      residualSdRatePerSec: Math.sqrt(model.residualVariance),
    };
  };

  const withTracking = <M extends ObservedModel>(model: M, step: number, observed: number, tracking = model.tracking): M => ({
    ...model,
    tracking: expectRate(scoreActual(tracking, step, observed, errorWindowSteps), step + scoredLeadSteps, Math.max(0, meanAt(model, step + scoredLeadSteps))),
  });

  const residual = (model: ObservedModel, error: number): { residualVariance: number; residualCount: number } => {
    const weight = Math.max(residualWeight, 1 / (model.residualCount + 1));
    return { residualVariance: (1 - weight) * model.residualVariance + weight * error * error, residualCount: model.residualCount + 1 };
  };

  const observe = (model: ForecastModel, step: number, observed: number): ForecastModel => {
    if (model.status === 'empty') {
      const started: ObservedModel = {
        status: 'warming_up',
        level: observed,
        trend: 0,
        firstStep: step,
        lastStep: step,
        observedSteps: 1,
        history: writeHistory({ values: new Array<number | null>(historyLength).fill(null), observedCount: 0 }, step - 1, step, observed),
        residualVariance: 0,
        residualCount: 0,
        tracking: emptyTracking,
      };
      return withTracking(started, step, observed);
    }
    if (step <= model.lastStep) return model;
    const p = parametersOf(model);
    const advanced = advanceUnobserved(model, p.phi, step - model.lastStep - 1);
    const slot = slotOf(step, m);
    const next = smooth(advanced, model.status === 'seasonal' ? model.seasonal[slot] : 0, p, observed);
    const common = {
      level: next.level,
      trend: next.trend,
      lastStep: step,
      observedSteps: model.observedSteps + 1,
      history: writeHistory(model.history, model.lastStep, step, observed),
      ...residual(model, next.error),
    };
    switch (model.status) {
      case 'warming_up': {
        const warming = withTracking({ ...model, ...common }, step, observed);
        return step - model.firstStep + 1 >= historyLength && warming.history.observedCount >= m ? (becomeSeasonal(warming, observed) ?? warming) : warming;
      }
      case 'seasonal': {
        const seasonal = model.seasonal.slice();
        seasonal[slot] = next.seasonal;
        return withTracking(refitIfDue({ ...model, ...common, seasonal }), step, observed);
      }
      default:
        return assertNever(model, 'forecast model');
    }
  };

  const becomeSeasonal = (model: Extract<ForecastModel, { status: 'warming_up' }>, observed: number): ForecastModel | null => {
    const window = chronological(model.history, model.lastStep);
    const fit = fitHoltWinters(window.values, window.firstStep, m);
    if (fit === null) return null;
    const seasonal: Extract<ForecastModel, { status: 'seasonal' }> = {
      ...model,
      status: 'seasonal',
      level: fit.components.level,
      trend: fit.components.trend,
      seasonal: fit.components.seasonal,
      parameters: fit.parameters,
      fittedAtStep: model.lastStep,
      fitMse: fit.mse,
      residualVariance: fit.mse,
      // The warm-up model's errors say nothing about this one: its score starts afresh.
      tracking: emptyTracking,
    };
    return withTracking(seasonal, model.lastStep, observed, emptyTracking);
  };

  const refitIfDue = (model: Extract<ForecastModel, { status: 'seasonal' }>): Extract<ForecastModel, { status: 'seasonal' }> => {
    if (model.lastStep - model.fittedAtStep < settings.refitEverySteps || model.history.observedCount < m) return model;
    const window = chronological(model.history, model.lastStep);
    // The level, trend and season carry on; only the smoothing adapts to the last two seasons.
    const fit = fitHoltWinters(window.values, window.firstStep, m, { start: model.parameters });
    return fit === null ? model : { ...model, parameters: fit.parameters, fitMse: fit.mse, fittedAtStep: model.lastStep };
  };

  const closeElapsedSteps = (state: ArrivalForecasterState, now: number): ArrivalForecasterState => {
    const { closed, stillOpen } = elapsedSteps(state.openSteps, now, stepMs, settings.closeDelayMs);
    if (closed.length === 0) return state;
    return { ...state, openSteps: stillOpen, model: closed.reduce((model, open) => observe(model, open.step, poolRatePerSec(open)), state.model) };
  };

  return {
    settings,
    initialState: initialForecasterState(settings),
    recordPoolMetrics(state, report) {
      if (!(Number.isFinite(report.arrivalRatePerSec) && report.arrivalRatePerSec >= 0)) throw ValidationError.of('arrivalRatePerSec', `must be a rate of at least 0, got ${report.arrivalRatePerSec}`);
      if (!(Number.isFinite(report.windowEndedAt) && report.windowEndedAt >= report.windowStartedAt)) {
        throw ValidationError.of('windowEndedAt', `must not be before windowStartedAt (${report.windowStartedAt}), got ${report.windowEndedAt}`);
      }
      const step = stepOfReport(report, stepMs);
      // A report for a step already closed came too late to count.
      if (state.model.status !== 'empty' && step <= state.model.lastStep) return state;
      return closeElapsedSteps({ ...state, openSteps: addReport(state.openSteps, step, report) }, report.windowEndedAt);
    },
    closeElapsedSteps,
    observeStep(state, step, ratePerSec) {
      if (!(Number.isFinite(ratePerSec) && ratePerSec >= 0)) throw ValidationError.of('ratePerSec', `must be a rate of at least 0, got ${ratePerSec}`);
      if (!Number.isInteger(step)) throw ValidationError.of('step', `must be a whole number, got ${step}`);
      const model = observe(state.model, step, ratePerSec);
      return model === state.model ? state : { ...state, model };
    },
    forecast(state, { fromAt, toAt }) {
      const status = describe(state);
      const model = state.model;
      if (model.status === 'empty') return { ...status, points: [] };
      const first = Math.max(model.lastStep + 1, Math.floor(fromAt / stepMs));
      const last = Math.floor(toAt / stepMs);
      if (last - first + 1 > MAX_FORECAST_STEPS) throw ValidationError.of('toAt', `asks for ${last - first + 1} steps, at most ${MAX_FORECAST_STEPS}`);
      const factors = varianceFactors(parametersOf(model), model.status === 'seasonal' ? m : null, Math.max(0, last - model.lastStep));
      const sd = Math.sqrt(model.residualVariance);
      const points: ForecastPoint[] = [];
      for (let step = first; step <= last; step++) {
        const mean = meanAt(model, step);
        const half = predictionIntervalZ * sd * Math.sqrt(factors[step - model.lastStep - 1]);
        points.push({ step, at: step * stepMs, ratePerSec: Math.max(0, mean), lower: Math.max(0, mean - half), upper: Math.max(0, mean + half) });
      }
      return { ...status, points };
    },
    describe,
    observedRate(state, step) {
      const model = state.model;
      if (model.status === 'empty' || step > model.lastStep || step <= model.lastStep - historyLength || step < model.firstStep) return undefined;
      return model.history.values[slotOf(step, historyLength)];
    },
    restore: (stored) => restoreForecasterState(stored, settings),
  };
}

/** The history after `step` was observed, with the steps missed since `lastStep` marked null. */
function writeHistory(history: StepHistory, lastStep: number, step: number, observed: number): StepHistory {
  const values = history.values.slice();
  const length = values.length;
  let observedCount = history.observedCount;
  for (let s = Math.max(lastStep + 1, step - length + 1); s <= step; s++) {
    const slot = slotOf(s, length);
    if (values[slot] !== null) observedCount -= 1;
    values[slot] = s === step ? observed : null;
  }
  return { values, observedCount: observedCount + 1 };
}

/** The history's steps in order, oldest first, ending at `lastStep`. */
function chronological(history: StepHistory, lastStep: number): { readonly firstStep: number; readonly values: readonly (number | null)[] } {
  const length = history.values.length;
  const firstStep = lastStep - length + 1;
  return { firstStep, values: Array.from({ length }, (_, i) => history.values[slotOf(firstStep + i, length)]) };
}
