import type { PoolMetricsReported, TaskCompleted, TaskDispatched, TaskStarted } from '@flotilla/contracts';
import { startFlotilla, waitFor, type Flotilla } from '@flotilla/testing';
import { gauge, EventDriver, type TopicTail } from './support/event-driver';

/**
 * One pool saturated with slow tasks must not delay another pool's tasks, and the pool's metrics
 * reports must tell the same story as the task events. Dispatches are published straight to the
 * pools' topics (no orchestrator), with synthetic tasks of fixed durations.
 */
describe('agent pool: bulkheads and pool metrics', () => {
  let flotilla: Flotilla<'agent-pool'>;
  let driver: EventDriver;
  let taskEvents: TopicTail<TaskStarted & TaskCompleted>;
  let metrics: TopicTail<PoolMetricsReported>;

  let slow: TaskDispatched[];
  let quick: TaskDispatched;

  beforeAll(async () => {
    flotilla = await startFlotilla({
      namespacePrefix: 'apb',
      services: ['agent-pool'],
      executors: { default: { type: 'synthetic' } },
      settings: {
        all: { AGENT_TYPES: 'code_gen,review', POOL_CONCURRENCY: '2', POOL_QUEUE_PER_SLOT: '1', POOL_METRICS_INTERVAL_MS: '1000', HEARTBEAT_INTERVAL_MS: '1000' },
      },
    });
    driver = new EventDriver(flotilla.namespace);
    slow = Array.from({ length: 8 }, () => driver.dispatch('code_gen', 3_000));
    quick = driver.dispatch('review', 50);
    await driver.connect();
    taskEvents = await driver.tail('flotilla.task-events');
    metrics = await driver.tail('flotilla.pool-metrics');
  });
  afterAll(async () => {
    await Promise.all([taskEvents?.stop(), metrics?.stop()]);
    await driver?.disconnect();
    await flotilla?.stop();
  });

  const completed = () => taskEvents.of<TaskCompleted>('flotilla.task.TaskCompleted');
  const started = () => taskEvents.of<TaskStarted>('flotilla.task.TaskStarted');

  /**
   * The run both tests look at: eight slow code_gen tasks, then a quick review task once code_gen is
   * saturated, until all are done. Done once, by whichever test comes first, so each stands alone.
   */
  let run: Promise<void> | undefined;
  const saturateThenRunQuick = () =>
    (run ??= (async () => {
      await driver.send(slow);
      // Saturated: both slots busy and the pool's queue full, so its topic is paused with the rest in Kafka.
      await waitFor('code_gen to be saturated', async () => (await gauge(flotilla.url('agent-pool'), 'agent_task_in_flight', 'code_gen')) === 2 && (await gauge(flotilla.url('agent-pool'), 'agent_task_queue_size', 'code_gen')) === 2);
      await driver.send([quick]);

      await waitFor('every task to complete', () => completed().length === slow.length + 1, { timeoutMs: 60_000 });
    })());

  it('runs a quick task of another pool while a saturated pool still has most of its backlog', async () => {
    await saturateThenRunQuick();
    const reviewDone = completed().find((c) => c.executionId === quick.executionId)!;
    const slowStarts = started().filter((s) => s.agentType === 'code_gen');
    // At most the two running, and two more if the first two finished meanwhile, started before the review was done.
    expect(slowStarts.filter((s) => s.startedAt > reviewDone.completedAt).length).toBeGreaterThanOrEqual(4);

    // TaskStarted says when an attempt got a slot: never more than two code_gen attempts ran at once.
    const slowDone = new Map(completed().map((c) => [c.executionId, c.completedAt]));
    const runningAt = (t: number) => slowStarts.filter((s) => s.startedAt <= t && slowDone.get(s.executionId)! > t).length;
    expect(Math.max(...slowStarts.map((s) => runningAt(s.startedAt)))).toBe(2);
    expect(taskEvents.of('flotilla.task.TaskFailed')).toEqual([]);
  });

  it('reports per-pool metrics that add up to what ran', async () => {
    await saturateThenRunQuick();
    const lastDone = Math.max(...completed().map((c) => c.completedAt));
    const reports = (agentType: string) => metrics.of<PoolMetricsReported>('flotilla.pool.PoolMetricsReported').filter((r) => r.agentType === agentType);
    await waitFor('a report of each pool after the last completion', () => ['code_gen', 'review'].every((t) => reports(t).some((r) => r.windowStartedAt > lastDone)), { timeoutMs: 30_000 });

    const codeGen = reports('code_gen');
    const count = (rs: PoolMetricsReported[], rate: (r: PoolMetricsReported) => number) =>
      rs.reduce((sum, r) => sum + Math.round((rate(r) * (r.windowEndedAt - r.windowStartedAt)) / 1000), 0);
    // Windows follow each other without gap or overlap, so their counts add up to the tasks run.
    expect(count(codeGen, (r) => r.completionRatePerSec)).toBe(slow.length);
    expect(count(codeGen, (r) => r.arrivalRatePerSec)).toBe(slow.length);
    expect(count(reports('review'), (r) => r.completionRatePerSec)).toBe(1);
    for (let i = 1; i < codeGen.length; i++) expect(codeGen[i].windowStartedAt).toBe(codeGen[i - 1].windowEndedAt);

    // While saturated: in-flight at the limit, a backlog behind it, slots busy.
    const saturated = codeGen.filter((r) => r.inFlight === 2 && r.backlog > 0);
    expect(saturated.length).toBeGreaterThan(0);
    expect(Math.max(...saturated.map((r) => r.backlog))).toBeGreaterThanOrEqual(4);
    expect(Math.max(...codeGen.map((r) => r.utilization))).toBeGreaterThan(0.8);
    expect(codeGen.every((r) => r.concurrency === 2 && r.workers === 2 && r.errorRate === 0)).toBe(true);
    // Latency runs from taking the dispatch to its outcome, so it includes the 3 s run.
    expect(Math.min(...codeGen.filter((r) => r.latencyP50Ms !== null).map((r) => r.latencyP50Ms!))).toBeGreaterThanOrEqual(3_000);
    expect(codeGen.every((r) => r.memoryRssBytes > 0 && r.cpuPercent >= 0)).toBe(true);
    // Idle at the end: nothing in flight, nothing left.
    const last = codeGen[codeGen.length - 1];
    expect([last.inFlight, last.backlog]).toEqual([0, 0]);
  });
});
