import type { TaskDispatched } from '@flotilla/contracts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EventDriver } from '../../../test/e2e/support/event-driver';
import type { Dispatched } from './record';

export interface RealTimePlan {
  readonly agentType: string;
  /** Arrival times from the slice's time zero, ascending. */
  readonly arrivalsMs: Float64Array;
  /** Each task's duration_ms for the synthetic executor. */
  readonly durationsMs: Float64Array;
}

/**
 * Publishes one TaskDispatched per arrival at its time (`originMs` + arrival, wall clock) to the
 * pool's dispatch topic, as the orchestrator's outbox would: no speed-up. Arrivals that fell due
 * together (or while the previous publish was on its way) go out in one produce request, stamped
 * with the time they went out. `onTick` is called about once a second with how many went out.
 */
export async function dispatchInRealTime(
  driver: EventDriver,
  plan: RealTimePlan,
  originMs: number,
  signal: AbortSignal,
  onTick?: (sent: number) => void,
): Promise<Dispatched[]> {
  const { arrivalsMs, durationsMs, agentType } = plan;
  const sent: Dispatched[] = [];
  let lastTick = Date.now();
  let next = 0;
  while (next < arrivalsMs.length) {
    signal.throwIfAborted();
    const now = Date.now();
    if (onTick && now - lastTick >= 1_000) {
      lastTick = now;
      onTick(sent.length);
    }
    const dueAt = originMs + arrivalsMs[next];
    if (dueAt > now) {
      await sleep(Math.min(dueAt - now, 1_000), undefined, { signal });
      continue;
    }
    const batch: TaskDispatched[] = [];
    while (next < arrivalsMs.length && originMs + arrivalsMs[next] <= now) {
      const durationMs = Math.max(1, Math.round(durationsMs[next]));
      const dispatch: TaskDispatched = { ...driver.dispatch(agentType, durationMs), dispatchedAt: now };
      batch.push(dispatch);
      sent.push({ executionId: dispatch.executionId, index: next, dueAt: originMs + arrivalsMs[next], dispatchedAt: now, durationMs });
      next++;
    }
    await driver.send(batch);
  }
  return sent;
}
