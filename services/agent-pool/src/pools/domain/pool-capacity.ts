import type { PoolCapacityChangeRequested, PoolCapacityProvisioned } from '@flotilla/contracts';

/**
 * Local provisioning model: on one instance, a pool of an agent type has `workers`, each a group of
 * `slotsPerWorker` task slots; `concurrency` is the pool's bulkhead limit on this instance, at most
 * workers × slotsPerWorker. (A Kubernetes provisioner would map workers to a Deployment's replicas.)
 */
export interface PoolCapacity {
  readonly workers: number;
  readonly concurrency: number;
}

export interface CapacityBounds {
  readonly slotsPerWorker: number;
  readonly minConcurrency: number;
  readonly maxConcurrency: number;
}

export type PoolCapacityEvent = { readonly type: 'flotilla.pool.PoolCapacityProvisioned'; readonly data: PoolCapacityProvisioned };

export type PoolCapacityCommand = {
  readonly type: 'ChangePoolCapacity';
  readonly request: PoolCapacityChangeRequested;
  readonly instanceId: string;
  /** Every agent type the platform knows, served here or not. */
  readonly knownAgentTypes: readonly string[];
  readonly bounds: CapacityBounds;
  readonly now: number;
};

/** This instance's pools, and the answers it gave, so that a redelivered command gets the same one. */
export interface PoolCapacityState {
  readonly pools: Readonly<Record<string, PoolCapacity>>;
  /** Recent answers, oldest first, by request id. */
  readonly answers: readonly PoolCapacityProvisioned[];
}

/** How many answers are remembered for redeliveries; a command redelivered later than that is answered anew. */
export const REMEMBERED_ANSWERS = 1_000;

export function initialPoolCapacityState(pools: Readonly<Record<string, PoolCapacity>>): PoolCapacityState {
  return { pools, answers: [] };
}
