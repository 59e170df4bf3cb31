import { liveWorkers, type Active, type Worker } from './pool-replicas';

export interface PlanSettings {
  /** A worker not ready this long after it started has failed to start. */
  readonly startTimeoutMs: number;
  /** A draining worker still there this long after it was asked to leave is stopped hard. */
  readonly drainTimeoutMs: number;
  /** Back-off after a worker failed to start: 1 s, doubling per failure in a row, up to this. */
  readonly maxStartBackoffMs: number;
}

export interface ProvisioningPlan {
  /** Workers to start now (new ids are the provisioner's). */
  readonly start: number;
  /** Workers to ask to drain: starting ones first (they hold nothing yet), then the youngest ready. */
  readonly drain: readonly string[];
  /** Starting workers past the start timeout: stop them and record that they failed to start. */
  readonly startTimedOut: readonly string[];
  /** Draining workers past the drain timeout: stop them hard (what they hold is handed back). */
  readonly drainTimedOut: readonly string[];
  /** When the next start is allowed after failures in a row; null when now. */
  readonly startBlockedUntil: number | null;
}

/**
 * What the process provisioner does to bring the pool to its desired replicas, at `now`: pure, so
 * the same state always gives the same plan, and a provisioner restarted mid-way goes on from the
 * pool's record. (A Kubernetes Deployment makes this plan itself; that provisioner only sets the
 * Deployment's replicas.)
 */
export function planProvisioning(state: Active, now: number, settings: PlanSettings): ProvisioningPlan {
  const startTimedOut = Object.values(state.workers)
    .filter((w) => w.status === 'starting' && now - w.startingAt >= settings.startTimeoutMs)
    .map((w) => w.workerId);
  const drainTimedOut = Object.values(state.workers)
    .filter((w) => w.status === 'draining' && w.drainingAt !== null && now - w.drainingAt >= settings.drainTimeoutMs)
    .map((w) => w.workerId);
  const live = liveWorkers(state).filter((w) => !startTimedOut.includes(w.workerId));
  const excess = live.length - state.desired;
  const drain = excess > 0 ? [...live].sort(drainOrder).slice(0, excess).map((w) => w.workerId) : [];
  const startBlockedUntil = state.startFailures > 0 && state.lastStartFailureAt !== null ? state.lastStartFailureAt + Math.min(settings.maxStartBackoffMs, 1_000 * 2 ** (state.startFailures - 1)) : null;
  const blocked = startBlockedUntil !== null && now < startBlockedUntil;
  return { start: excess < 0 && !blocked ? -excess : 0, drain, startTimedOut, drainTimedOut, startBlockedUntil: blocked ? startBlockedUntil : null };
}

/** Starting before ready, then the youngest first: the longest-running workers (warm caches) stay. */
function drainOrder(a: Worker, b: Worker): number {
  if (a.status !== b.status) return a.status === 'starting' ? -1 : 1;
  return b.startingAt - a.startingAt;
}
