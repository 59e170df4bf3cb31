import type { PoolMetricsReported } from '@flotilla/contracts';

/**
 * From PoolMetricsReported to one arrival rate per step. Every instance of a pool reports its own
 * arrivals every few seconds; the pool's rate in a step is the sum over instances of each instance's
 * arrivals divided by the time its reports cover (so an instance whose report for the step was lost,
 * or that started mid-step, still counts at its rate, not at a fraction of it).
 *
 * A report belongs to the step that holds the end of its window. A step stays open until the clock
 * is `closeDelayMs` past its end, to let the other instances' reports for it arrive.
 */
export type ArrivalReport = Pick<PoolMetricsReported, 'instanceId' | 'windowStartedAt' | 'windowEndedAt' | 'arrivalRatePerSec'>;

export interface InstanceArrivals {
  readonly arrivals: number;
  readonly coveredMs: number;
}

export interface OpenStep {
  readonly step: number;
  readonly instances: Readonly<Record<string, InstanceArrivals>>;
}

export const stepOfReport = (report: ArrivalReport, stepMs: number): number => Math.floor((report.windowEndedAt - 1) / stepMs);

/** Adds a report to its open step (opening it), keeping the open steps in step order. */
export function addReport(open: readonly OpenStep[], step: number, report: ArrivalReport): OpenStep[] {
  const coveredMs = Math.max(1, report.windowEndedAt - report.windowStartedAt);
  const arrivals = (report.arrivalRatePerSec * coveredMs) / 1000;
  const existing = open.find((o) => o.step === step);
  const before = existing?.instances[report.instanceId] ?? { arrivals: 0, coveredMs: 0 };
  const updated: OpenStep = {
    step,
    instances: { ...existing?.instances, [report.instanceId]: { arrivals: before.arrivals + arrivals, coveredMs: before.coveredMs + coveredMs } },
  };
  return [...open.filter((o) => o.step !== step), updated].sort((a, b) => a.step - b.step);
}

/** The pool's arrival rate in the step: the sum of its instances' rates. */
export function poolRatePerSec(open: OpenStep): number {
  return Object.values(open.instances).reduce((sum, i) => sum + (i.coveredMs > 0 ? (i.arrivals * 1000) / i.coveredMs : 0), 0);
}

/** The open steps the clock has left `closeDelayMs` behind, and the ones still open. */
export function elapsedSteps(open: readonly OpenStep[], now: number, stepMs: number, closeDelayMs: number): { readonly closed: readonly OpenStep[]; readonly stillOpen: readonly OpenStep[] } {
  const isClosed = (o: OpenStep): boolean => now >= (o.step + 1) * stepMs + closeDelayMs;
  return { closed: open.filter(isClosed), stillOpen: open.filter((o) => !isClosed(o)) };
}
