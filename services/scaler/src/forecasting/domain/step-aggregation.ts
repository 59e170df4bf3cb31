import type { PoolMetricsReported } from '@flotilla/contracts';

/**
 * From PoolMetricsReported to one arrival rate per step. Every instance of a pool reports its own
 * arrivals every few seconds. The instances share one consumer group, so their arrivals are disjoint
 * parts of the pool's: the pool's rate in a step is all their arrivals over the longest time any of
 * them covered (a worker that joined mid-step adds its arrivals, not its rate over its short span; a
 * pool whose only reports cover part of the step counts at its rate over that part).
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

/** The pool's arrival rate in the step: its instances' arrivals over the longest span any of them covered. */
export function poolRatePerSec(open: OpenStep): number {
  const instances = Object.values(open.instances);
  const coveredMs = Math.max(0, ...instances.map((i) => i.coveredMs));
  return coveredMs > 0 ? (instances.reduce((sum, i) => sum + i.arrivals, 0) * 1000) / coveredMs : 0;
}

/** The open steps the clock has left `closeDelayMs` behind, and the ones still open. */
export function elapsedSteps(open: readonly OpenStep[], now: number, stepMs: number, closeDelayMs: number): { readonly closed: readonly OpenStep[]; readonly stillOpen: readonly OpenStep[] } {
  const isClosed = (o: OpenStep): boolean => now >= (o.step + 1) * stepMs + closeDelayMs;
  return { closed: open.filter(isClosed), stillOpen: open.filter((o) => !isClosed(o)) };
}
