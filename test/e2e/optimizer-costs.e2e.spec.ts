import type { ExecutionCostFinalized, TaskCompleted, TaskFailed } from '@flotilla/contracts';
import { startFlotilla, waitFor, type Flotilla } from '@flotilla/testing';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { EventDriver, type TopicTail } from './support/event-driver';
import { token } from './support/tokens';

/**
 * The cost ledger against an independent computation: the test prices every TaskCompleted and
 * TaskFailed it reads on Kafka itself, from the price sheet file and the rule the README states
 * (OpenCost's max(requested, used) × time × rate, each part rounded to the micro-unit, plus the
 * fixed and per-unit prices), and requires the optimizer's API to agree to the micro-unit: per
 * attempt, per execution and per customer, and the query API's execution detail to show the same
 * cost. Once each execution ended, its cost is final: exactly one ExecutionCostFinalized on
 * flotilla.costs, after its CostRecorded events, with the same total and no attempt missing, and the
 * API says final. Then the optimizer is SIGKILLed mid-run and restarted: the totals must still agree
 * and each execution still be finalized exactly once (nothing counted twice, nothing lost).
 */
const SHEET_FILE = path.resolve(__dirname, '../../services/optimizer/config/price-sheet.json');

interface SheetPrices {
  cpuCoreHourMicros: number;
  memoryGbHourMicros: number;
  perTaskMicros: number;
  perUnitMicros: Record<string, number>;
  requested: { cpuCores: number; memoryGb: number };
}
interface Sheet {
  default: SheetPrices;
  agentTypes: Record<string, Partial<SheetPrices>>;
}

/** The README's pricing rule, written out again here on purpose rather than imported. */
function independentCost(sheet: Sheet, report: { agentType: string; usage: { cpuTimeMs: number; peakRssBytes: number; wallTimeMs: number }; output: Record<string, string> }): number {
  const own = sheet.agentTypes[report.agentType] ?? {};
  const p: SheetPrices = { ...sheet.default, ...own, perUnitMicros: { ...sheet.default.perUnitMicros, ...own.perUnitMicros }, requested: { ...sheet.default.requested, ...own.requested } };
  const wall = report.usage.wallTimeMs;
  const coreMs = Math.max(p.requested.cpuCores * wall, report.usage.cpuTimeMs);
  const gbMs = Math.max(p.requested.memoryGb, report.usage.peakRssBytes / 1024 ** 3) * wall;
  let units = 0;
  for (const [unit, price] of Object.entries(p.perUnitMicros)) {
    const count = Number(report.output[unit]);
    if (report.output[unit] !== undefined && count > 0) units += Math.round(count * price);
  }
  return Math.round((coreMs * p.cpuCoreHourMicros) / 3_600_000) + Math.round((gbMs * p.memoryGbHourMicros) / 3_600_000) + p.perTaskMicros + units;
}

describe('optimizer: the cost ledger', () => {
  const fastRetry = { initialIntervalMs: 100, backoffCoefficient: 1, maximumIntervalMs: 100, maximumAttempts: 3, nonRetryableErrorKinds: [] };
  const sheet = JSON.parse(fs.readFileSync(SHEET_FILE, 'utf8')) as Sheet;
  let flotilla: Flotilla<'orchestrator' | 'agent-pool' | 'optimizer' | 'projection'>;
  let driver: EventDriver;
  let taskEvents: TopicTail<Record<string, unknown>>;
  let executions: TopicTail<Record<string, unknown>>;
  let costs: TopicTail<Record<string, unknown>>;
  let ops = '';

  beforeAll(async () => {
    ops = await token({ role: 'ops' });
    flotilla = await startFlotilla({
      namespacePrefix: 'cost',
      services: ['orchestrator', 'agent-pool', 'optimizer', 'projection'],
      executionSettings: {
        workflows: {},
        defaultRetryPolicy: fastRetry,
        defaultTimeouts: { scheduleToStartMs: 60_000, startToCloseMs: 60_000, heartbeatMs: 30_000 },
        admission: { capacity: 100, perCustomerLimit: 100, circuitBreaker: { failureThreshold: 1_000 } },
      },
      executors: { default: { type: 'synthetic' } },
      settings: { all: { SYNTHETIC_MIN_DURATION_MS: '20', SYNTHETIC_MAX_DURATION_MS: '120', HEARTBEAT_INTERVAL_MS: '200', POOL_CONCURRENCY: '16' } },
    });
    driver = new EventDriver(flotilla.namespace);
    await driver.connect();
    [taskEvents, executions, costs] = await Promise.all([driver.tail('flotilla.task-events'), driver.tail('flotilla.executions'), driver.tail('flotilla.costs')]);
  });
  afterAll(async () => {
    await Promise.all([taskEvents?.stop(), executions?.stop(), costs?.stop()]);
    await driver?.disconnect();
    await flotilla?.stop();
  });

  const get = async (url: string, bearer = ops) => {
    const response = await fetch(`${flotilla.url('optimizer')}${url}`, { headers: { authorization: `Bearer ${bearer}` } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  /** A mix per customer: plain tasks, a task that fails twice then succeeds, one that always fails, and one reporting tokens. */
  async function submitRun(customers: readonly string[], perCustomer: number, durationMs?: number): Promise<Map<string, string>> {
    const duration = durationMs === undefined ? {} : { duration_ms: String(durationMs) };
    const customerOf = new Map<string, string>();
    for (const customerId of customers) {
      for (let i = 0; i < perCustomer; i++) {
        const executionId = `cost-${randomUUID()}`;
        const tasks = [
          { taskId: 'plan', agentType: 'analysis', input: { ...duration } },
          { taskId: 'code', agentType: 'code_gen', input: { ...duration, ...(i % 2 === 0 ? { tokens: String(1_000 + i) } : { fail_until_attempt: '2' }) }, dependsOn: ['plan'] },
          ...(i % 3 === 2 ? [{ taskId: 'check', agentType: 'testing', input: { ...duration, fail: 'always' }, dependsOn: ['code'] }] : []),
        ];
        const response = await fetch(`${flotilla.url('orchestrator')}/v1/executions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ops}` },
          body: JSON.stringify({ executionId, customerId, kind: 'custom', tasks }),
        });
        expect(response.status).toBe(202);
        customerOf.set(executionId, customerId);
      }
    }
    return customerOf;
  }

  const ended = (executionId: string) => executions.events.some((e) => e.key === executionId && /ExecutionCompleted|ExecutionFailed/.test(e.type));
  const outcomeOf = (executionId: string) => (executions.events.some((e) => e.key === executionId && e.type === 'flotilla.execution.ExecutionCompleted') ? 'completed' : 'failed');
  /** The execution's ExecutionCostFinalized events, one per event id (a relay republishing after a crash sends the same event again). */
  const finalizedOf = (executionId: string) => {
    const byEventId = new Map(costs.events.filter((e) => e.type === 'flotilla.cost.ExecutionCostFinalized' && e.key === executionId).map((e) => [e.eventId, e.payload as unknown as ExecutionCostFinalized]));
    return [...byEventId.values()];
  };
  const reportsOf = (executionId: string) => [
    ...taskEvents.of<TaskCompleted>('flotilla.task.TaskCompleted').filter((r) => r.executionId === executionId),
    ...taskEvents.of<TaskFailed>('flotilla.task.TaskFailed').filter((r) => r.executionId === executionId).map((r) => ({ ...r, output: {} as Record<string, string> })),
  ];

  /** Waits for the run to end and the ledger to have every attempt; then compares it with the independent prices. */
  async function expectLedgerToAgree(customerOf: Map<string, string>): Promise<void> {
    const ids = [...customerOf.keys()];
    await waitFor(`${ids.length} executions to end`, () => ids.every(ended), { timeoutMs: 90_000 });
    await taskEvents.caughtUp();
    const expectedTotal = new Map<string, number>();
    const expectedAttempts = new Map<string, number>();
    for (const id of ids) {
      const reports = reportsOf(id);
      expect(reports.length).toBeGreaterThan(0);
      const perAttempt = new Map(reports.map((r) => [`${r.executionId}/${r.taskId}/${r.attempt}`, independentCost(sheet, r)]));
      const cost = await waitFor(`the ledger to hold the ${perAttempt.size} attempts of ${id}`, async () => {
        const { status, body } = await get(`/v1/costs/executions/${id}`);
        return status === 200 && (body.attempts as unknown[]).length === perAttempt.size ? body : undefined;
      }, { timeoutMs: 60_000 });
      const attempts = cost.attempts as { costId: string; totalMicros: number; cpuMicros: number; memoryMicros: number; fixedMicros: number; unitsMicros: number }[];
      expect(Object.fromEntries(attempts.map((a) => [a.costId, a.totalMicros]))).toEqual(Object.fromEntries(perAttempt));
      for (const a of attempts) expect(a.cpuMicros + a.memoryMicros + a.fixedMicros + a.unitsMicros).toBe(a.totalMicros);
      const total = [...perAttempt.values()].reduce((s, v) => s + v, 0);
      expect(cost).toMatchObject({ executionId: id, customerId: customerOf.get(id), currency: 'USD', totalMicros: total });
      expectedTotal.set(id, total);
      expectedAttempts.set(id, perAttempt.size);
      // The execution's detail in the query API shows the same cost (the projection reads flotilla.costs).
      await waitFor(`the projection to show the cost of ${id}`, async () => {
        const response = await fetch(`${flotilla.url('projection')}/v1/executions/${id}`, { headers: { authorization: `Bearer ${ops}` } });
        const view = response.ok ? ((await response.json()) as { costMicros: number; costCurrency: string }) : null;
        return view?.costMicros === total && view.costCurrency === 'USD';
      });
    }
    // Each execution's cost is final once: one ExecutionCostFinalized, after all its CostRecorded on its
    // partition, with the same total, every attempt costed and none missing; the API says so too.
    await waitFor(`${ids.length} execution costs to be final`, () => ids.every((id) => finalizedOf(id).length > 0), { timeoutMs: 60_000 });
    await costs.caughtUp();
    for (const id of ids) {
      const finalized = finalizedOf(id);
      expect(finalized).toHaveLength(1);
      expect(finalized[0]).toMatchObject({ executionId: id, customerId: customerOf.get(id), outcome: outcomeOf(id), attempts: expectedAttempts.get(id), missingAttempts: 0, totalMicros: expectedTotal.get(id), currency: 'USD' });
      const ofExecution = costs.events.filter((e) => e.key === id);
      const firstFinal = ofExecution.findIndex((e) => e.type === 'flotilla.cost.ExecutionCostFinalized');
      expect(new Set(ofExecution.slice(0, firstFinal).filter((e) => e.type === 'flotilla.cost.CostRecorded').map((e) => e.payload.costId)).size).toBe(expectedAttempts.get(id));
      const { body } = await get(`/v1/costs/executions/${id}`);
      expect(body).toMatchObject({ final: true, missingAttempts: 0, totalMicros: expectedTotal.get(id) });
    }
    // The sum per customer equals the sum of its executions.
    for (const customerId of new Set(customerOf.values())) {
      const own = ids.filter((id) => customerOf.get(id) === customerId);
      const { status, body } = await get(`/v1/costs/customers/${customerId}`);
      expect(status).toBe(200);
      expect(body).toMatchObject({ customerId, executions: own.length, totalMicros: own.reduce((s, id) => s + expectedTotal.get(id)!, 0) });
      const byPool = (body.byAgentType as { totalMicros: number }[]).reduce((s, p) => s + p.totalMicros, 0);
      expect(byPool).toBe(body.totalMicros);
    }
    // The read models agree too: each execution final with its attempts, each customer's sum per pool
    // and per hour the sum of its executions, and the costliest executions those of the run.
    const readModel = async (url: string) => (await fetch(`${flotilla.url('projection')}${url}`, { headers: { authorization: `Bearer ${ops}` } })).json();
    for (const id of ids) {
      await waitFor(`the projection to mark the cost of ${id} final`, async () => ((await readModel(`/v1/executions/${id}`)) as { costFinal: boolean }).costFinal);
      expect(await readModel(`/v1/executions/${id}`)).toMatchObject({ costMicros: expectedTotal.get(id), costAttempts: expectedAttempts.get(id), costFinal: true, costMissingAttempts: 0 });
    }
    for (const customerId of new Set(customerOf.values())) {
      const own = ids.filter((id) => customerOf.get(id) === customerId);
      const sum = own.reduce((s, id) => s + expectedTotal.get(id)!, 0);
      const attempts = own.reduce((s, id) => s + expectedAttempts.get(id)!, 0);
      const range = `from=${encodeURIComponent(new Date(Date.now() - 2 * 3_600_000).toISOString())}`;
      const [byCustomer, byPoolAndHour, costliest] = (await Promise.all([
        readModel(`/v1/costs?groupBy=customer&customerId=${customerId}&${range}`),
        readModel(`/v1/costs?groupBy=hour,pool&customerId=${customerId}&${range}`),
        readModel(`/v1/costs/executions?customerId=${customerId}&final=true&limit=200`),
      ])) as [{ rows: { totalMicros: number; attempts: number }[] }, { rows: { totalMicros: number }[] }, { items: { executionId: string; costMicros: number }[] }];
      expect(byCustomer.rows).toEqual([expect.objectContaining({ customerId, totalMicros: sum, attempts })]);
      expect(byPoolAndHour.rows.reduce((s, r) => s + r.totalMicros, 0)).toBe(sum);
      expect(Object.fromEntries(costliest.items.map((e) => [e.executionId, e.costMicros]))).toEqual(Object.fromEntries(own.map((id) => [id, expectedTotal.get(id)])));
    }
  }

  it('agrees to the micro-unit with prices computed independently from the task reports, retries and failures included', async () => {
    const customers = [`acme-${randomUUID().slice(0, 6)}`, `globex-${randomUUID().slice(0, 6)}`];
    const customerOf = await submitRun(customers, 6);
    await expectLedgerToAgree(customerOf);

    // Retried attempts count each: some execution was charged for three attempts of one task.
    const retried = [...customerOf.keys()].find((id) => reportsOf(id).some((r) => r.taskId === 'code' && r.attempt === 3));
    expect(retried).toBeDefined();
    // Units reported by a task are priced: the first execution's code_gen attempt reported 1,000 tokens at 2 µ each.
    const first = (await get(`/v1/costs/executions/${[...customerOf.keys()][0]}`)).body.attempts as { taskId: string; unitsMicros: number }[];
    expect(first.find((a) => a.taskId === 'code')?.unitsMicros).toBe(2_000);

    // A customer sees only its own: another's execution is not found, another's totals are forbidden.
    const [mine, theirs] = customers;
    const customerToken = await token({ role: 'customer', customerId: mine });
    const theirExecution = [...customerOf.entries()].find(([, c]) => c === theirs)![0];
    expect((await get(`/v1/costs/executions/${theirExecution}`, customerToken)).status).toBe(404);
    expect((await get(`/v1/costs/customers/${theirs}`, customerToken)).status).toBe(403);
    expect((await get(`/v1/costs/customers/${mine}`, customerToken)).status).toBe(200);
    expect((await get('/v1/costs/pools', customerToken)).status).toBe(403);
    expect((await get('/v1/costs/customers/x?from=yesterday')).body).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('still agrees after the optimizer is SIGKILLed mid-run and restarted', async () => {
    const customerId = `initech-${randomUUID().slice(0, 6)}`;
    // Tasks of 300 ms: when the first attempt is costed no execution can have ended (each has two
    // tasks or more), so the kill lands mid-run.
    const customerOf = await submitRun([customerId], 12, 300);
    await waitFor('a first attempt of the run to be costed', async () => (await get(`/v1/costs/customers/${customerId}`)).status === 200, { intervalMs: 20 });
    // Costed so far, but not final: none of them has ended.
    const answers = await Promise.all([...customerOf.keys()].map((id) => get(`/v1/costs/executions/${id}`)));
    expect(answers.filter((a) => a.status === 200).map((a) => a.body.final)).toContain(false);
    await flotilla.process('optimizer').kill('SIGKILL');
    expect([...customerOf.keys()].filter(ended).length).toBeLessThan(customerOf.size);
    // Reports of the run keep arriving while it is down: restart once a few more have.
    const reportsOfRun = () => [...customerOf.keys()].reduce((n, id) => n + reportsOf(id).length, 0);
    const atKill = reportsOfRun();
    await waitFor('more reports of the run while the optimizer is down', () => reportsOfRun() >= atKill + 3, { timeoutMs: 30_000 });
    await flotilla.process('optimizer').start();
    await expectLedgerToAgree(customerOf);
  });
});

describe('optimizer: an execution cost is final once, even when an attempt never reports', () => {
  const GRACE_MS = 3_000;
  const sheet = JSON.parse(fs.readFileSync(SHEET_FILE, 'utf8')) as Sheet;
  let flotilla: Flotilla<'optimizer'>;
  let driver: EventDriver;
  let costs: TopicTail<Record<string, unknown>>;
  let ops = '';

  beforeAll(async () => {
    ops = await token({ role: 'ops' });
    flotilla = await startFlotilla({ namespacePrefix: 'costfinal', services: ['optimizer'], settings: { optimizer: { EXECUTION_COST_GRACE_MS: String(GRACE_MS) } } });
    driver = new EventDriver(flotilla.namespace);
    await driver.connect();
    costs = await driver.tail('flotilla.costs');
  });
  afterAll(async () => {
    await costs?.stop();
    await driver?.disconnect();
    await flotilla?.stop();
  });

  const get = async (url: string) => {
    const response = await fetch(`${flotilla.url('optimizer')}${url}`, { headers: { authorization: `Bearer ${ops}` } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const finalizedOf = (executionId: string) => [
    ...new Map(costs.events.filter((e) => e.type === 'flotilla.cost.ExecutionCostFinalized' && e.key === executionId).map((e) => [e.eventId, e.payload as unknown as ExecutionCostFinalized])).values(),
  ];
  /** A task report as an agent pool publishes it, and what it costs by the README's rule. */
  const report = (executionId: string, customerId: string, taskId: string) => {
    const payload = { executionId, customerId, taskId, attempt: 1, agentType: 'analysis', workerId: 'w', output: {}, usage: { cpuTimeMs: 7_200, peakRssBytes: 0, wallTimeMs: 1_000 }, completedAt: Date.now() };
    return { event: { topic: 'flotilla.task-events', key: executionId, type: 'flotilla.task.TaskCompleted', payload }, micros: independentCost(sheet, payload) };
  };
  const ending = (type: 'ExecutionCompleted' | 'ExecutionFailed' | 'ExecutionCancelled', executionId: string, customerId: string, started: string[], eventId?: string) => {
    const at = Date.now();
    const own = type === 'ExecutionCompleted' ? { completedAt: at, durationMs: 1 } : type === 'ExecutionFailed' ? { reason: 'r', failedTaskId: null, failedAt: at } : { reason: 'r', cancelledAt: at };
    const startedAttempts = started.map((taskId) => ({ taskId, attempt: 1 }));
    return { topic: 'flotilla.executions', key: executionId, type: `flotilla.execution.${type}`, payload: { executionId, customerId, ...own, startedAttempts }, eventId };
  };

  it('waits out the grace period for an attempt whose worker died, counts it missing, and never finalizes again', async () => {
    const customerId = `c-${randomUUID().slice(0, 8)}`;
    const executionId = `g-${randomUUID()}`;
    const plan = report(executionId, customerId, 'plan');
    await driver.publish([plan.event]);
    await waitFor('the first attempt to be costed', async () => (await get(`/v1/costs/executions/${executionId}`)).status === 200);
    // It ended listing two started attempts; `code` never reports. The same ending is delivered twice.
    const end = ending('ExecutionFailed', executionId, customerId, ['plan', 'code'], randomUUID());
    const endedAt = Date.now();
    await driver.publish([end, end]);
    await waitFor('the cost to be final', () => finalizedOf(executionId).length > 0, { timeoutMs: 30_000 });
    expect(Date.now() - endedAt).toBeGreaterThanOrEqual(GRACE_MS);
    expect(finalizedOf(executionId)[0]).toMatchObject({ executionId, customerId, outcome: 'failed', attempts: 1, missingAttempts: 1, totalMicros: plan.micros, currency: 'USD' });
    expect((await get(`/v1/costs/executions/${executionId}`)).body).toMatchObject({ final: true, missingAttempts: 1, totalMicros: plan.micros });

    // The worker comes back after all: its cost is recorded in the ledger, but what was final stays so.
    const code = report(executionId, customerId, 'code');
    await driver.publish([code.event, ending('ExecutionFailed', executionId, customerId, ['plan', 'code'])]);
    await waitFor('the late attempt to be in the ledger', async () => (await get(`/v1/costs/executions/${executionId}`)).body.totalMicros === plan.micros + code.micros);
    await costs.caughtUp();
    expect(finalizedOf(executionId)).toHaveLength(1);
    expect((await get(`/v1/costs/executions/${executionId}`)).body).toMatchObject({ final: true, missingAttempts: 1 });
  });

  it('finalizes whichever arrives last, the ending or the last cost, and an execution cancelled before it started costs nothing', async () => {
    const customerId = `c-${randomUUID().slice(0, 8)}`;
    const [first, second, queued] = [`f-${randomUUID()}`, `f-${randomUUID()}`, `f-${randomUUID()}`];
    const [firstCost, secondCost] = [report(first, customerId, 'only'), report(second, customerId, 'only')];
    // One ending published before its cost, the other after.
    await driver.publish([ending('ExecutionCompleted', first, customerId, ['only'])]);
    await driver.publish([firstCost.event, secondCost.event]);
    await driver.publish([ending('ExecutionCompleted', second, customerId, ['only']), ending('ExecutionCancelled', queued, customerId, [])]);
    await waitFor('the three costs to be final', () => [first, second, queued].every((id) => finalizedOf(id).length > 0));
    expect(finalizedOf(first)[0]).toMatchObject({ outcome: 'completed', attempts: 1, missingAttempts: 0, totalMicros: firstCost.micros });
    expect(finalizedOf(second)[0]).toMatchObject({ outcome: 'completed', attempts: 1, missingAttempts: 0, totalMicros: secondCost.micros });
    expect(finalizedOf(queued)[0]).toMatchObject({ outcome: 'cancelled', attempts: 0, missingAttempts: 0, totalMicros: 0 });
    expect((await get(`/v1/costs/executions/${queued}`)).body).toMatchObject({ executionId: queued, customerId, totalMicros: 0, attempts: [], final: true });
  });
});
