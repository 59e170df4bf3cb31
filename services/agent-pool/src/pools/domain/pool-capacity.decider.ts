import type { PoolCapacityProvisioned } from '@flotilla/contracts';
import { REMEMBERED_ANSWERS, type PoolCapacity, type PoolCapacityCommand, type PoolCapacityEvent, type PoolCapacityState } from './pool-capacity';

/**
 * Decides a capacity command for this instance's pool of the agent type:
 * - `workers` alone sets concurrency to workers × slotsPerWorker;
 * - `concurrency` alone sets workers to ceil(concurrency / slotsPerWorker);
 * - both must agree (workers = ceil(concurrency / slotsPerWorker));
 * - out-of-bounds values, neither value, or an agent type the platform does not know are rejected
 *   with the reason; a known agent type this instance does not run gets no answer from it (the
 *   instances that run it answer);
 * - a request id already answered gets the same answer again and changes nothing.
 */
export function decide(command: PoolCapacityCommand, state: PoolCapacityState): PoolCapacityEvent[] {
  switch (command.type) {
    case 'ChangePoolCapacity': {
      const { request, bounds } = command;
      const previous = state.answers.find((a) => a.requestId === request.requestId);
      if (previous) return [{ type: 'flotilla.pool.PoolCapacityProvisioned', data: previous }];

      const current: PoolCapacity | undefined = state.pools[request.agentType];
      if (!current) {
        if (command.knownAgentTypes.includes(request.agentType)) return [];
        return [answer(command, { workers: 0, concurrency: 0 }, null, `unknown agent type "${request.agentType}"`)];
      }
      const target = targetCapacity(request.workers, request.concurrency, bounds);
      return [typeof target === 'string' ? answer(command, current, null, target) : answer(command, current, target, null)];
    }
    default:
      return assertNever(command.type);
  }
}

export function evolve(state: PoolCapacityState, event: PoolCapacityEvent): PoolCapacityState {
  switch (event.type) {
    case 'flotilla.pool.PoolCapacityProvisioned': {
      const data = event.data;
      if (state.answers.some((a) => a.requestId === data.requestId)) return state; // a repeated answer
      const pools = data.outcome === 'rejected' ? state.pools : { ...state.pools, [data.agentType]: { workers: data.workers, concurrency: data.concurrency } };
      return { pools, answers: [...state.answers, data].slice(-REMEMBERED_ANSWERS) };
    }
    default:
      return assertNever(event.type);
  }
}

/** The capacity asked for, or why it cannot be provisioned. */
export function targetCapacity(workers: number | null, concurrency: number | null, bounds: PoolCapacityCommand['bounds']): PoolCapacity | string {
  const { slotsPerWorker, minConcurrency, maxConcurrency } = bounds;
  if (workers === null && concurrency === null) return 'nothing requested: give workers and/or concurrency';
  if (workers !== null && (!Number.isInteger(workers) || workers < 1)) return `workers must be a whole number of at least 1, got ${workers}`;
  if (concurrency !== null && !Number.isInteger(concurrency)) return `concurrency must be a whole number, got ${concurrency}`;
  const target: PoolCapacity =
    concurrency === null
      ? { workers: workers!, concurrency: workers! * slotsPerWorker }
      : { workers: workers ?? Math.ceil(concurrency / slotsPerWorker), concurrency };
  if (workers !== null && concurrency !== null && Math.ceil(concurrency / slotsPerWorker) !== workers) {
    return `${workers} worker(s) of ${slotsPerWorker} slot(s) do not match concurrency ${concurrency}: it needs ${Math.ceil(concurrency / slotsPerWorker)} worker(s)`;
  }
  if (target.concurrency < minConcurrency || target.concurrency > maxConcurrency) {
    return `concurrency ${target.concurrency} is outside ${minConcurrency}..${maxConcurrency}`;
  }
  return target;
}

function answer(command: PoolCapacityCommand, previous: PoolCapacity, next: PoolCapacity | null, reason: string | null): PoolCapacityEvent {
  const { requestId, agentType } = command.request;
  const data: PoolCapacityProvisioned = {
    requestId,
    agentType,
    instanceId: command.instanceId,
    outcome: next ? 'provisioned' : 'rejected',
    reason,
    previousWorkers: previous.workers,
    previousConcurrency: previous.concurrency,
    workers: (next ?? previous).workers,
    concurrency: (next ?? previous).concurrency,
    provisionedAt: command.now,
  };
  return { type: 'flotilla.pool.PoolCapacityProvisioned', data };
}

function assertNever(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}

export const poolCapacityDecider = { decide, evolve };
