import type { PoolReplicasChanged } from '@flotilla/contracts';
import { assertNever, type Decider } from '@flotilla/domain';
import { isSettled, readyCount, REMEMBERED_ANSWERS, type Active, type PoolReplicasCommand, type PoolReplicasEvent, type PoolReplicasState, type Worker } from './pool-replicas';

/**
 * Decides the pool's requests and records what its provisioner observed. Every command is
 * idempotent: a request answered before gets the same answer again; an observation the state
 * already shows (a worker ready twice, a drained worker drained again) changes nothing, because the
 * provisioner may report it again after a restart.
 */
function decide(command: PoolReplicasCommand, state: PoolReplicasState): PoolReplicasEvent[] {
  if (command.type === 'InitialiseReplicas') {
    if (state.status !== 'Unset') return [];
    const { agentType, replicas, bounds, now } = command;
    // Said like an answer to a request, so that whoever follows the pool (the scaler) knows its size from the start.
    return [
      { type: 'flotilla.pool.PoolReplicasInitialised', data: { agentType, replicas, initialisedAt: now } },
      {
        type: 'flotilla.pool.PoolReplicasChanged',
        data: { requestId: initialRequestId(agentType), agentType, outcome: 'accepted', reason: 'the pool\'s first replicas (POOL_INITIAL_REPLICAS)', previousReplicas: 0, replicas, readyReplicas: 0, slotsPerWorker: bounds.slotsPerWorker, provisioner: bounds.provisioner, changedAt: now },
      },
    ];
  }
  if (state.status === 'Unset') return [];
  switch (command.type) {
    case 'RequestReplicas':
      return request(command, state);
    case 'ObserveWorkerStarting': {
      if (state.workers[command.workerId]) return [];
      return [{ type: 'flotilla.pool.PoolWorkerStarting', data: { agentType: state.agentType, workerId: command.workerId, requestId: state.pending, startingAt: command.now } }];
    }
    case 'ObserveWorkerReady': {
      const worker = state.workers[command.workerId];
      if (worker?.status !== 'starting') return [];
      const after = withWorker(state, { ...worker, status: 'ready' });
      return [
        {
          type: 'flotilla.pool.PoolWorkerReady',
          data: { agentType: state.agentType, workerId: worker.workerId, requestId: worker.requestId, timeToReadyMs: Math.max(0, command.now - worker.startingAt), readyReplicas: readyCount(after), replicas: state.desired, readyAt: command.now },
        },
        ...reached(after, command.now),
      ];
    }
    case 'ObserveWorkerDraining': {
      const worker = state.workers[command.workerId];
      if (!worker || worker.status === 'draining') return [];
      return [{ type: 'flotilla.pool.PoolWorkerDraining', data: { agentType: state.agentType, workerId: worker.workerId, drainingAt: command.now } }];
    }
    case 'ObserveWorkerDrained': {
      const worker = state.workers[command.workerId];
      if (!worker) return [];
      const after = without(state, worker.workerId);
      return [
        {
          type: 'flotilla.pool.PoolWorkerDrained',
          data: { agentType: state.agentType, workerId: worker.workerId, requestId: state.pending, drainMs: Math.max(0, command.now - (worker.drainingAt ?? command.now)), handedBack: command.handedBack, readyReplicas: readyCount(after), replicas: state.desired, drainedAt: command.now },
        },
        ...reached(after, command.now),
      ];
    }
    case 'ObserveWorkerFailed': {
      const worker = state.workers[command.workerId];
      if (!worker) return [];
      const after = without(state, worker.workerId);
      return [
        {
          type: 'flotilla.pool.PoolWorkerFailed',
          data: {
            agentType: state.agentType,
            workerId: worker.workerId,
            // A worker that fails while starting fails the request it was started for.
            requestId: worker.status === 'starting' ? worker.requestId : null,
            phase: worker.status === 'starting' ? 'starting' : 'running',
            reason: command.reason,
            readyReplicas: readyCount(after),
            replicas: state.desired,
            failedAt: command.now,
          },
        },
        // A draining worker that dies has left as asked: the scale-down may be complete.
        ...(worker.status === 'draining' ? reached(after, command.now) : []),
      ];
    }
    default:
      return assertNever(command);
  }
}

function request(command: Extract<PoolReplicasCommand, { type: 'RequestReplicas' }>, state: Active): PoolReplicasEvent[] {
  const { request: r, bounds, now } = command;
  const previous = state.answers[r.requestId];
  if (previous) return [{ type: 'flotilla.pool.PoolReplicasChanged', data: previous }];
  const problem =
    r.agentType !== state.agentType
      ? `request for pool ${r.agentType} sent to pool ${state.agentType}`
      : !Number.isInteger(r.replicas) || r.replicas < bounds.minReplicas || r.replicas > bounds.maxReplicas
        ? `replicas must be a whole number in ${bounds.minReplicas}..${bounds.maxReplicas}, got ${r.replicas}`
        : null;
  const answer: PoolReplicasChanged = {
    requestId: r.requestId,
    agentType: state.agentType,
    outcome: problem ? 'rejected' : 'accepted',
    reason: problem,
    previousReplicas: state.desired,
    replicas: problem ? state.desired : r.replicas,
    readyReplicas: readyCount(state),
    slotsPerWorker: bounds.slotsPerWorker,
    provisioner: bounds.provisioner,
    changedAt: now,
  };
  const changed: PoolReplicasEvent = { type: 'flotilla.pool.PoolReplicasChanged', data: answer };
  if (problem) return [changed];
  // Asking for what the pool already runs is reached at once.
  return [changed, ...reached(evolve(state, changed) as Active, now)];
}

/** The request id of a pool's first replicas, as its first PoolReplicasChanged names them. */
export function initialRequestId(agentType: string): string {
  return `initial:${agentType}`;
}

function reached(state: Active, now: number): PoolReplicasEvent[] {
  return state.pending !== null && isSettled(state) ? [{ type: 'flotilla.pool.PoolReplicasReached', data: { requestId: state.pending, agentType: state.agentType, replicas: state.desired, reachedAt: now } }] : [];
}

function withWorker(state: Active, worker: Worker): Active {
  return { ...state, workers: { ...state.workers, [worker.workerId]: worker } };
}

function without(state: Active, workerId: string): Active {
  const { [workerId]: _gone, ...workers } = state.workers;
  return { ...state, workers };
}

function evolve(state: PoolReplicasState, event: PoolReplicasEvent): PoolReplicasState {
  if (event.type === 'flotilla.pool.PoolReplicasInitialised') {
    return state.status === 'Unset' ? { status: 'Active', agentType: event.data.agentType, desired: event.data.replicas, workers: {}, pending: null, answers: {}, answerOrder: [], startFailures: 0, lastStartFailureAt: null } : state;
  }
  if (state.status === 'Unset') return state;
  switch (event.type) {
    case 'flotilla.pool.PoolReplicasChanged': {
      const data = event.data;
      if (state.answers[data.requestId]) return state; // the same answer, given again
      const answerOrder = [...state.answerOrder, data.requestId];
      const answers: Record<string, PoolReplicasChanged> = { ...state.answers, [data.requestId]: data };
      while (answerOrder.length > REMEMBERED_ANSWERS) delete answers[answerOrder.shift()!];
      return data.outcome === 'accepted' ? { ...state, desired: data.replicas, pending: data.requestId, answers, answerOrder } : { ...state, answers, answerOrder };
    }
    case 'flotilla.pool.PoolWorkerStarting':
      return withWorker(state, { workerId: event.data.workerId, status: 'starting', requestId: event.data.requestId, startingAt: event.data.startingAt, drainingAt: null });
    case 'flotilla.pool.PoolWorkerReady': {
      const worker = state.workers[event.data.workerId];
      return worker ? { ...withWorker(state, { ...worker, status: 'ready' }), startFailures: 0, lastStartFailureAt: null } : state;
    }
    case 'flotilla.pool.PoolWorkerDraining': {
      const worker = state.workers[event.data.workerId];
      return worker ? withWorker(state, { ...worker, status: 'draining', drainingAt: event.data.drainingAt }) : state;
    }
    case 'flotilla.pool.PoolWorkerDrained':
      return without(state, event.data.workerId);
    case 'flotilla.pool.PoolWorkerFailed': {
      const after = without(state, event.data.workerId);
      return event.data.phase === 'starting' ? { ...after, startFailures: state.startFailures + 1, lastStartFailureAt: event.data.failedAt } : after;
    }
    case 'flotilla.pool.PoolReplicasReached':
      return state.pending === event.data.requestId ? { ...state, pending: null } : state;
    default:
      return assertNever(event);
  }
}

export const poolReplicasDecider: Decider<PoolReplicasCommand, PoolReplicasEvent, PoolReplicasState> = { initialState: { status: 'Unset' }, decide, evolve };
