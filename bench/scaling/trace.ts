/**
 * Arrival traces: a CSV of arrival timestamps in milliseconds, one task a line, optionally followed by
 * the task's size (its service time in ms). Lines starting with `#` are comments; a comment of the
 * form `# key=value` is metadata the bench reads:
 *
 * - `start_ms`: the trace's time zero (default: the first timestamp); every other time is relative to it.
 * - `end_ms`: where the trace ends (default: the last arrival).
 * - `measure_from_ms`: figures are measured from here on (default 0): the time before it is warm-up.
 * - `step_at_ms` and `step_rate_per_sec`: space-separated lists of load steps and the arrival rate
 *   after each, for the time to capacity (default: none).
 * - `initial_replicas`: workers at time zero for every policy (default: sized for the first minute).
 * - `season_ms`: the length of the trace's season (a compressed day), for the forecaster.
 * - `name`, `description`: for the tables.
 *
 * A header line (a first field that is not a number) is skipped.
 */
export interface LoadStep {
  readonly atMs: number;
  /** Arrival rate after the step, tasks/s. */
  readonly ratePerSec: number;
}

export interface Trace {
  readonly name: string;
  readonly description: string;
  /** Arrival times from the trace's time zero, ascending. */
  readonly arrivalsMs: Float64Array;
  /** Service time of each task from the size column; NaN where the trace gives none. Null without a size column. */
  readonly sizesMs: Float64Array | null;
  readonly endMs: number;
  readonly measureFromMs: number;
  readonly steps: readonly LoadStep[];
  readonly initialReplicas: number | null;
  readonly seasonMs: number | null;
}

export class TraceFormatError extends Error {
  constructor(
    readonly line: number,
    problem: string,
  ) {
    super(`trace line ${line}: ${problem}`);
    this.name = 'TraceFormatError';
  }
}

export function parseTrace(text: string, fallbackName = 'trace'): Trace {
  const meta = new Map<string, string>();
  const rows: { at: number; size: number }[] = [];
  let sized = false;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    if (line.startsWith('#')) {
      const match = /^#\s*([a-z_]+)\s*=\s*(.*)$/.exec(line);
      if (match) meta.set(match[1], match[2].trim());
      return;
    }
    const [first, second] = line.split(',').map((f) => f.trim());
    const at = Number(first);
    if (first === '' || !Number.isFinite(at)) {
      if (rows.length === 0) return; // a header
      throw new TraceFormatError(index + 1, `timestamp '${first}' is not a number`);
    }
    let size = Number.NaN;
    if (second !== undefined && second !== '') {
      size = Number(second);
      if (!Number.isFinite(size) || size < 0) throw new TraceFormatError(index + 1, `size '${second}' is not a duration in ms`);
      sized = true;
    }
    rows.push({ at, size });
  });
  if (rows.length === 0) throw new TraceFormatError(lines.length, 'no arrivals');
  rows.sort((a, b) => a.at - b.at);
  const number = (key: string): number | null => {
    const value = meta.get(key);
    if (value === undefined || value === '') return null;
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new TraceFormatError(0, `metadata ${key}=${value} is not a number`);
    return parsed;
  };
  const list = (key: string): number[] => (meta.get(key) ?? '').split(/\s+/).filter(Boolean).map(Number);
  const origin = number('start_ms') ?? rows[0].at;
  const arrivalsMs = Float64Array.from(rows, (r) => r.at - origin);
  const stepAt = list('step_at_ms');
  const stepRate = list('step_rate_per_sec');
  if (stepAt.length !== stepRate.length || [...stepAt, ...stepRate].some((n) => !Number.isFinite(n))) {
    throw new TraceFormatError(0, 'step_at_ms and step_rate_per_sec must be lists of numbers of the same length');
  }
  return {
    name: meta.get('name') ?? fallbackName,
    description: meta.get('description') ?? '',
    arrivalsMs,
    sizesMs: sized ? Float64Array.from(rows, (r) => r.size) : null,
    endMs: Math.max(arrivalsMs[arrivalsMs.length - 1], (number('end_ms') ?? Number.NEGATIVE_INFINITY) - origin),
    measureFromMs: number('measure_from_ms') ?? 0,
    steps: stepAt.map((atMs, i) => ({ atMs, ratePerSec: stepRate[i] })),
    initialReplicas: number('initial_replicas'),
    seasonMs: number('season_ms'),
  };
}

export interface TraceFile {
  readonly meta: Readonly<Record<string, string | number>>;
  readonly arrivalsMs: readonly number[];
  readonly sizesMs?: readonly number[];
}

/** The CSV text of a trace: metadata comments, a header, then one arrival a line (ms, whole numbers). */
export function formatTrace({ meta, arrivalsMs, sizesMs }: TraceFile): string {
  const head = Object.entries(meta).map(([key, value]) => `# ${key}=${value}`);
  const header = sizesMs ? 'timestamp_ms,size_ms' : 'timestamp_ms';
  const rows = arrivalsMs.map((at, i) => (sizesMs ? `${Math.round(at)},${Math.round(sizesMs[i])}` : `${Math.round(at)}`));
  return [...head, header, ...rows, ''].join('\n');
}
