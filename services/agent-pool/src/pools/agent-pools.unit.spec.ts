import type { HandedOff } from '@flotilla/messaging';
import { Histogram, type Logger } from '@flotilla/observability';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { RunningAttempts } from '../task-attempts/running-attempts';
import type { AttemptResult, TaskRunner } from '../task-attempts/task-runner';
import { AgentPools } from './agent-pools';

/** Attempts run until the test finishes them; what the dispatch consumer was told is written to `log`. */
function setUp() {
  const log: string[] = [];
  const runs = new Map<string, { finish: () => void; fail: (error: unknown) => void }>();
  const runner = {
    run: (event: { envelope: { payload: { taskId: string } } }) =>
      new Promise<AttemptResult>((resolve, reject) => {
        const { taskId } = event.envelope.payload;
        log.push(`run ${taskId}`);
        runs.set(taskId, { finish: () => resolve({ status: 'skipped' }), fail: reject });
      }),
  } as unknown as TaskRunner;
  const pools = new AgentPools({
    capacity: { code_gen: { workers: 1, concurrency: 1 }, review: { workers: 1, concurrency: 1 } },
    dispatchTopic: (agentType) => `t.${agentType}`,
    queuePerSlot: 1,
    runner,
    running: new RunningAttempts(),
    taskDurations: new Histogram({ name: 'test_task_duration_seconds', help: 'test', labelNames: ['agent_type', 'outcome'], registers: [] }),
    logger: { error: () => undefined } as unknown as Logger,
  });
  let offset = 0;
  const handedOff = (topic: string, taskId: string, { partition = 0, eventType = 'flotilla.task.TaskDispatched' } = {}): HandedOff => ({
    event: {
      topic,
      partition,
      offset: String(offset++),
      key: 'execution-1',
      envelope: { eventType, payload: { executionId: 'execution-1', taskId, attempt: 1, agentType: topic.slice(2) } } as never,
    },
    takenAt: 0,
    traceContext: ROOT_CONTEXT,
    settle: () => void log.push(`settled ${taskId}`),
    deadLetter: async (error) => void log.push(`dead-lettered ${taskId}: ${String(error)}`),
  });
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  return { pools, log, runs, handedOff, tick };
}

describe('AgentPools as the hand-off sink of the dispatch consumer', () => {
  it('has room per topic: a full pool refuses its own topic only, and says when it has room again', async () => {
    const { pools, runs, handedOff, tick } = setUp();
    expect(pools.dispatchTopics).toEqual(['t.code_gen', 't.review']);
    pools.offer(handedOff('t.code_gen', 'a')); // runs
    pools.offer(handedOff('t.code_gen', 'b')); // waits in the queue
    expect([pools.hasRoom('t.code_gen'), pools.hasRoom('t.review')]).toEqual([false, true]);
    let room = false;
    pools.whenRoom('t.code_gen', () => (room = true));
    await tick();
    expect(room).toBe(false);
    runs.get('a')!.finish();
    await tick();
    expect([room, pools.hasRoom('t.code_gen')]).toEqual([true, true]);
  });

  it.each([
    { outcome: 'finishes', end: (run: { finish: () => void }) => run.finish(), told: 'settled d' },
    { outcome: 'cannot record its outcome', end: (run: { fail: (e: unknown) => void }) => run.fail('outcome rejected'), told: 'dead-lettered d: outcome rejected' },
  ])('tells the consumer when an attempt $outcome', async ({ end, told }) => {
    const { pools, log, runs, handedOff, tick } = setUp();
    pools.offer(handedOff('t.review', 'd'));
    await tick();
    end(runs.get('d')!);
    await tick();
    expect(log).toEqual(['run d', told]);
  });

  it('settles anything but a dispatch at once, without running it', async () => {
    const { pools, log, handedOff, tick } = setUp();
    pools.offer(handedOff('t.review', 'x', { eventType: 'flotilla.task.SomethingElse' }));
    await tick();
    expect(log).toEqual(['settled x']);
  });

  it('forgets the dispatches waiting in revoked partitions (unsettled: their new owner runs them), not the running ones', async () => {
    const { pools, log, runs, handedOff, tick } = setUp();
    pools.offer(handedOff('t.code_gen', 'running', { partition: 1 }));
    pools.offer(handedOff('t.code_gen', 'waiting', { partition: 1 }));
    await tick();
    pools.partitionsRevoked((topic, partition) => topic === 't.code_gen' && partition === 1);
    expect([pools.snapshot('code_gen').inFlight, pools.snapshot('code_gen').queued, pools.hasRoom('t.code_gen')]).toEqual([1, 0, true]);
    runs.get('running')!.finish();
    await tick();
    expect(log).toEqual(['run running', 'settled running']);
  });

  it('drains the running attempts, and refuses a topic that is no pool of its own', async () => {
    const { pools, runs, handedOff, tick } = setUp();
    pools.offer(handedOff('t.review', 'r'));
    await tick();
    const drained = pools.drain(1_000);
    setTimeout(() => runs.get('r')!.finish(), 20);
    await expect(drained).resolves.toBe(true);
    expect(() => pools.hasRoom('t.testing')).toThrow(/not the dispatch topic of a pool here/);
  });
});
