import type { PoolCapacityChangeRequested, PoolCapacityProvisioned, TaskCompleted, TaskStarted } from '@flotilla/contracts';
import { startFlotilla, waitFor, type Flotilla } from '@flotilla/testing';
import { gauge, EventDriver, type TopicTail } from './support/event-driver';
import { token } from './support/tokens';

/**
 * Capacity commands through the pool's public interface: PoolCapacityChangeRequested in, the answer
 * on the pool events topic, and the bulkhead following the new limit while tasks run.
 */
describe('agent pool: capacity commands', () => {
  let flotilla: Flotilla<'agent-pool'>;
  let driver: EventDriver;
  let answers: TopicTail<PoolCapacityProvisioned>;
  let taskEvents: TopicTail<TaskStarted & TaskCompleted>;
  let opsToken = '';

  beforeAll(async () => {
    opsToken = await token({ role: 'ops' });
    flotilla = await startFlotilla({
      namespacePrefix: 'apc',
      services: ['agent-pool'],
      executors: { default: { type: 'synthetic' } },
      settings: {
        all: { AGENT_TYPES: 'code_gen,review', POOL_CONCURRENCY: '1', POOL_SLOTS_PER_WORKER: '2', POOL_MAX_CONCURRENCY: '8', POOL_METRICS_INTERVAL_MS: '1000', HEARTBEAT_INTERVAL_MS: '1000' },
      },
    });
    driver = new EventDriver(flotilla.namespace);
    await driver.connect();
    answers = await driver.tail('flotilla.pool-events');
    taskEvents = await driver.tail('flotilla.task-events');
  });
  afterAll(async () => {
    await Promise.all([answers?.stop(), taskEvents?.stop()]);
    await driver?.disconnect();
    await flotilla?.stop();
  });

  let sequence = 0;
  const command = (overrides: Partial<PoolCapacityChangeRequested>): PoolCapacityChangeRequested => ({
    requestId: `${flotilla.namespace}-${++sequence}`, agentType: 'code_gen', workers: null, concurrency: null, reason: 'e2e', requestedBy: 'test', requestedAt: Date.now(), ...overrides,
  });
  const send = (c: PoolCapacityChangeRequested) => driver.publish([{ topic: 'flotilla.pool-commands', key: c.agentType, type: 'flotilla.pool.PoolCapacityChangeRequested', payload: c }]);
  const answersTo = (requestId: string) => answers.events.filter((e) => e.payload.requestId === requestId).map((e) => e.payload);
  /** The broadcast group of a fresh instance starts at the end of the topic: resending (same request id) until answered is safe. */
  const provision = (c: PoolCapacityChangeRequested) =>
    waitFor(`an answer to ${c.requestId}`, async () => {
      if (answersTo(c.requestId).length === 0) await send(c);
      return answersTo(c.requestId)[0];
    }, { timeoutMs: 30_000, intervalMs: 1_000 });

  it('answers each command with what it provisioned, rejects bad ones with the reason, and answers a redelivery the same', async () => {
    const grow = command({ workers: 3 }); // of two slots each
    expect(await provision(grow)).toMatchObject({ agentType: 'code_gen', outcome: 'provisioned', reason: null, previousWorkers: 1, previousConcurrency: 1, workers: 3, concurrency: 6 });
    expect(await gauge(flotilla.url('agent-pool'), 'agent_pool_concurrency', 'code_gen')).toBe(6);
    expect(await (await fetch(`${flotilla.url('agent-pool')}/v1/pools/code_gen`, { headers: { authorization: `Bearer ${opsToken}` } })).json()).toMatchObject({ agentType: 'code_gen', workers: 3, concurrency: 6 });
    const unknown = await fetch(`${flotilla.url('agent-pool')}/v1/pools/deployment`, { headers: { authorization: `Bearer ${opsToken}` } });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { message: string }).message).toMatch(/runs no pool for agent type deployment/);

    expect(await provision(command({ concurrency: 99 }))).toMatchObject({ outcome: 'rejected', reason: 'concurrency 99 is outside 1..8', concurrency: 6 });
    expect(await provision(command({ workers: 2, concurrency: 4 }))).toMatchObject({ outcome: 'provisioned', workers: 2, concurrency: 4 });
    expect(await provision(command({ agentType: 'fortune_telling', concurrency: 2 }))).toMatchObject({ outcome: 'rejected', reason: 'unknown agent type "fortune_telling"' });

    // The first command again: the same answer, and the capacity stays where the later command put it.
    await send(grow);
    await waitFor('the redelivered command to be answered', () => answersTo(grow.requestId).length === 2);
    const [first, again] = answersTo(grow.requestId);
    expect(again).toEqual(first);
    expect(await gauge(flotilla.url('agent-pool'), 'agent_pool_concurrency', 'code_gen')).toBe(4);
  });

  it('runs as many attempts at once as the new limit; after a shrink, lets running ones finish and starts no more than the limit', async () => {
    await provision(command({ concurrency: 3 }));
    const tasks = Array.from({ length: 6 }, () => driver.dispatch('code_gen', 1_500));
    await driver.send(tasks);
    await waitFor('three attempts in flight', async () => (await gauge(flotilla.url('agent-pool'), 'agent_task_in_flight', 'code_gen')) === 3);

    const shrink = await provision(command({ concurrency: 1 }));
    expect(shrink).toMatchObject({ outcome: 'provisioned', previousConcurrency: 3, concurrency: 1 });
    const ids = new Set(tasks.map((t) => t.executionId));
    await waitFor('every task to complete', () => taskEvents.of<TaskCompleted>('flotilla.task.TaskCompleted').filter((c) => ids.has(c.executionId)).length === tasks.length, { timeoutMs: 30_000 });

    const starts = taskEvents.of<TaskStarted>('flotilla.task.TaskStarted').filter((s) => ids.has(s.executionId));
    const done = new Map(taskEvents.of<TaskCompleted>('flotilla.task.TaskCompleted').map((c) => [c.executionId, c.completedAt]));
    const runningAt = (t: number) => starts.filter((s) => s.startedAt <= t && done.get(s.executionId)! > t).length;
    // Three ran together before the shrink; none was stopped by it (all completed, none failed) ...
    expect(Math.max(...starts.filter((s) => s.startedAt < shrink.provisionedAt).map((s) => runningAt(s.startedAt)))).toBe(3);
    expect(taskEvents.of('flotilla.task.TaskFailed')).toEqual([]);
    // ... and every attempt started after it ran alone.
    const after = starts.filter((s) => s.startedAt >= shrink.provisionedAt);
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(after.map((s) => runningAt(s.startedAt))).toEqual(after.map(() => 1));
  });
});
