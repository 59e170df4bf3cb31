import { minimise } from './nelder-mead';

/**
 * Additive Holt–Winters with a damped trend, in the error-correction form of ETS(A,Ad,A) (Hyndman,
 * Koehler, Ord & Snyder, "Forecasting with Exponential Smoothing", 2008, ch. 2 and 6). For one step:
 *
 *   forecast  ŷ = ℓ + φb + s[slot]              e = y − ŷ
 *   level     ℓ ← ℓ + φb + αe
 *   trend     b ← φb + βe
 *   seasonal  s[slot] ← s[slot] + γe
 *
 * and h steps ahead ŷ(h) = ℓ + (φ + φ² + … + φʰ)b + s[slot of that step]. The seasonal array is
 * indexed by the absolute step number modulo the season length m, so step 0 of every day (at
 * 1-minute steps, m = 1440) is always slot 0, and a gap never shifts the season.
 *
 * Pure functions over plain numbers; the loops that fit the parameters mutate only their own locals.
 */
export interface SmoothingParameters {
  /** Level, 0 < α < 1. */
  readonly alpha: number;
  /** Trend, 0 < β < α (ETS form: β = α·β* of the textbook form). */
  readonly beta: number;
  /** Season, 0 ≤ γ < 1 − α (ETS form: γ = (1 − α)·γ*). */
  readonly gamma: number;
  /** Damping of the trend, 0.8 ≤ φ ≤ 0.98: a trend flattens out instead of running away. */
  readonly phi: number;
}

export interface SeasonalComponents {
  readonly level: number;
  readonly trend: number;
  /** One value per slot, `step mod m`; they sum to about zero. */
  readonly seasonal: readonly number[];
}

export interface TrendComponents {
  readonly level: number;
  readonly trend: number;
}

/** Where the Nelder–Mead search starts, and the parameters of the warm-up model (no season yet). */
export const DEFAULT_SEASONAL_PARAMETERS: SmoothingParameters = { alpha: 0.2, beta: 0.01, gamma: 0.1, phi: 0.95 };

export const slotOf = (step: number, seasonLength: number): number => ((step % seasonLength) + seasonLength) % seasonLength;

/** φ + φ² + … + φʰ: how much of today's trend is still added h steps ahead. */
export function dampedSum(phi: number, h: number): number {
  if (h <= 0) return 0;
  return phi === 1 ? h : (phi * (1 - phi ** h)) / (1 - phi);
}

/** The state k steps later with no observation in between: every error is taken as zero. O(1). */
export function advanceUnobserved(components: TrendComponents, phi: number, steps: number): TrendComponents {
  if (steps <= 0) return components;
  return { level: components.level + dampedSum(phi, steps) * components.trend, trend: phi ** steps * components.trend };
}

/** One observation through a damped Holt (no season) or, with `seasonal`, Holt–Winters step. */
export function smooth(components: TrendComponents, seasonal: number, p: SmoothingParameters, observed: number): TrendComponents & { readonly error: number; readonly seasonal: number } {
  const error = observed - (components.level + p.phi * components.trend + seasonal);
  return {
    error,
    level: components.level + p.phi * components.trend + p.alpha * error,
    trend: p.phi * components.trend + p.beta * error,
    seasonal: seasonal + p.gamma * error,
  };
}

/**
 * How much wider the h-step forecast error is than the one-step one, for h = 1..maxSteps:
 * var(h) = σ²·(1 + Σ_{j<h} c_j²) with c_j = α + β(φ + … + φʲ) + γ·[j is a whole number of seasons]
 * (Hyndman et al. 2008, §6.1; class 1 models). `seasonLength` null: no season.
 */
export function varianceFactors(p: SmoothingParameters, seasonLength: number | null, maxSteps: number): number[] {
  const factors: number[] = [];
  let sum = 1;
  for (let h = 1; h <= maxSteps; h++) {
    factors.push(sum);
    const seasonal = seasonLength !== null && h % seasonLength === 0 ? p.gamma : 0;
    const c = p.alpha + p.beta * dampedSum(p.phi, h) + seasonal;
    sum += c * c;
  }
  return factors;
}

/**
 * Starting values from the first two seasons of `values` (step `firstStep` onwards; null = missed):
 * the trend is the change between the two seasons' means per step, the level is where that line
 * stands just before the first step, and each slot's seasonal value is its average distance from the
 * line (zero for a slot never observed), centred to sum to zero. Null when a season has no data.
 */
export function initialComponents(values: readonly (number | null)[], firstStep: number, seasonLength: number): SeasonalComponents | null {
  const firstMean = mean(values.slice(0, seasonLength));
  const secondMean = mean(values.slice(seasonLength, 2 * seasonLength));
  if (firstMean === null || secondMean === null) return null;
  const trend = (secondMean - firstMean) / seasonLength;
  const centre = (seasonLength - 1) / 2;
  const lineAt = (i: number): number => firstMean + trend * (i - centre);
  const sums = new Array<number>(seasonLength).fill(0);
  const counts = new Array<number>(seasonLength).fill(0);
  for (let i = 0; i < Math.min(values.length, 2 * seasonLength); i++) {
    const y = values[i];
    if (y === null) continue;
    const slot = slotOf(firstStep + i, seasonLength);
    sums[slot] += y - lineAt(i);
    counts[slot] += 1;
  }
  const raw = sums.map((s, slot) => (counts[slot] > 0 ? s / counts[slot] : 0));
  const offset = raw.reduce((a, b) => a + b, 0) / seasonLength;
  return { level: lineAt(-1), trend, seasonal: raw.map((s) => s - offset) };
}

function mean(values: readonly (number | null)[]): number | null {
  let sum = 0;
  let count = 0;
  for (const y of values) {
    if (y === null) continue;
    sum += y;
    count += 1;
  }
  return count > 0 ? sum / count : null;
}

export interface FilterRun extends SeasonalComponents {
  /** Sum of squared one-step errors over the observed steps, and how many there were. */
  readonly sse: number;
  readonly count: number;
}

/** Runs the model over `values` from `start`; missed steps move the state on without an error. */
export function runFilter(values: readonly (number | null)[], firstStep: number, seasonLength: number, p: SmoothingParameters, start: SeasonalComponents): FilterRun {
  let level = start.level;
  let trend = start.trend;
  const seasonal = start.seasonal.slice();
  let sse = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const y = values[i];
    const slot = slotOf(firstStep + i, seasonLength);
    if (y === null) {
      level += p.phi * trend;
      trend *= p.phi;
      continue;
    }
    const error = y - (level + p.phi * trend + seasonal[slot]);
    level += p.phi * trend + p.alpha * error;
    trend = p.phi * trend + p.beta * error;
    seasonal[slot] += p.gamma * error;
    sse += error * error;
    count += 1;
  }
  return { level, trend, seasonal, sse, count };
}

export interface HoltWintersFit {
  readonly parameters: SmoothingParameters;
  /** The state after the last step of the window, filtered with the fitted parameters. */
  readonly components: SeasonalComponents;
  /** Mean squared one-step error over the window. */
  readonly mse: number;
  readonly evaluations: number;
}

const ALPHA = { low: 0.05, high: 0.99 };
const PHI = { low: 0.8, high: 0.98 };

/**
 * Parameters that minimise the one-step-ahead squared error over `values` (at least two seasons),
 * by Nelder–Mead over logistic-mapped parameters that keep 0 < β < α and γ < 1 − α. Starts from
 * `start` (the current parameters, on a refit). Null when the window cannot be initialised.
 */
export function fitHoltWinters(
  values: readonly (number | null)[],
  firstStep: number,
  seasonLength: number,
  { start = DEFAULT_SEASONAL_PARAMETERS, maxEvaluations = 240 }: { readonly start?: SmoothingParameters; readonly maxEvaluations?: number } = {},
): HoltWintersFit | null {
  const initial = initialComponents(values, firstStep, seasonLength);
  if (initial === null) return null;
  const objective = (u: readonly number[]): number => {
    const run = runFilter(values, firstStep, seasonLength, fromUnbounded(u), initial);
    return run.count > 0 ? run.sse / run.count : Number.MAX_VALUE;
  };
  // A second search from the first one's result: Nelder–Mead can stall on a flat ridge.
  const first = minimise(objective, toUnbounded(start), { maxEvaluations: maxEvaluations / 2 });
  const second = minimise(objective, first.point, { maxEvaluations: maxEvaluations / 2, initialStep: 0.25 });
  const parameters = fromUnbounded(second.point);
  const run = runFilter(values, firstStep, seasonLength, parameters, initial);
  return {
    parameters,
    components: { level: run.level, trend: run.trend, seasonal: run.seasonal },
    mse: run.count > 0 ? run.sse / run.count : 0,
    evaluations: first.evaluations + second.evaluations,
  };
}

const logistic = (u: number): number => 1 / (1 + Math.exp(-u));
const logit = (x: number): number => {
  const clamped = Math.min(1 - 1e-6, Math.max(1e-6, x));
  return Math.log(clamped / (1 - clamped));
};
const within = (range: { low: number; high: number }, share: number): number => range.low + (range.high - range.low) * share;

function fromUnbounded([a, b, g, f]: readonly number[]): SmoothingParameters {
  const alpha = within(ALPHA, logistic(a));
  return { alpha, beta: alpha * logistic(b), gamma: (1 - alpha) * logistic(g), phi: within(PHI, logistic(f)) };
}

function toUnbounded(p: SmoothingParameters): number[] {
  return [
    logit((p.alpha - ALPHA.low) / (ALPHA.high - ALPHA.low)),
    logit(p.beta / p.alpha),
    logit(p.gamma / (1 - p.alpha)),
    logit((p.phi - PHI.low) / (PHI.high - PHI.low)),
  ];
}
