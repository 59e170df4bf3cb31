import { ValidationError, type FieldProblem } from '@flotilla/domain';
import type { ForecastTracking } from './forecast-error';
import type { SmoothingParameters } from './holt-winters';
import type { OpenStep } from './step-aggregation';

/**
 * The forecaster's state for one pool: a plain, versioned object, stored as JSON (in PostgreSQL) and
 * restored after a restart. Its size is bounded by the season length m: the seasonal array (m numbers)
 * and the history the parameters are fitted on (the last 2m steps); everything else is a few numbers.
 */
export const FORECASTER_STATE_VERSION = 1;

/** The last `values.length` (2m) steps' rates, slot `step mod length`; null where a step was missed. */
export interface StepHistory {
  readonly values: readonly (number | null)[];
  readonly observedCount: number;
}

interface Observed {
  readonly firstStep: number;
  readonly lastStep: number;
  /** Steps with an observation since the first one (gaps not counted). */
  readonly observedSteps: number;
  readonly history: StepHistory;
  /** Variance of the one-step error, exponentially weighted, and how many errors went into it. */
  readonly residualVariance: number;
  readonly residualCount: number;
  readonly tracking: ForecastTracking;
}

/**
 * `empty` before the first step closes; `warming_up` until two seasons have passed (it forecasts with
 * simple exponential smoothing, then Holt's damped linear trend, and says it is not seasonal yet);
 * `seasonal` once Holt–Winters has been fitted on them.
 */
export type ForecastModel =
  | { readonly status: 'empty' }
  | ({ readonly status: 'warming_up'; readonly level: number; readonly trend: number } & Observed)
  | ({
      readonly status: 'seasonal';
      readonly level: number;
      readonly trend: number;
      /** Slot `step mod m`. */
      readonly seasonal: readonly number[];
      readonly parameters: SmoothingParameters;
      readonly fittedAtStep: number;
      /** Mean squared one-step error of the last fit, over its window. */
      readonly fitMse: number;
    } & Observed);

export interface ArrivalForecasterState {
  readonly version: typeof FORECASTER_STATE_VERSION;
  readonly stepMs: number;
  readonly seasonLengthSteps: number;
  /** Steps whose reports are still being collected, oldest first. */
  readonly openSteps: readonly OpenStep[];
  readonly model: ForecastModel;
}

export interface ArrivalForecasterOptions {
  /** One observation per step; the season is counted in steps. */
  readonly stepMs?: number;
  /** 1440 one-minute steps: daily seasonality. */
  readonly seasonLengthSteps?: number;
  /** How long after its end a step waits for late reports of other instances before it is closed. */
  readonly closeDelayMs?: number;
  /** The parameters are fitted again on the last two seasons this often (default once a season). */
  readonly refitEverySteps?: number;
  /** Which forecast is scored against what arrived: the one made this many steps ahead (the horizon). */
  readonly scoredLeadSteps?: number;
  /** How many scored forecasts the recent error is taken over. */
  readonly errorWindowSteps?: number;
  /** Half-life, in steps, of the weight of a one-step error in the residual variance. */
  readonly residualHalfLifeSteps?: number;
  /** Width of the band in standard deviations of the forecast error: 1.96 ≈ 95 % under normal errors. */
  readonly predictionIntervalZ?: number;
  /** The warm-up model's smoothing (its γ is unused). */
  readonly warmUpParameters?: SmoothingParameters;
}

export type ArrivalForecasterSettings = Required<ArrivalForecasterOptions>;

export function forecasterSettings(options: ArrivalForecasterOptions = {}): ArrivalForecasterSettings {
  const seasonLengthSteps = options.seasonLengthSteps ?? 1440;
  const settings: ArrivalForecasterSettings = {
    stepMs: 60_000,
    closeDelayMs: 10_000,
    refitEverySteps: seasonLengthSteps,
    scoredLeadSteps: 15,
    errorWindowSteps: 60,
    residualHalfLifeSteps: 240,
    predictionIntervalZ: 1.96,
    warmUpParameters: { alpha: 0.5, beta: 0.05, gamma: 0, phi: 0.9 },
    ...definedOnly(options),
    seasonLengthSteps,
  };
  const problems: FieldProblem[] = [];
  const integer = (field: keyof ArrivalForecasterSettings, min: number): void => {
    const value = settings[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) problems.push({ field, problem: `must be a whole number of at least ${min}, got ${String(value)}` });
  };
  integer('stepMs', 1);
  integer('seasonLengthSteps', 2);
  integer('closeDelayMs', 0);
  integer('refitEverySteps', 1);
  integer('scoredLeadSteps', 1);
  integer('errorWindowSteps', 1);
  if (!(settings.residualHalfLifeSteps > 0)) problems.push({ field: 'residualHalfLifeSteps', problem: `must be above 0, got ${settings.residualHalfLifeSteps}` });
  if (!(settings.predictionIntervalZ > 0)) problems.push({ field: 'predictionIntervalZ', problem: `must be above 0, got ${settings.predictionIntervalZ}` });
  const { alpha, beta, phi } = settings.warmUpParameters;
  if (!(alpha > 0 && alpha < 1 && beta >= 0 && beta <= alpha && phi > 0 && phi <= 1)) {
    problems.push({ field: 'warmUpParameters', problem: `need 0 < alpha < 1, 0 <= beta <= alpha, 0 < phi <= 1, got ${JSON.stringify(settings.warmUpParameters)}` });
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return settings;
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

export function initialForecasterState(settings: ArrivalForecasterSettings): ArrivalForecasterState {
  return { version: FORECASTER_STATE_VERSION, stepMs: settings.stepMs, seasonLengthSteps: settings.seasonLengthSteps, openSteps: [], model: { status: 'empty' } };
}

/**
 * A stored state, checked before it is trusted; when it cannot be used (another version, another step
 * or season length, a damaged row) the forecaster starts again and says why.
 */
export function restoreForecasterState(stored: unknown, settings: ArrivalForecasterSettings): { readonly state: ArrivalForecasterState; readonly discarded: string | null } {
  const problem = whyUnusable(stored, settings);
  return problem === null ? { state: stored as ArrivalForecasterState, discarded: null } : { state: initialForecasterState(settings), discarded: problem };
}

function whyUnusable(stored: unknown, settings: ArrivalForecasterSettings): string | null {
  if (!isRecord(stored)) return 'not an object';
  if (stored.version !== FORECASTER_STATE_VERSION) return `version ${String(stored.version)}, this forecaster reads ${FORECASTER_STATE_VERSION}`;
  if (stored.stepMs !== settings.stepMs) return `step of ${String(stored.stepMs)} ms, configured ${settings.stepMs} ms`;
  if (stored.seasonLengthSteps !== settings.seasonLengthSteps) return `season of ${String(stored.seasonLengthSteps)} steps, configured ${settings.seasonLengthSteps}`;
  if (!Array.isArray(stored.openSteps) || !stored.openSteps.every((o) => isRecord(o) && Number.isInteger(o.step) && isRecord(o.instances))) return 'openSteps is damaged';
  const model = stored.model;
  if (!isRecord(model)) return 'model is missing';
  if (model.status === 'empty') return null;
  if (model.status !== 'warming_up' && model.status !== 'seasonal') return `unknown model status ${String(model.status)}`;
  const numbers = ['firstStep', 'lastStep', 'observedSteps', 'residualVariance', 'residualCount', 'level', 'trend'];
  const bad = numbers.find((field) => !isFiniteNumber(model[field]));
  if (bad !== undefined) return `model.${bad} is not a finite number`;
  const history = model.history;
  if (!isRecord(history) || !Array.isArray(history.values) || history.values.length !== 2 * settings.seasonLengthSteps) return 'model.history does not hold two seasons';
  if (!history.values.every((v) => v === null || isFiniteNumber(v)) || !isFiniteNumber(history.observedCount)) return 'model.history holds something other than rates';
  const tracking = model.tracking;
  if (!isRecord(tracking) || !Array.isArray(tracking.pending) || !Array.isArray(tracking.scored)) return 'model.tracking is damaged';
  if (model.status === 'seasonal') {
    if (!Array.isArray(model.seasonal) || model.seasonal.length !== settings.seasonLengthSteps || !model.seasonal.every(isFiniteNumber)) return 'model.seasonal does not hold one season';
    const p = model.parameters;
    if (!isRecord(p) || !['alpha', 'beta', 'gamma', 'phi'].every((k) => isFiniteNumber(p[k]))) return 'model.parameters are damaged';
    if (!isFiniteNumber(model.fittedAtStep) || !isFiniteNumber(model.fitMse)) return 'model.fittedAtStep or fitMse is damaged';
  }
  return null;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
