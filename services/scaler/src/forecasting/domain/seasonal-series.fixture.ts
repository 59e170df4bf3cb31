/**
 * Synthetic arrival rates for the forecasting specs: a daily wave plus a slow trend plus noise from a
 * seeded generator, so every run sees the same numbers.
 */

/** mulberry32: a small seeded generator of uniform numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box–Muller) from a uniform generator. */
export function gaussian(uniform: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

export interface SeriesShape {
  readonly seasonLength: number;
  /** Mean rate, tasks/s. */
  readonly base: number;
  /** Half the peak-to-trough swing of the daily wave. */
  readonly amplitude: number;
  /** Change of the mean per step. */
  readonly trendPerStep: number;
  /** Standard deviation of the noise, as a share of the noiseless rate. */
  readonly noiseShare: number;
  readonly seed: number;
}

export const DAILY_SHAPE: Omit<SeriesShape, 'seasonLength'> = { base: 10, amplitude: 6, trendPerStep: 0.002, noiseShare: 0.05, seed: 42 };

/** The noiseless rate at `step`: what a perfect forecast would say. */
export function expectedRate(shape: SeriesShape, step: number): number {
  const phase = (2 * Math.PI * step) / shape.seasonLength;
  // Two harmonics: a morning peak sharper than the evening trough, as real traffic has.
  return Math.max(0, shape.base + shape.trendPerStep * step + shape.amplitude * Math.sin(phase) + 0.3 * shape.amplitude * Math.sin(2 * phase + 1));
}

/** Rates for steps 0..length-1, never below zero. */
export function seasonalSeries(shape: SeriesShape, length: number): number[] {
  const noise = gaussian(seededRandom(shape.seed));
  return Array.from({ length }, (_, step) => Math.max(0, expectedRate(shape, step) * (1 + shape.noiseShare * noise())));
}

/** Mean absolute percentage error of forecasts against actuals (the actuals here are never near zero). */
export function mape(actual: readonly number[], forecast: readonly number[]): number {
  return (100 * actual.reduce((sum, a, i) => sum + Math.abs(a - forecast[i]) / a, 0)) / actual.length;
}
