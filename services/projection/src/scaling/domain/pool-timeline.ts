import { bandByMinute, type DecidedForecast } from './forecast-band';
import { MINUTE_MS, poolMinutes, roundRate, type ReporterMinute } from './metrics-rollup';
import type { PoolTimelineView, ReplicaChangeView, TimelinePointView } from './scaling-views';

/** A pool event as stored: the desired and ready replicas after it. */
export interface ReplicaEvent extends Omit<ReplicaChangeView, 'at'> {
  readonly at: number;
}

export interface TimelineInputs {
  readonly agentType: string;
  /** Whole minutes, epoch ms: the minutes starting at or after `from` and before `to`. */
  readonly from: number;
  readonly to: number;
  /** The last pool event before `from` (the replicas the range starts with), if any. */
  readonly before: ReplicaEvent | null;
  /** Pool events in [from, to), in the order they happened (those of the same time in the order they came). */
  readonly events: readonly ReplicaEvent[];
  readonly reporters: readonly ReporterMinute[];
  readonly forecasts: readonly DecidedForecast[];
}

/**
 * One point per minute of the range: the replicas at the end of the minute (the last pool event up
 * to then, as a step line draws them), the pool's metrics of the minute where someone reported, and
 * the forecast's band where a forecast covers it. Pool events are listed as well, for exact steps.
 */
export function assembleTimeline(inputs: TimelineInputs): PoolTimelineView {
  const { from, to } = inputs;
  const metrics = poolMinutes(inputs.reporters);
  const band = bandByMinute(inputs.forecasts, from, to);
  // A stable sort: events of the same time keep the order they came in.
  const events = [...inputs.events].sort((a, b) => a.at - b.at);
  const points: TimelinePointView[] = [];
  let replicas: ReplicaEvent | null = inputs.before;
  let next = 0;
  for (let minute = from; minute < to; minute += MINUTE_MS) {
    while (next < events.length && events[next].at < minute + MINUTE_MS) replicas = events[next++];
    const m = metrics.get(minute);
    points.push({
      minute: new Date(minute).toISOString(),
      desiredReplicas: replicas?.desiredReplicas ?? null,
      readyReplicas: replicas?.readyReplicas ?? null,
      backlog: m?.backlog ?? null,
      arrivalRatePerSec: m ? roundRate(m.arrivalRatePerSec) : null,
      reportingWorkers: m?.reportingWorkers ?? null,
      forecast: band.get(minute) ?? null,
    });
  }
  return {
    agentType: inputs.agentType,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    points,
    replicaChanges: events.map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
  };
}

/** Whether the timeline range is one this API serves: whole minutes, `to` after `from`, at most `maxMinutes`. */
export function timelineRange(
  q: { readonly from?: string; readonly to?: string },
  now: number,
  { defaultMinutes = 60, maxMinutes = 1_440 } = {},
): { from: number; to: number } | { problem: { field: 'from' | 'to'; problem: string } } {
  const to = Math.ceil((q.to ? Date.parse(q.to) : now + 1) / MINUTE_MS) * MINUTE_MS;
  const from = Math.floor((q.from ? Date.parse(q.from) : to - defaultMinutes * MINUTE_MS) / MINUTE_MS) * MINUTE_MS;
  if (to <= from) return { problem: { field: 'to', problem: 'must be after from (both round to whole minutes)' } };
  if (to - from > maxMinutes * MINUTE_MS) return { problem: { field: 'from', problem: `the range may span at most ${maxMinutes} minutes (${maxMinutes / 60} hours)` } };
  return { from, to };
}
