import type { TaskCompleted, TaskFailed } from '@flotilla/contracts';
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
 * cost. Then the optimizer is SIGKILLed mid-run and restarted:
 * the totals must still agree (nothing counted twice, nothing lost).
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
    [taskEvents, executions] = await Promise.all([driver.tail('flotilla.task-events'), driver.tail('flotilla.executions')]);
  });
  afterAll(async () => {
    await Promise.all([taskEvents?.stop(), executions?.stop()]);
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
      // The execution's detail in the query API shows the same cost (the projection reads flotilla.costs).
      await waitFor(`the projection to show the cost of ${id}`, async () => {
        const response = await fetch(`${flotilla.url('projection')}/v1/executions/${id}`, { headers: { authorization: `Bearer ${ops}` } });
        const view = response.ok ? ((await response.json()) as { costMicros: number; costCurrency: string }) : null;
        return view?.costMicros === total && view.costCurrency === 'USD';
      });
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
