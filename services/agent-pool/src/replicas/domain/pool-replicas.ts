import type { PoolReplicasChanged, PoolReplicasReached, PoolReplicasRequested, PoolWorkerDrained, PoolWorkerFailed, PoolWorkerReady } from '@flotilla/contracts';
import type { DomainEvent } from '@flotilla/domain';

/**
 * A pool's replicas: how many workers it should run (desired, set by PoolReplicasRequested) and the
 * workers it has, as the provisioner observed them. Event-sourced, one stream per pool, so a restart
 * of the agent pool knows both. Which worker to start or stop is the provisioner's business (a
 * Deployment's controller picks pods; the process provisioner picks processes); this aggregate
 * records what happened to each and answers the requests.
 *
 * A worker's life:
 *
 *   (none) ──WorkerStarting──▶ starting ──WorkerReady──▶ ready ──WorkerDraining──▶ draining ──WorkerDrained──▶ (gone)
 *                                 │                        │                          │
 *                                 └──────────WorkerFailed (phase starting / running)──┴──▶ (gone)
 *
 * Only a ready worker counts as provisioned. A request is *reached* when the pool has exactly its
 * replicas, all ready, and none starting or draining: then PoolReplicasReached names it.
 */
export type WorkerStatus = 'starting' | 'ready' | 'draining';

export interface Worker {
  readonly workerId: string;
  readonly status: WorkerStatus;
  /** The request it was started for; null for a replacement. */
  readonly requestId: string | null;
  readonly startingAt: number;
  readonly drainingAt: number | null;
}

export interface PoolBounds {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly slotsPerWorker: number;
  readonly provisioner: 'embedded' | 'process' | 'kubernetes';
}

export type PoolReplicasState =
  | { readonly status: 'Unset' }
  | {
      readonly status: 'Active';
      readonly agentType: string;
      readonly desired: number;
      readonly workers: Readonly<Record<string, Worker>>;
      /** The latest accepted request not reached yet: later requests supersede it (the saga waits for its own). */
      readonly pending: string | null;
      /** Answers by request id, the last REMEMBERED_ANSWERS, so that a redelivered request gets the same one. */
      readonly answers: Readonly<Record<string, PoolReplicasChanged>>;
      readonly answerOrder: readonly string[];
      /** Workers that failed to start in a row (reset by the next one ready): the provisioner backs off on them, as Kubernetes does on a crash loop. */
      readonly startFailures: number;
      readonly lastStartFailureAt: number | null;
    };

export type Active = Extract<PoolReplicasState, { status: 'Active' }>;

export const REMEMBERED_ANSWERS = 200;

/** Observations of the provisioner (its workers) and the requests it answers. */
export type PoolReplicasCommand =
  | { readonly type: 'InitialiseReplicas'; readonly agentType: string; readonly replicas: number; readonly bounds: PoolBounds; readonly now: number }
  | { readonly type: 'RequestReplicas'; readonly request: PoolReplicasRequested; readonly bounds: PoolBounds; readonly now: number }
  | { readonly type: 'ObserveWorkerStarting'; readonly workerId: string; readonly now: number }
  | { readonly type: 'ObserveWorkerReady'; readonly workerId: string; readonly now: number }
  | { readonly type: 'ObserveWorkerDraining'; readonly workerId: string; readonly now: number }
  | { readonly type: 'ObserveWorkerDrained'; readonly workerId: string; readonly handedBack: number; readonly now: number }
  | { readonly type: 'ObserveWorkerFailed'; readonly workerId: string; readonly reason: string; readonly now: number };

/** Kept in the pool's stream, not published: the desired replicas a pool starts with, and workers starting or draining. */
export interface PoolReplicasInitialised {
  readonly agentType: string;
  readonly replicas: number;
  readonly initialisedAt: number;
}
export interface PoolWorkerStarting {
  readonly agentType: string;
  readonly workerId: string;
  readonly requestId: string | null;
  readonly startingAt: number;
}
export interface PoolWorkerDraining {
  readonly agentType: string;
  readonly workerId: string;
  readonly drainingAt: number;
}

export type PoolReplicasEvent =
  | DomainEvent<'flotilla.pool.PoolReplicasInitialised', PoolReplicasInitialised>
  | DomainEvent<'flotilla.pool.PoolReplicasChanged', PoolReplicasChanged>
  | DomainEvent<'flotilla.pool.PoolWorkerStarting', PoolWorkerStarting>
  | DomainEvent<'flotilla.pool.PoolWorkerReady', PoolWorkerReady>
  | DomainEvent<'flotilla.pool.PoolWorkerDraining', PoolWorkerDraining>
  | DomainEvent<'flotilla.pool.PoolWorkerDrained', PoolWorkerDrained>
  | DomainEvent<'flotilla.pool.PoolWorkerFailed', PoolWorkerFailed>
  | DomainEvent<'flotilla.pool.PoolReplicasReached', PoolReplicasReached>;

/** Events only the pool's own stream keeps: they say what the provisioner is doing, not what the pool did. */
export const INTERNAL_POOL_EVENTS: ReadonlySet<PoolReplicasEvent['type']> = new Set(['flotilla.pool.PoolReplicasInitialised', 'flotilla.pool.PoolWorkerStarting', 'flotilla.pool.PoolWorkerDraining']);

export function poolReplicasStreamId(agentType: string): string {
  return `pool-replicas-${agentType}`;
}

export function readyCount(state: Active): number {
  let n = 0;
  for (const w of Object.values(state.workers)) if (w.status === 'ready') n++;
  return n;
}

/** Workers that take dispatches now or soon: what the provisioner compares with the desired count. */
export function liveWorkers(state: Active): Worker[] {
  return Object.values(state.workers).filter((w) => w.status !== 'draining');
}

/** Whether the pool has exactly its desired replicas, all ready, none starting or draining. */
export function isSettled(state: Active): boolean {
  const workers = Object.values(state.workers);
  return workers.length === state.desired && workers.every((w) => w.status === 'ready');
}
