import type { AdmissionCapacityChanged, AlertRaised, ExecutionAdmitted, ExecutionQueued } from '@flotilla/contracts';
import { startFlotilla, waitFor, type Flotilla } from '@flotilla/testing';
import { randomUUID } from 'node:crypto';
import { EventDriver, type TopicTail } from './support/event-driver';
import { token } from './support/tokens';

const DAY = 86_400_000;
const AGING_POINTS_PER_MINUTE = 1_200;

/**
 * Admission through the orchestrator's public interfaces: requests over HTTP, capacity changes as
 * events, and everything observed from the events it publishes. Aging is fast (20 points a second)
 * and the cool-off and SLA short, so that the behaviour shows within seconds.
 */
describe('admission: capacity, priority with aging, SLA, circuit breaker', () => {
  const oneAttempt = { initialIntervalMs: 100, backoffCoefficient: 2, maximumIntervalMs: 1_000, maximumAttempts: 1, nonRetryableErrorKinds: [] };
  let flotilla: Flotilla<'orchestrator' | 'agent-pool'>;
  let driver: EventDriver;
  let executions: TopicTail<Record<string, unknown>>;
  let admission: TopicTail<Record<string, unknown>>;
  let alerts: TopicTail<AlertRaised>;
  let opsToken = '';

  beforeAll(async () => {
    opsToken = await token({ role: 'ops' });
    flotilla = await startFlotilla({
      namespacePrefix: 'adm',
      services: ['orchestrator', 'agent-pool'],
      executionSettings: {
        workflows: { review: [{ taskId: 'analysis', agentType: 'analysis', dependsOn: [] }] },
        defaultRetryPolicy: oneAttempt,
        defaultTimeouts: { scheduleToStartMs: 60_000, startToCloseMs: 60_000, heartbeatMs: 30_000 },
        admission: { capacity: 3, perCustomerLimit: 2, agingPointsPerMinute: AGING_POINTS_PER_MINUTE, queueSlaMs: 2_500, circuitBreaker: { failureThreshold: 5, coolOffMs: 3_000, whileOpen: 'hold' } },
      },
      executors: { default: { type: 'synthetic' } },
      settings: { all: { POOL_CONCURRENCY: '16', HEARTBEAT_INTERVAL_MS: '500' } },
    });
    driver = new EventDriver(flotilla.namespace);
    await driver.connect();
    [executions, admission, alerts] = await Promise.all([driver.tail('flotilla.executions'), driver.tail('flotilla.admission'), driver.tail<AlertRaised>('flotilla.alerts')]);
  });
  afterAll(async () => {
    await Promise.all([executions?.stop(), admission?.stop(), alerts?.stop()]);
    await driver?.disconnect();
    await flotilla?.stop();
  });

  type Options = { customerId?: string; durationMs?: number; fail?: boolean; contractValue?: number; deadlineAt?: number; tier?: 'premium' | 'standard' };
  const submit = async (name: string, o: Options = {}): Promise<string> => {
    const executionId = `${name}-${randomUUID().slice(0, 8)}`;
    const input: Record<string, string> = { duration_ms: String(o.durationMs ?? 100), ...(o.fail ? { fail: 'always' } : {}) };
    const response = await fetch(`${flotilla.url('orchestrator')}/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${opsToken}` },
      body: JSON.stringify({
        executionId,
        customerId: o.customerId ?? `customer-${name}`,
        kind: 'custom',
        tasks: [{ taskId: 'work', agentType: 'code_gen', input }],
        contractValue: o.contractValue ?? null,
        deadlineAt: o.deadlineAt ?? null,
        tier: o.tier ?? null,
      }),
    });
    expect(response.status).toBe(202);
    return executionId;
  };
  const eventsOf = <T = Record<string, unknown>>(type: string, executionId?: string) =>
    executions.events.filter((e) => e.type === type && (executionId === undefined || e.key === executionId)).map((e) => e.payload as unknown as T);
  const admitted = (id: string) => eventsOf<ExecutionAdmitted>('flotilla.execution.ExecutionAdmitted', id)[0];
  const ended = (id: string) => executions.events.find((e) => e.key === id && /ExecutionCompleted|ExecutionFailed|ExecutionCancelled|ExecutionRejected/.test(e.type));
  const untilEnded = (ids: string[], timeoutMs = 60_000) => waitFor(`${ids.length} execution(s) to end`, () => ids.every((id) => ended(id)), { timeoutMs });
  const admissionOrder = (ids: string[]) => [...ids].sort((a, b) => admitted(a).admittedAt - admitted(b).admittedAt);

  /** Most executions holding a slot at once among `ids`, from their admitted and ended events. */
  const peakConcurrency = (ids: string[]) => {
    const steps: Array<[number, number]> = [];
    for (const id of ids) {
      steps.push([admitted(id).admittedAt, +1]);
      const end = ended(id)!.payload as { completedAt?: number; failedAt?: number; cancelledAt?: number };
      steps.push([end.completedAt ?? end.failedAt ?? end.cancelledAt ?? Number.NaN, -1]);
    }
    steps.sort((a, b) => a[0] - b[0] || a[1] - b[1]); // a release at the same millisecond comes first
    let current = 0;
    let peak = 0;
    for (const [, step] of steps) peak = Math.max(peak, (current += step));
    return peak;
  };

  it('takes a capacity change as an event, then admits the most urgent and valuable first, never above capacity, with aging and SLA alerts', async () => {
    const requestId = `${flotilla.namespace}-capacity-1`;
    await driver.publish([
      { topic: 'flotilla.admission-commands', key: 'global', type: 'flotilla.admission.AdmissionCapacityChangeRequested', payload: { requestId, capacity: 1, reason: 'e2e: one at a time', requestedBy: 'test', requestedAt: Date.now() } },
    ]);
    const changed = await waitFor('the capacity change', () => admission.events.map((e) => e.payload as unknown as AdmissionCapacityChanged).find((c) => c.requestId === requestId), { timeoutMs: 30_000 });
    expect(changed).toMatchObject({ previousCapacity: 3, capacity: 1 });

    // Contention: one slot, held by a blocker, while five executions queue, lowest priority first.
    const blocker = await submit('blocker', { durationMs: 2_000 });
    await waitFor('the blocker to be admitted', () => admitted(blocker));
    const standard = await submit('standard'); // 0
    const premium = await submit('premium', { tier: 'premium' }); // 20
    const urgent = await submit('urgent', { deadlineAt: Date.now() + DAY }); // 29
    const premiumUrgent = await submit('premium-urgent', { tier: 'premium', deadlineAt: Date.now() + DAY }); // 49
    const valuable = await submit('valuable', { tier: 'premium', deadlineAt: Date.now() + DAY, contractValue: 600_000 }); // 99
    const contenders = [standard, premium, urgent, premiumUrgent, valuable];
    await untilEnded([blocker, ...contenders]);
    expect(admissionOrder(contenders)).toEqual([valuable, premiumUrgent, urgent, premium, standard]);
    expect(peakConcurrency([blocker, ...contenders])).toBe(1);

    // Aging: an execution with no priority at all that has waited 3 s (60 points) goes before a
    // newer one worth 50 points.
    const blocker2 = await submit('blocker-2', { durationMs: 4_000 });
    await waitFor('the second blocker to be admitted', () => admitted(blocker2));
    const old = await submit('old-low');
    // Aging depends on time alone, so the condition is old-low's own wait, counted from the moment
    // the orchestrator queued it: 3 s are 60 points, more than the 50 the newcomer brings.
    const queued = await waitFor('old-low to be queued', () => eventsOf<ExecutionQueued>('flotilla.execution.ExecutionQueued', old)[0]);
    await waitFor('old-low to have aged past 50 points', () => ((Date.now() - queued.queuedAt) * AGING_POINTS_PER_MINUTE) / 60_000 >= 60, { timeoutMs: 10_000 });
    const high = await submit('new-high', { contractValue: 500_000 });
    await untilEnded([blocker2, old, high]);
    expect(admissionOrder([old, high])).toEqual([old, high]);
    expect(admitted(old).effectivePriority).toBeGreaterThan(admitted(high).effectivePriority);

    // old-low waited about 4 s against an SLA of 2.5 s: one violation, one alert; the blockers waited for nothing.
    const violations = eventsOf<{ actualMs: number; limitMs: number }>('flotilla.execution.SlaViolated', old);
    expect(violations).toHaveLength(1);
    expect(violations[0].limitMs).toBe(2_500);
    expect(violations[0].actualMs).toBeGreaterThan(2_500);
    expect(eventsOf('flotilla.execution.SlaViolated', blocker)).toEqual([]);
    await waitFor('the SLA alert', () => alerts.events.find((a) => a.payload.kind === 'sla_violated' && a.payload.executionId === old));
  });

  it('keeps to the global capacity and to each customer cap when both bind', async () => {
    // Starts from a capacity of 1, where the previous test leaves it, set here so that this test stands alone.
    await fetch(`${flotilla.url('orchestrator')}/v1/admission/capacity`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${opsToken}` }, body: JSON.stringify({ capacity: 1 }) });
    const response = await fetch(`${flotilla.url('orchestrator')}/v1/admission/capacity`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${opsToken}` }, body: JSON.stringify({ capacity: 3 }) });
    expect(await response.json()).toMatchObject({ previousCapacity: 1, capacity: 3 });
    const bad = await fetch(`${flotilla.url('orchestrator')}/v1/admission/capacity`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${opsToken}` }, body: JSON.stringify({ capacity: 0 }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toBe('capacity: must be at least 1');

    const solo = await Promise.all([1, 2, 3, 4].map((i) => submit(`solo-${i}`, { customerId: 'solo', durationMs: 600 })));
    const others = await Promise.all([1, 2, 3, 4].map((i) => submit(`other-${i}`, { durationMs: 600 })));
    await untilEnded([...solo, ...others]);
    expect(peakConcurrency([...solo, ...others])).toBe(3);
    expect(peakConcurrency(solo)).toBeLessThanOrEqual(2);
  });

  it('opens a customer circuit after 5 failed executions, holds the next request through the cool-off, and closes on a successful probe', async () => {
    const failures = [];
    for (let i = 1; i <= 5; i++) failures.push(await submit(`flaky-fail-${i}`, { customerId: 'flaky', fail: true, durationMs: 10 }));
    await untilEnded(failures);
    const opened = await waitFor('the circuit to open', () => admission.events.find((e) => e.type === 'flotilla.admission.CustomerCircuitOpened' && e.key === 'flaky'));
    const openUntil = (opened.payload as { openUntil: number }).openUntil;
    expect(opened.payload).toMatchObject({ customerId: 'flaky', consecutiveFailures: 5, whileOpen: 'hold' });
    await waitFor('the circuit alert', () => alerts.events.find((a) => a.payload.kind === 'circuit_opened' && a.payload.customerId === 'flaky'));

    const probe = await submit('flaky-probe', { customerId: 'flaky' });
    const bystander = await submit('bystander'); // another customer is not held
    await untilEnded([probe, bystander], 30_000);
    expect(admitted(bystander).admittedAt).toBeLessThan(openUntil);
    expect(admitted(probe)).toMatchObject({ probe: true });
    expect(admitted(probe).admittedAt).toBeGreaterThanOrEqual(openUntil);

    const closed = await waitFor('the circuit to close', () => admission.events.find((e) => e.type === 'flotilla.admission.CustomerCircuitClosed' && e.key === 'flaky'));
    expect(closed.payload).toMatchObject({ probeExecutionId: probe });
    const kinds = admission.events.filter((e) => e.key === 'flaky' && /Circuit/.test(e.type)).map((e) => e.type.split('.').pop());
    expect(kinds).toEqual(['CustomerCircuitOpened', 'CustomerCircuitHalfOpened', 'CustomerCircuitClosed']);

    const after = await submit('flaky-after', { customerId: 'flaky' });
    await untilEnded([after]);
    expect(admitted(after)).toMatchObject({ probe: false });
  });

  it('keeps its queue through a SIGKILL: every queued execution is admitted and completes exactly once', async () => {
    await fetch(`${flotilla.url('orchestrator')}/v1/admission/capacity`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${opsToken}` }, body: JSON.stringify({ capacity: 1, reason: 'e2e restart' }) });
    const blocker = await submit('restart-blocker', { durationMs: 3_000 });
    await waitFor('the blocker to be admitted', () => admitted(blocker));
    const queued = await Promise.all([1, 2, 3].map((i) => submit(`queued-${i}`)));
    await flotilla.process('orchestrator').kill('SIGKILL');
    await flotilla.process('orchestrator').start();
    const all = [blocker, ...queued];
    await untilEnded(all, 90_000);
    // A duplicate (a relay republish, a second admission) would come after the first outcome. Rather
    // than give it a moment, wait until it could no longer be on its way: the services have consumed
    // and committed every input and published every outbox row, and the tail has read the topic up
    // to the end that leaves.
    await flotilla.settled();
    await executions.caughtUp();
    // How each one ended, for the failure message if one did not complete.
    expect(all.map((id) => [id, ended(id)!.type.split('.').pop(), ended(id)!.payload.reason ?? ended(id)!.payload.reasons ?? null])).toEqual(all.map((id) => [id, 'ExecutionCompleted', null]));
    for (const id of all) {
      expect(eventsOf('flotilla.execution.ExecutionAdmitted', id)).toHaveLength(1);
      expect(eventsOf('flotilla.execution.ExecutionCompleted', id)).toHaveLength(1);
    }
    expect(peakConcurrency(all)).toBe(1);
  });
});
