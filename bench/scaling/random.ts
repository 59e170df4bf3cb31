/**
 * Seeded random numbers for the scaling simulation: every figure the bench prints follows from the
 * trace and the seed, never from Math.random. One independent stream per purpose (service times,
 * start-up times, trace generation), so that changing one does not shift the others.
 */
export type Uniform = () => number;

/** mulberry32: a small, fast generator of uniform numbers in [0, 1). */
export function seededUniform(seed: number): Uniform {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for stream `stream` of `seed`, so that streams of one seed are unrelated. */
export function streamSeed(seed: number, stream: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/** An exponential draw with the given mean. */
export function exponential(uniform: Uniform, mean: number): number {
  return -mean * Math.log(1 - uniform());
}

/** A standard normal draw (Box–Muller). */
export function standardNormal(uniform: Uniform): number {
  return Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** A log-normal draw with the given mean and σ of its logarithm (coefficient of variation √(e^σ² − 1)). */
export function logNormal(uniform: Uniform, mean: number, sigma: number): number {
  return mean * Math.exp(sigma * standardNormal(uniform) - (sigma * sigma) / 2);
}

/** A triangular draw on [min, max] with its mode at `mode`. */
export function triangular(uniform: Uniform, min: number, mode: number, max: number): number {
  if (max <= min) return min;
  const u = uniform();
  const split = (mode - min) / (max - min);
  return u < split ? min + Math.sqrt(u * (max - min) * (mode - min)) : max - Math.sqrt((1 - u) * (max - min) * (max - mode));
}

/** The mode of a triangular distribution on [min, max] whose median is `median` (clamped to the range). */
export function triangularModeForMedian(min: number, median: number, max: number): number {
  if (max <= min) return min;
  const mid = (min + max) / 2;
  // Median above the midpoint: min + √((max − min)(mode − min)/2) = median; below it, the mirror image.
  const mode = median >= mid ? min + (2 * (median - min) ** 2) / (max - min) : max - (2 * (max - median) ** 2) / (max - min);
  return Math.min(max, Math.max(min, mode));
}
