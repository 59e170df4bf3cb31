import type { PoolCapacityChangeRequested } from '@flotilla/contracts';
import { initialPoolCapacityState, type PoolCapacityState } from './pool-capacity';
import { poolCapacityDecider } from './pool-capacity.decider';

const bounds = { slotsPerWorker: 2, minConcurrency: 1, maxConcurrency: 64 };
const knownAgentTypes = ['code_gen', 'review', 'testing'];
const start = initialPoolCapacityState({ code_gen: { workers: 4, concurrency: 8 }, review: { workers: 1, concurrency: 2 } });

function request(overrides: Partial<PoolCapacityChangeRequested>): PoolCapacityChangeRequested {
  return { requestId: 'r-1', agentType: 'code_gen', workers: null, concurrency: null, reason: 'test', requestedBy: 'scaler', requestedAt: 1, ...overrides };
}

function when(state: PoolCapacityState, overrides: Partial<PoolCapacityChangeRequested>) {
  const events = poolCapacityDecider.decide({ type: 'ChangePoolCapacity', request: request(overrides), instanceId: 'i-1', knownAgentTypes, bounds, now: 50 }, state);
  return { events, answer: events[0]?.data, state: events.reduce(poolCapacityDecider.evolve, state) };
}

describe('pool capacity decider', () => {
  it('sets concurrency from workers × slots per worker', () => {
    const { answer, state } = when(start, { workers: 3 });
    expect(answer).toEqual({
      requestId: 'r-1', agentType: 'code_gen', instanceId: 'i-1', outcome: 'provisioned', reason: null,
      previousWorkers: 4, previousConcurrency: 8, workers: 3, concurrency: 6, provisionedAt: 50,
    });
    expect(state.pools.code_gen).toEqual({ workers: 3, concurrency: 6 });
    expect(state.pools.review).toEqual({ workers: 1, concurrency: 2 });
  });

  it('sets workers from concurrency, rounding up to whole workers', () => {
    expect(when(start, { concurrency: 5 }).state.pools.code_gen).toEqual({ workers: 3, concurrency: 5 });
  });

  it('accepts both when they agree and rejects them when they do not', () => {
    expect(when(start, { workers: 2, concurrency: 3 }).answer).toMatchObject({ outcome: 'provisioned', workers: 2, concurrency: 3 });
    const mismatch = when(start, { workers: 5, concurrency: 3 });
    expect(mismatch.answer).toMatchObject({ outcome: 'rejected', reason: '5 worker(s) of 2 slot(s) do not match concurrency 3: it needs 2 worker(s)', workers: 4, concurrency: 8 });
    expect(mismatch.state.pools.code_gen).toEqual({ workers: 4, concurrency: 8 });
  });

  it.each([
    [{ concurrency: 0 }, 'concurrency 0 is outside 1..64'],
    [{ concurrency: 65 }, 'concurrency 65 is outside 1..64'],
    [{ workers: 40 }, 'concurrency 80 is outside 1..64'],
    [{ workers: 0 }, 'workers must be a whole number of at least 1, got 0'],
    [{ concurrency: 2.5 }, 'concurrency must be a whole number, got 2.5'],
    [{}, 'nothing requested: give workers and/or concurrency'],
  ])('rejects %j with the reason and keeps the capacity', (overrides, reason) => {
    const { answer, state } = when(start, overrides);
    expect(answer).toMatchObject({ outcome: 'rejected', reason, previousConcurrency: 8, concurrency: 8 });
    expect(state.pools).toEqual(start.pools);
  });

  it('rejects an agent type the platform does not know, and leaves a known one it does not run to other instances', () => {
    expect(when(start, { agentType: 'fortune_telling', concurrency: 2 }).answer).toMatchObject({ outcome: 'rejected', reason: 'unknown agent type "fortune_telling"' });
    expect(when(start, { agentType: 'testing', concurrency: 2 }).events).toEqual([]);
  });

  it('answers a redelivered request the same and changes nothing twice', () => {
    const first = when(start, { requestId: 'r-7', concurrency: 4 });
    const later = when(first.state, { requestId: 'r-8', concurrency: 6 });
    const redelivered = when(later.state, { requestId: 'r-7', concurrency: 4 });
    expect(redelivered.answer).toEqual(first.answer);
    expect(redelivered.state).toBe(later.state);
    expect(redelivered.state.pools.code_gen.concurrency).toBe(6);
  });
});
