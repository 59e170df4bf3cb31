import type { Trace } from '../trace';

/** A part of a trace, [fromMs, toMs) of its clock, as a trace of its own whose time zero is `fromMs`. */
export interface TraceSlice {
  readonly trace: Trace;
  /** Index in the whole trace of the slice's first task: task i of the slice is task firstIndex + i. */
  readonly firstIndex: number;
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * Cuts [fromMs, toMs) out of `trace`. The slice is measured from `warmupMs` on (or from the whole
 * trace's measure_from_ms, if that is later); its steps are the trace's steps inside it; it starts
 * with the trace's initial replicas, as the live pool does.
 */
export function sliceTrace(trace: Trace, fromMs: number, toMs: number, warmupMs: number): TraceSlice {
  if (!(Number.isFinite(fromMs) && Number.isFinite(toMs) && fromMs >= 0 && toMs > fromMs)) throw new Error(`a slice needs 0 <= from < to, got ${fromMs}..${toMs}`);
  if (!(warmupMs >= 0 && warmupMs < toMs - fromMs)) throw new Error(`the warm-up (${warmupMs} ms) must be shorter than the slice (${toMs - fromMs} ms)`);
  const all = trace.arrivalsMs;
  let first = 0;
  while (first < all.length && all[first] < fromMs) first++;
  let end = first;
  while (end < all.length && all[end] < toMs) end++;
  if (end === first) throw new Error(`trace ${trace.name} has no arrival in [${fromMs}, ${toMs}) ms`);
  const lengthMs = toMs - fromMs;
  return {
    firstIndex: first,
    fromMs,
    toMs,
    trace: {
      ...trace,
      name: `${trace.name}[${fromMs / 1000}s-${toMs / 1000}s]`,
      arrivalsMs: all.slice(first, end).map((at) => at - fromMs),
      sizesMs: trace.sizesMs ? trace.sizesMs.slice(first, end) : null,
      endMs: lengthMs,
      measureFromMs: Math.min(lengthMs, Math.max(warmupMs, trace.measureFromMs - fromMs)),
      steps: trace.steps.filter((s) => s.atMs >= fromMs && s.atMs < toMs).map((s) => ({ atMs: s.atMs - fromMs, ratePerSec: s.ratePerSec })),
    },
  };
}

/** The slice's part of a per-task array of the whole trace (service times drawn for it, for instance). */
export function sliceOf(values: Float64Array, slice: TraceSlice): Float64Array {
  return values.slice(slice.firstIndex, slice.firstIndex + slice.trace.arrivalsMs.length);
}
