import type { Figures } from '../figures';
import { fmt, median } from '../../support';

/** One figure of `measure`, as the comparison shows it. */
interface FigureSpec {
  readonly label: string;
  readonly pick: (f: Figures) => number | null;
  readonly digits: number;
}

const FIGURES: readonly FigureSpec[] = [
  { label: 'SLO-violation s', pick: (f) => f.violationSeconds, digits: 1 },
  { label: 'p95 queue wait s', pick: (f) => f.p95WaitMs / 1000, digits: 2 },
  { label: 'mean queue wait s', pick: (f) => f.meanWaitMs / 1000, digits: 2 },
  { label: 'worker-seconds', pick: (f) => f.workerSeconds, digits: 0 },
  { label: 'time to capacity s', pick: (f) => f.timeToCapacitySeconds, digits: 1 },
  { label: 'scale actions', pick: (f) => f.scaleActions, digits: 0 },
  { label: 'idle-wait s', pick: (f) => f.idleWhileWaitingSeconds, digits: 0 },
  { label: 'tasks measured', pick: (f) => f.tasks, digits: 0 },
];

export interface SimulationColumn {
  readonly label: string;
  readonly runs: readonly Figures[];
}

const value = (v: number | null, digits: number): string => (v === null ? 'n/a' : Number.isFinite(v) ? fmt(v, digits) : 'never');

/** The median of a figure over seeds: null if the figure does not apply, Infinity counts as the largest. */
function medianOf(values: readonly (number | null)[]): number | null {
  return values.some((v) => v === null) ? null : median(values as number[]);
}

function difference(sim: number | null, live: number | null, digits: number): string {
  if (sim === null || live === null) return 'n/a';
  if (!Number.isFinite(sim) || !Number.isFinite(live)) return sim === live ? '=' : 'inf';
  const d = sim - live;
  return `${d > 0 ? '+' : ''}${fmt(d, digits)}`;
}

function ratio(sim: number | null, live: number | null): string {
  if (sim === null || live === null) return 'n/a';
  if (live === 0) return sim === 0 ? '=' : 'inf';
  if (!Number.isFinite(live)) return Number.isFinite(sim) ? '0' : '=';
  return Number.isFinite(sim) ? `${fmt(sim / live, 2)}x` : 'inf';
}

/** The table: per figure, live, then per simulation its median [range] over seeds, sim − live and sim / live. */
export function comparisonTable(live: Figures, sims: readonly SimulationColumn[]): string[] {
  const cell = (sim: SimulationColumn, spec: FigureSpec) => {
    const values = sim.runs.map(spec.pick);
    const m = medianOf(values);
    const finite = values.filter((v): v is number => v !== null);
    const range = finite.length > 0 ? `[${value(Math.min(...finite), spec.digits)}-${value(Math.max(...finite), spec.digits)}]` : '';
    const l = spec.pick(live);
    return [`${value(m, spec.digits)} ${range}`.padStart(22), difference(m, l, spec.digits).padStart(9), ratio(m, l).padStart(9)].join(' ');
  };
  const head = sims.map((s) => `${`${s.label}: median [range]`.padStart(22)} ${'sim-live'.padStart(9)} ${'sim/live'.padStart(9)}`).join(' | ');
  const lines = [`${'figure'.padEnd(20)} ${'live'.padStart(9)} | ${head}`];
  for (const spec of FIGURES) lines.push(`${spec.label.padEnd(20)} ${value(spec.pick(live), spec.digits).padStart(9)} | ${sims.map((s) => cell(s, spec)).join(' | ')}`);
  return lines;
}

/** p-th percentile (nearest rank) of unsorted values; NaN when empty. */
export function pct(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1];
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** "p50 x / p95 y / mean z / max w" of values in ms. */
export function spread(values: readonly number[], digits = 0, unit = 'ms'): string {
  if (values.length === 0) return 'none';
  return `p50 ${fmt(pct(values, 50), digits)} / p95 ${fmt(pct(values, 95), digits)} / mean ${fmt(mean(values), digits)} / max ${fmt(Math.max(...values), digits)} ${unit} (n=${values.length})`;
}
