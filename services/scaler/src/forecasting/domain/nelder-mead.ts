/**
 * Nelder–Mead downhill simplex (pure, deterministic): minimises a smooth function of a few variables
 * without gradients. Unbounded; map a bounded parameter through a logistic before handing it here.
 * Used once per season to fit the four smoothing parameters, so clarity wins over speed.
 */
export interface MinimiseOptions {
  /** Size of the starting simplex along each coordinate. */
  readonly initialStep?: number;
  readonly maxEvaluations?: number;
  /** Stop when the simplex's values differ by less than this, relative to the best. */
  readonly relativeTolerance?: number;
}

export interface Minimum {
  readonly point: readonly number[];
  readonly value: number;
  readonly evaluations: number;
}

interface Vertex {
  readonly point: readonly number[];
  readonly value: number;
}

export function minimise(
  objective: (point: readonly number[]) => number,
  start: readonly number[],
  { initialStep = 0.5, maxEvaluations = 200, relativeTolerance = 1e-7 }: MinimiseOptions = {},
): Minimum {
  let evaluations = 0;
  const evaluate = (point: readonly number[]): Vertex => {
    evaluations += 1;
    const value = objective(point);
    // A diverging model (NaN, Infinity) is simply the worst vertex.
    return { point, value: Number.isFinite(value) ? value : Number.MAX_VALUE };
  };
  let simplex: Vertex[] = [evaluate(start), ...start.map((_, i) => evaluate(start.map((x, j) => (j === i ? x + initialStep : x))))];

  while (evaluations < maxEvaluations) {
    simplex.sort((a, b) => a.value - b.value);
    const best = simplex[0];
    const worst = simplex[simplex.length - 1];
    const secondWorst = simplex[simplex.length - 2];
    if (Math.abs(worst.value - best.value) <= relativeTolerance * (Math.abs(best.value) + 1e-12)) break;

    const centroid = start.map((_, j) => simplex.slice(0, -1).reduce((sum, v) => sum + v.point[j], 0) / (simplex.length - 1));
    const along = (t: number): number[] => centroid.map((c, j) => c + t * (worst.point[j] - c));

    const reflected = evaluate(along(-1));
    if (reflected.value < best.value) {
      const expanded = evaluate(along(-2));
      simplex[simplex.length - 1] = expanded.value < reflected.value ? expanded : reflected;
    } else if (reflected.value < secondWorst.value) {
      simplex[simplex.length - 1] = reflected;
    } else {
      const outside = reflected.value < worst.value;
      const contracted = evaluate(along(outside ? -0.5 : 0.5));
      if (contracted.value < (outside ? reflected.value : worst.value)) {
        simplex[simplex.length - 1] = contracted;
      } else {
        simplex = [best, ...simplex.slice(1).map((v) => evaluate(best.point.map((b, j) => b + 0.5 * (v.point[j] - b))))];
      }
    }
  }
  simplex.sort((a, b) => a.value - b.value);
  return { point: simplex[0].point, value: simplex[0].value, evaluations };
}
