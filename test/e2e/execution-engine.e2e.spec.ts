import { randomUUID } from 'node:crypto';
import { token } from './support/tokens';
import { readTopic, startFlotilla, testKafka, waitFor, type Flotilla } from '@flotilla/testing';

/**
 * The execution engine through its public interfaces: HTTP submit and cancel on the orchestrator, the
 * read model on the projection, events on Kafka. Retry policies and timeouts are shortened through
 * the orchestrator's settings file so that the behaviour shows within seconds.
 */
describe('execution engine: retries, timeouts, cancel, HTTP', () => {
  const fastRetry = { initialIntervalMs: 200, backoffCoefficient: 2, maximumIntervalMs: 1_000, maximumAttempts: 3, nonRetryableErrorKinds: ['cancelled'] };
  const kafka = testKafka('engine-e2e');
  let flotilla: Flotilla<'orchestrator' | 'agent-pool' | 'projection'>;

  let opsToken = '';
  beforeAll(async () => {
    opsToken = await token({ role: 'ops' });
    flotilla = await startFlotilla({
      namespacePrefix: 'eng',
      services: ['orchestrator', 'agent-pool', 'projection'],
      executionSettings: {
        workflows: { review: [{ taskId: 'analysis', agentType: 'analysis', dependsOn: [] }] },
        defaultRetryPolicy: fastRetry,
        retryPolicies: { testing: { ...fastRetry, maximumAttempts: 1 } },
        defaultTimeouts: { scheduleToStartMs: 60_000, startToCloseMs: 120_000, heartbeatMs: 60_000 },
        timeouts: { testing: { scheduleToStartMs: 60_000, startToCloseMs: 120_000, heartbeatMs: 1_500 } },
        // Admission is not what this file is about: room for everything it submits at once, and no
        // circuit breaker tripping over the failures it provokes on purpose.
        admission: { capacity: 200, perCustomerLimit: 200, circuitBreaker: { failureThreshold: 1_000 } },
      },
      executors: { default: { type: 'synthetic' } },
      settings: { all: { SYNTHETIC_MIN_DURATION_MS: '5', SYNTHETIC_MAX_DURATION_MS: '20', HEARTBEAT_INTERVAL_MS: '200', RATE_LIMIT_PER_SECOND: '10000' } },
    });
  });
  afterAll(async () => {
    await flotilla?.stop();
  });

  type View = { status: string; reasons: string[]; tasks: { taskId: string; status: string; attempt: number; reason: string | null }[] };
  const submit = (body: unknown) => fetch(`${flotilla.url('orchestrator')}/v1/executions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${opsToken}` }, body: JSON.stringify(body) });
  const view = async (id: string): Promise<View | undefined> => {
    const response = await fetch(`${flotilla.url('projection')}/v1/executions/${id}`, { headers: { authorization: `Bearer ${opsToken}` } });
    return response.ok ? ((await response.json()) as View) : undefined;
  };
  const until = (id: string, status: string, timeoutMs = 60_000) =>
    waitFor(`execution ${id} to be ${status}`, async () => {
      const v = await view(id);
      return v?.status === status ? v : undefined;
    }, { timeoutMs });
  const request = (tasks: object[]) => ({ executionId: randomUUID(), customerId: 'acme', kind: 'custom', tasks });

  it('answers 400 naming each bad field, 202 with a Location, and is idempotent by execution id', async () => {
    const bad = await submit({ executionId: 'x-1', kind: 'review', tier: 'gold', tasks: [{ taskId: '', agentType: 'code_gen' }] });
    expect(bad.status).toBe(400);
    const problems = ((await bad.json()) as { problems: { field: string; problem: string }[] }).problems.map((p) => p.field);
    expect(problems).toEqual(expect.arrayContaining(['customerId', 'tier', 'tasks.0.taskId']));

    const unknownAgent = await submit(request([{ taskId: 't', agentType: 'fortune_telling' }]));
    expect(unknownAgent.status).toBe(400);
    expect(((await unknownAgent.json()) as { message: string }).message).toMatch(/tasks\[0\]\.agentType "fortune_telling" is not a known agent type/);

    const body = { executionId: randomUUID(), customerId: 'acme', kind: 'review' };
    const first = await submit(body);
    expect(first.status).toBe(202);
    expect(first.headers.get('location')).toBe(`/v1/executions/${body.executionId}`);
    expect((await submit(body)).status).toBe(202);
    const done = await until(body.executionId, 'completed');
    expect(done.tasks.map((t) => t.taskId)).toEqual(['analysis']); // the configured workflow of its kind
  });

  it('retries a failing task with backoff and then completes', async () => {
    const body = request([{ taskId: 'flaky', agentType: 'code_gen', input: { fail_until_attempt: '2' } }]);
    expect((await submit(body)).status).toBe(202);
    const done = await until(body.executionId, 'completed');
    expect(done.tasks[0]).toMatchObject({ status: 'completed', attempt: 3 });
  });

  it('fails the execution when retries are exhausted and skips the tasks downstream', async () => {
    const body = request([
      { taskId: 'broken', agentType: 'code_gen', input: { fail: 'always' } },
      { taskId: 'after', agentType: 'testing', dependsOn: ['broken'] },
      { taskId: 'last', agentType: 'deployment', dependsOn: ['after'] },
    ]);
    expect((await submit(body)).status).toBe(202);
    const failed = await until(body.executionId, 'failed');
    expect(failed.reasons[0]).toMatch(/task broken failed: synthetic_failure: .* \(retries exhausted after 3 attempt\(s\)\)/);
    const byId = Object.fromEntries(failed.tasks.map((t) => [t.taskId, t]));
    await waitFor('downstream tasks skipped', async () => (await view(body.executionId))?.tasks.filter((t) => t.status === 'skipped').length === 2);
    expect(byId.broken).toMatchObject({ status: 'failed', attempt: 3 });
  });

  it('catches a hung executor with the heartbeat timeout', async () => {
    const body = request([{ taskId: 'stuck', agentType: 'testing', input: { hang: 'true' } }]);
    expect((await submit(body)).status).toBe(202);
    const failed = await until(body.executionId, 'failed', 30_000);
    expect(failed.reasons[0]).toMatch(/task stuck failed: timeout: heartbeat timeout/);
  });

  it('cancels a running execution and tells the pool to stop the running attempt', async () => {
    const body = request([{ taskId: 'long', agentType: 'code_gen', input: { duration_ms: '60000' } }]);
    expect((await submit(body)).status).toBe(202);
    await waitFor('the task to run', async () => (await view(body.executionId))?.tasks[0]?.status === 'running', { timeoutMs: 30_000 });
    const cancel = await fetch(`${flotilla.url('orchestrator')}/v1/executions/${body.executionId}/cancel`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${opsToken}` }, body: JSON.stringify({ reason: 'customer changed their mind' }) });
    expect(cancel.status).toBe(202);
    const cancelled = await until(body.executionId, 'cancelled', 30_000);
    expect(cancelled.reasons).toEqual(['customer changed their mind']);

    // The pool stopped the attempt long before its 60 s were up, and said why.
    const events = await readTopic(kafka, flotilla.topic('flotilla.task-events'), (ms) =>
      ms.some((m) => m.key?.toString() === body.executionId && m.headers?.['flotilla-event-type']?.toString() === 'flotilla.task.TaskFailed'),
    );
    expect(events.some((m) => m.key?.toString() === body.executionId && m.headers?.['flotilla-event-type']?.toString() === 'flotilla.task.TaskFailed')).toBe(true);

    // Cancelling again is idempotent; cancelling a finished execution is a conflict.
    expect((await fetch(`${flotilla.url('orchestrator')}/v1/executions/${body.executionId}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${opsToken}` } })).status).toBe(202);
    const finished = request([{ taskId: 'quick', agentType: 'code_gen' }]);
    await submit(finished);
    await until(finished.executionId, 'completed');
    const late = await fetch(`${flotilla.url('orchestrator')}/v1/executions/${finished.executionId}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${opsToken}` } });
    expect(late.status).toBe(409);
    expect(((await late.json()) as { message: string }).message).toBe(`execution ${finished.executionId} is completed and can no longer be cancelled`);
    const unknown = await fetch(`${flotilla.url('orchestrator')}/v1/executions/${randomUUID()}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${opsToken}` } });
    expect(unknown.status).toBe(404);
  });

  it('loses nothing and applies no task completion twice when the agent pool is SIGKILLed mid-run', async () => {
    const bodies = Array.from({ length: 60 }, (_, i) => request([
      { taskId: 'a', agentType: 'code_gen', input: { duration_ms: String(50 + (i % 5) * 40) } },
      // not `testing`: this file gives that type a 1.5 s heartbeat timeout and a single attempt
      { taskId: 'b', agentType: 'review', dependsOn: ['a'], input: { duration_ms: '30' } },
    ]));
    for (const body of bodies) expect((await submit(body)).status).toBe(202);
    await waitFor('some executions to complete', async () => (await Promise.all(bodies.slice(0, 20).map((b) => view(b.executionId)))).filter((v) => v?.status === 'completed').length >= 5, { timeoutMs: 60_000 });
    await flotilla.process('agent-pool').kill('SIGKILL');
    await flotilla.process('agent-pool').start();
    for (const body of bodies) await until(body.executionId, 'completed', 180_000);

    // Every task's completion was applied to its execution exactly once (one distinct outcome event per task).
    const ids = new Set<string>(bodies.map((b) => b.executionId));
    const outcomes = new Map<string, Set<string>>();
    await readTopic(kafka, flotilla.topic('flotilla.executions'), (messages) => {
      for (const m of messages.splice(0)) {
        if (m.headers?.['flotilla-event-type']?.toString() !== 'flotilla.execution.TaskOutcomeRecorded' || !ids.has(m.key!.toString())) continue;
        const eventId = m.headers['flotilla-event-id']!.toString();
        const aggregateVersion = m.headers['flotilla-aggregate-version']!.toString();
        const key = `${m.key!.toString()}`;
        outcomes.set(key, (outcomes.get(key) ?? new Set()).add(`${eventId}@${aggregateVersion}`));
      }
      return [...ids].every((id) => (outcomes.get(id)?.size ?? 0) >= 2);
    }, 120_000);
    const counts = [...ids].map((id) => outcomes.get(id)?.size ?? 0);
    expect(counts.filter((n) => n !== 2)).toEqual([]); // tasks a and b: one outcome each, never a second
  });
});
