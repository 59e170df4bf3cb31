import type { PoolReplicasChanged, PoolReplicasRequested, PoolWorkerDrained, PoolWorkerFailed, PoolWorkerReady, TaskCompleted, TaskStarted } from '@flotilla/contracts';
import { startFlotilla, testPool, waitFor, type Flotilla } from '@flotilla/testing';
import { EventDriver, type TopicTail } from './support/event-driver';
import { aliveWorkerIds } from './support/processes';

/**
 * A provisioned pool through its public interface: PoolReplicasRequested in, its answers and each
 * worker's life on flotilla.pool-events, and real worker processes on this host (their pids in the
 * pool's record, alive or not). Every dispatch is run once across scale-ups, drains and a SIGKILL of
 * the agent pool.
 */
describe('agent pool: provisioned replicas (worker processes)', () => {
  let flotilla: Flotilla<'agent-pool'>;
  let driver: EventDriver;
  let poolEvents: TopicTail<Record<string, unknown>>;
  let taskEvents: TopicTail<TaskStarted & TaskCompleted>;
  const pool = testPool(1);
  let schema = '';

  beforeAll(async () => {
    flotilla = await startFlotilla({
      namespacePrefix: 'rep',
      services: ['agent-pool'],
      executors: { default: { type: 'synthetic' } },
      settings: {
        'agent-pool': {
          AGENT_TYPES: 'code_gen',
          PROVISIONED_AGENT_TYPES: 'code_gen',
          POOL_SLOTS_PER_WORKER: '2',
          POOL_INITIAL_REPLICAS: '1',
          POOL_MAX_REPLICAS: '4',
          PROVISIONER_INTERVAL_MS: '200',
          POOL_METRICS_INTERVAL_MS: '1000',
          HEARTBEAT_INTERVAL_MS: '1000',
          SHUTDOWN_DRAIN_MS: '5000',
        },
      },
    });
    schema = flotilla.schema('agent-pool');
    driver = new EventDriver(flotilla.namespace);
    await driver.connect();
    [poolEvents, taskEvents] = await Promise.all([driver.tail('flotilla.pool-events'), driver.tail<TaskStarted & TaskCompleted>('flotilla.task-events')]);
  });
  afterAll(async () => {
    await Promise.all([poolEvents?.stop(), taskEvents?.stop()]);
    await driver?.disconnect();
    await flotilla?.stop();
    await pool.end();
  });

  let sequence = 0;
  const request = async (replicas: number): Promise<PoolReplicasRequested> => {
    const r: PoolReplicasRequested = { requestId: `${flotilla.namespace}-${++sequence}`, agentType: 'code_gen', replicas, reason: 'e2e', requestedBy: 'test', requestedAt: Date.now() };
    await driver.publish([{ topic: 'flotilla.replica-commands', key: r.agentType, type: 'flotilla.pool.PoolReplicasRequested', payload: r }]);
    return r;
  };
  const ofType = <T>(type: string) => poolEvents.events.filter((e) => e.type === `flotilla.pool.${type}`).map((e) => e.payload as unknown as T);
  const reached = (requestId: string) => waitFor(`${requestId} to be reached`, () => ofType<{ requestId: string }>('PoolReplicasReached').some((r) => r.requestId === requestId), { timeoutMs: 90_000 });
  /** The pool's worker processes alive now, by the pids of its record. */
  const aliveWorkers = () => aliveWorkerIds(pool, schema, 'code_gen');
  /** Every dispatch completed, and each attempt started once. */
  const expectEachRunOnce = async (ids: ReadonlySet<string>) => {
    await waitFor(`${ids.size} tasks to complete`, () => new Set(taskEvents.of<TaskCompleted>('flotilla.task.TaskCompleted').filter((c) => ids.has(c.executionId)).map((c) => c.executionId)).size === ids.size, { timeoutMs: 90_000 });
    await taskEvents.caughtUp();
    const starts = taskEvents.of<TaskStarted>('flotilla.task.TaskStarted').filter((s) => ids.has(s.executionId));
    expect(new Set(starts.map((s) => s.executionId)).size).toBe(ids.size);
    expect(starts.length).toBe(ids.size);
  };

  it('starts with its initial worker, scales up to real processes that take dispatches, and drains down without losing or repeating one', async () => {
    await waitFor('the initial worker to be ready', () => ofType<PoolWorkerReady>('PoolWorkerReady').length === 1, { timeoutMs: 90_000 });
    expect(await aliveWorkers()).toHaveLength(1);

    const up = await request(3);
    await reached(up.requestId);
    expect(ofType<PoolReplicasChanged>('PoolReplicasChanged').find((c) => c.requestId === up.requestId)).toMatchObject({ outcome: 'accepted', previousReplicas: 1, replicas: 3, slotsPerWorker: 2, provisioner: 'process' });
    const readyForUp = ofType<PoolWorkerReady>('PoolWorkerReady').filter((r) => r.requestId === up.requestId);
    expect(readyForUp).toHaveLength(2);
    expect(readyForUp.every((r) => r.timeToReadyMs > 0)).toBe(true);
    const workers = await aliveWorkers();
    expect(workers).toHaveLength(3);

    // Work spread over the three workers: each took some (their ids are in the attempts' reports).
    const batch = Array.from({ length: 24 }, () => driver.dispatch('code_gen', 400));
    await driver.send(batch);
    const ids = new Set(batch.map((d) => d.executionId));
    await waitFor('attempts on every worker', () => new Set(taskEvents.of<TaskStarted>('flotilla.task.TaskStarted').filter((s) => ids.has(s.executionId)).map((s) => s.workerId.split('/')[0])).size >= 2, { timeoutMs: 60_000 });

    // A drain in the middle of the work: two workers leave, nothing is lost or run twice.
    const down = await request(1);
    await reached(down.requestId);
    const drained = ofType<PoolWorkerDrained>('PoolWorkerDrained').filter((d) => d.requestId === down.requestId);
    expect(drained).toHaveLength(2);
    await expectEachRunOnce(ids);
    await waitFor('two worker processes to be gone', async () => (await aliveWorkers()).length === 1);
  });

  it('rejects replicas out of bounds with the reason, and answers a repeated request the same', async () => {
    const bad = await request(9);
    const answer = await waitFor('the refusal', () => ofType<PoolReplicasChanged>('PoolReplicasChanged').find((c) => c.requestId === bad.requestId));
    expect(answer).toMatchObject({ outcome: 'rejected', reason: 'replicas must be a whole number in 0..4, got 9', replicas: 1 });
    await driver.publish([{ topic: 'flotilla.replica-commands', key: 'code_gen', type: 'flotilla.pool.PoolReplicasRequested', payload: bad }]);
    await waitFor('the repeated refusal', () => ofType<PoolReplicasChanged>('PoolReplicasChanged').filter((c) => c.requestId === bad.requestId).length === 2);
    const [first, again] = ofType<PoolReplicasChanged>('PoolReplicasChanged').filter((c) => c.requestId === bad.requestId);
    expect(again).toEqual(first);
  });

  it('after a SIGKILL of the agent pool mid-provisioning, comes back to exactly its record: requested workers running, orphans gone', async () => {
    const up = await request(3);
    await waitFor('the request to be accepted', () => ofType<PoolReplicasChanged>('PoolReplicasChanged').some((c) => c.requestId === up.requestId && c.outcome === 'accepted'));
    await flotilla.process('agent-pool').kill('SIGKILL');
    // Work sent while it is down waits in the pool's group.
    const batch = Array.from({ length: 6 }, () => driver.dispatch('code_gen', 200));
    await driver.send(batch);
    await flotilla.process('agent-pool').start();
    await reached(up.requestId);
    await waitFor('exactly three worker processes', async () => (await aliveWorkers()).length === 3, { timeoutMs: 60_000 });
    await expectEachRunOnce(new Set(batch.map((d) => d.executionId)));
    // Workers orphaned by the kill left by themselves and were recorded gone (failed or drained).
    const gone = [...ofType<PoolWorkerFailed>('PoolWorkerFailed'), ...ofType<PoolWorkerDrained>('PoolWorkerDrained')].map((w) => w.workerId);
    expect(new Set(gone).size).toBe(gone.length);
  });

  it('scales to zero and back', async () => {
    const zero = await request(0);
    await reached(zero.requestId);
    await waitFor('no worker process', async () => (await aliveWorkers()).length === 0, { timeoutMs: 60_000 });
    const one = await request(1);
    await reached(one.requestId);
    expect(await aliveWorkers()).toHaveLength(1);
  });
});
