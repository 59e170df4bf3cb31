import type { PoolReplicasRequested } from '@flotilla/contracts';
import { type Active, type PoolBounds, type PoolReplicasCommand, type PoolReplicasEvent, type PoolReplicasState } from './pool-replicas';
import { poolReplicasDecider } from './pool-replicas.decider';
import { planProvisioning } from './pool-replicas.plan';

const bounds: PoolBounds = { minReplicas: 0, maxReplicas: 8, slotsPerWorker: 2, provisioner: 'process' };
const settings = { startTimeoutMs: 30_000, drainTimeoutMs: 60_000, maxStartBackoffMs: 60_000 };

function run(commands: PoolReplicasCommand[], state: PoolReplicasState = poolReplicasDecider.initialState) {
  const events: PoolReplicasEvent[] = [];
  for (const command of commands) {
    const decided = poolReplicasDecider.decide(command, state);
    events.push(...decided);
    state = decided.reduce(poolReplicasDecider.evolve, state);
  }
  return { events, state: state as Active, types: events.map((e) => e.type.replace('flotilla.pool.', '')) };
}
const requested = (requestId: string, replicas: number, now = 10): PoolReplicasCommand => ({
  type: 'RequestReplicas',
  request: { requestId, agentType: 'code_gen', replicas, reason: 'test', requestedBy: 'saga', requestedAt: now } satisfies PoolReplicasRequested,
  bounds,
  now,
});
const starting = (workerId: string, now = 20): PoolReplicasCommand => ({ type: 'ObserveWorkerStarting', workerId, now });
const ready = (workerId: string, now = 1_000): PoolReplicasCommand => ({ type: 'ObserveWorkerReady', workerId, now });
const draining = (workerId: string, now = 5_000): PoolReplicasCommand => ({ type: 'ObserveWorkerDraining', workerId, now });
const drained = (workerId: string, now = 6_000, handedBack = 0): PoolReplicasCommand => ({ type: 'ObserveWorkerDrained', workerId, handedBack, now });
const failed = (workerId: string, now = 2_000, reason = 'exited with code 1'): PoolReplicasCommand => ({ type: 'ObserveWorkerFailed', workerId, reason, now });

/** A pool initialised with one ready worker, w1. */
const oneReady = run([{ type: 'InitialiseReplicas', agentType: 'code_gen', replicas: 1, bounds, now: 0 }, starting('w1', 1), ready('w1', 500)]).state;

describe('pool replicas: requests and what the provisioner observed', () => {
  it('says its first replicas like an answer, so that followers know its size, and reaches them once its workers are ready', () => {
    const { types, events } = run([{ type: 'InitialiseReplicas', agentType: 'code_gen', replicas: 1, bounds, now: 0 }, starting('w1', 1), ready('w1', 500), { type: 'InitialiseReplicas', agentType: 'code_gen', replicas: 3, bounds, now: 600 }]);
    expect(types).toEqual(['PoolReplicasInitialised', 'PoolReplicasChanged', 'PoolWorkerStarting', 'PoolWorkerReady', 'PoolReplicasReached']);
    expect(events[1].data).toMatchObject({ requestId: 'initial:code_gen', outcome: 'accepted', previousReplicas: 0, replicas: 1, slotsPerWorker: 2, provisioner: 'process' });
  });

  it('scales up: accepted, each worker ready with its time to ready, then reached once all are ready', () => {
    const { events, types, state } = run([requested('saga-1', 3), starting('w2'), starting('w3', 30), ready('w2', 1_020), ready('w3', 1_530)], oneReady);
    expect(types).toEqual(['PoolReplicasChanged', 'PoolWorkerStarting', 'PoolWorkerStarting', 'PoolWorkerReady', 'PoolWorkerReady', 'PoolReplicasReached']);
    expect(events[0].data).toMatchObject({ requestId: 'saga-1', outcome: 'accepted', previousReplicas: 1, replicas: 3, readyReplicas: 1, slotsPerWorker: 2, provisioner: 'process' });
    expect(events[3].data).toMatchObject({ workerId: 'w2', requestId: 'saga-1', timeToReadyMs: 1_000, readyReplicas: 2, replicas: 3 });
    expect(events[4].data).toMatchObject({ workerId: 'w3', timeToReadyMs: 1_500, readyReplicas: 3 });
    expect(events[5].data).toEqual({ requestId: 'saga-1', agentType: 'code_gen', replicas: 3, reachedAt: 1_530 });
    expect(state.pending).toBeNull();
  });

  it('scales down: the drained worker leaves, with what it handed back, and the request is reached', () => {
    const three = run([requested('up', 3), starting('w2'), starting('w3'), ready('w2'), ready('w3')], oneReady).state;
    const { events, types } = run([requested('down', 2, 4_000), draining('w3'), drained('w3', 6_500, 1)], three);
    expect(types).toEqual(['PoolReplicasChanged', 'PoolWorkerDraining', 'PoolWorkerDrained', 'PoolReplicasReached']);
    expect(events[2].data).toMatchObject({ workerId: 'w3', requestId: 'down', drainMs: 1_500, handedBack: 1, readyReplicas: 2, replicas: 2 });
  });

  it('reaches at once a request for what the pool already runs, and scales to zero', () => {
    expect(run([requested('same', 1)], oneReady).types).toEqual(['PoolReplicasChanged', 'PoolReplicasReached']);
    expect(run([requested('zero', 0), draining('w1'), drained('w1')], oneReady).types).toEqual(['PoolReplicasChanged', 'PoolWorkerDraining', 'PoolWorkerDrained', 'PoolReplicasReached']);
  });

  it.each([
    [9, 'replicas must be a whole number in 0..8, got 9'],
    [-1, 'replicas must be a whole number in 0..8, got -1'],
    [1.5, 'replicas must be a whole number in 0..8, got 1.5'],
  ])('rejects %d replicas with the reason and keeps what it has', (replicas, reason) => {
    const { events, state } = run([requested('bad', replicas)], oneReady);
    expect(events.map((e) => e.data)).toEqual([expect.objectContaining({ outcome: 'rejected', reason, previousReplicas: 1, replicas: 1 })]);
    expect(state.desired).toBe(1);
  });

  it('answers a redelivered request the same, even after later ones, and changes nothing twice', () => {
    const first = run([requested('r-1', 2)], oneReady);
    const later = run([requested('r-2', 4), requested('r-1', 2)], first.state);
    expect(later.events[1]).toEqual(first.events[0]);
    expect(later.state.desired).toBe(4);
    expect(later.state.pending).toBe('r-2');
  });

  it('ignores observations it already recorded (a provisioner reports again after a restart)', () => {
    const { state } = run([requested('up', 2), starting('w2'), ready('w2')], oneReady);
    expect(run([starting('w2'), ready('w2'), drained('gone'), failed('gone')], state).events).toEqual([]);
  });

  it('a worker that fails to start fails the request it was started for, and counts towards the back-off', () => {
    const { events, state } = run([requested('up', 2), starting('w2'), failed('w2', 2_000, 'exited with code 1 before ready')], oneReady);
    expect(events[2].data).toMatchObject({ workerId: 'w2', requestId: 'up', phase: 'starting', reason: 'exited with code 1 before ready', readyReplicas: 1, replicas: 2 });
    expect(state).toMatchObject({ pending: 'up', startFailures: 1, lastStartFailureAt: 2_000 });
    // The next worker ready resets the count.
    expect(run([starting('w3', 3_000), ready('w3', 4_000)], state).state).toMatchObject({ startFailures: 0, pending: null });
  });

  it('a ready worker that dies fails no request (phase running); the pool is short until it is replaced', () => {
    const { events } = run([failed('w1', 9_000, 'killed by SIGKILL')], oneReady);
    expect(events[0].data).toMatchObject({ workerId: 'w1', requestId: null, phase: 'running', readyReplicas: 0, replicas: 1 });
  });

  it('a later request supersedes a pending one: only the latest is reached', () => {
    const { events } = run([requested('a', 3), requested('b', 2), starting('w2'), ready('w2')], oneReady);
    expect(events.filter((e) => e.type === 'flotilla.pool.PoolReplicasReached').map((e) => e.data.requestId)).toEqual(['b']);
  });
});

describe('provisioning plan (process provisioner)', () => {
  it('starts what is missing and drains what is in excess, starting ones first, then the youngest ready', () => {
    const up = run([requested('up', 3)], oneReady).state;
    expect(planProvisioning(up, 100, settings)).toMatchObject({ start: 2, drain: [] });
    const mixed = run([requested('up', 4), starting('w2', 100), starting('w3', 200), ready('w2', 300), starting('w4', 400), requested('down', 1, 500)], oneReady).state;
    // Live: w1 ready (1), w2 ready (100), w3 starting (200), w4 starting (400): keep the oldest ready one.
    expect(planProvisioning(mixed, 600, settings).drain).toEqual(['w4', 'w3', 'w2']);
  });

  it('gives up on a worker not ready within the start timeout and on one that will not drain', () => {
    const state = run([requested('up', 2), starting('w2', 1_000), draining('w1', 2_000)], oneReady).state;
    expect(planProvisioning(state, 31_000, settings)).toMatchObject({ startTimedOut: ['w2'], drainTimedOut: [] });
    expect(planProvisioning(state, 62_000, settings)).toMatchObject({ startTimedOut: ['w2'], drainTimedOut: ['w1'] });
  });

  it('backs off after workers fail to start in a row: 1 s, 2 s, 4 s … up to the cap', () => {
    let state = run([requested('up', 2)], oneReady).state;
    const expected = [1_000, 2_000, 4_000];
    for (const [i, backoff] of expected.entries()) {
      const at = 10_000 * (i + 1);
      state = run([starting(`bad-${i}`, at - 5), failed(`bad-${i}`, at)], state).state;
      expect(planProvisioning(state, at + backoff - 1, settings)).toMatchObject({ start: 0, startBlockedUntil: at + backoff });
      expect(planProvisioning(state, at + backoff, settings)).toMatchObject({ start: 1, startBlockedUntil: null });
    }
  });

  it('survives a JSON round trip of its state (it is folded from the stream, but rows cache it)', () => {
    const state = run([requested('up', 3), starting('w2'), ready('w2')], oneReady).state;
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });
});
