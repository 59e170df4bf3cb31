import { startFlotilla, testPool, waitFor, type Flotilla } from '@flotilla/testing';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as pause } from 'node:timers/promises';
import { token } from './support/tokens';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows and bodies of many shapes, compared whole
type Row = Record<string, any>;

/**
 * A rebuild of the read models, started by the command while executions keep arriving and queries
 * keep being asked: every query answers, the progress shows the replay per partition, and the tables
 * that end up live are the ones a rebuild from scratch makes. Admission runs two at a time with a
 * 300 ms queue SLA and a fifth of the tasks fail, so alerts, SLA violations and failures are in the
 * tables too.
 */
describe('projection: rebuild beside the live read models', () => {
  // A second projection instance shares the live consumer group and the tables; only one may rebuild at a time.
  let flotilla: Flotilla<'orchestrator' | 'agent-pool' | 'optimizer' | 'projection' | 'second-projection'>;
  let schema = '';
  const pool = testPool(2);
  let ops = '';

  // A price per attempt, so that a few short attempts cost something a budget can be crossed by.
  const priceSheetFile = path.join(os.tmpdir(), `flotilla-rebuild-prices-${randomUUID()}.json`);

  beforeAll(async () => {
    ops = await token({ role: 'ops', sub: 'rebuild-check' });
    fs.writeFileSync(priceSheetFile, JSON.stringify({ currency: 'USD', default: { cpuCoreHourMicros: 50_000, memoryGbHourMicros: 10_000, workerHourMicros: 140_000, perTaskMicros: 100, perUnitMicros: {}, requested: { cpuCores: 0.25, memoryGb: 0.25 } } }));
    flotilla = await startFlotilla({
      namespacePrefix: 'rbd',
      // The optimizer too: its costs and budgets are read models the rebuild must remake the same.
      services: ['orchestrator', 'agent-pool', 'optimizer', 'projection', { service: 'projection', as: 'second-projection' }],
      executionSettings: {
        workflows: {},
        defaultRetryPolicy: { initialIntervalMs: 100, backoffCoefficient: 2, maximumIntervalMs: 500, maximumAttempts: 1, nonRetryableErrorKinds: [] },
        defaultTimeouts: { scheduleToStartMs: 60_000, startToCloseMs: 60_000, heartbeatMs: 30_000 },
        // A third of the executions fail (one attempt, two tasks); five failures in a row would open a
        // customer's circuit and hold its queue for the whole cool-off, so circuits stay closed here.
        admission: { capacity: 2, perCustomerLimit: 2, queueSlaMs: 300, circuitBreaker: { failureThreshold: 1_000 } },
      },
      settings: {
        all: { ADMISSION_CAPACITY: '2', SYNTHETIC_MIN_DURATION_MS: '10', SYNTHETIC_MAX_DURATION_MS: '60', SYNTHETIC_FAILURE_RATE: '0.2', RATE_LIMIT_PER_SECOND: '10000' },
        optimizer: { PRICE_SHEET_FILE: priceSheetFile },
      },
    });
    schema = flotilla.schema('projection');
  });
  afterAll(async () => {
    await flotilla?.stop();
    await pool.end();
    fs.rmSync(priceSheetFile, { force: true });
  });

  const api = (route: string, init: RequestInit = {}, bearer = ops) => fetch(`${flotilla.url('projection')}${route}`, { ...init, headers: { authorization: `Bearer ${bearer}` } });
  const submit = async (batch: string, i: number): Promise<string> => {
    const executionId = `${batch}-${i}-${randomUUID().slice(0, 6)}`;
    const response = await fetch(`${flotilla.url('orchestrator')}/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ops}` },
      body: JSON.stringify({ executionId, customerId: `c-${i % 3}`, kind: 'custom', tasks: [{ taskId: 'a', agentType: 'code_gen' }, { taskId: 'b', agentType: 'review', dependsOn: ['a'] }] }),
    });
    expect(response.status).toBe(202);
    return executionId;
  };
  const allEnded = async (ids: readonly string[]) => {
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${schema}.executions WHERE execution_id = ANY($1) AND status IN ('completed', 'failed')`, [ids]);
    return rows[0].n === ids.length;
  };

  /** Every read-model table, ordered; `updated_at` is the projection's own clock, not the events'. */
  const snapshot = async () => {
    const tables: Record<string, string> = {
      executions: 'execution_id',
      alerts: 'alert_id',
      sla_violations: 'execution_id, sla',
      customer_circuits: 'customer_id',
      admission_capacity: 'id',
      cost_attempts: 'cost_id',
      cost_hourly: 'hour, customer_id, agent_type',
      budgets: 'budget_id',
      budget_reservations: 'reservation_id',
      budget_crossings: 'budget_id, period_key, threshold',
      recommendations: 'recommendation_id',
    };
    const out: Record<string, Row[]> = {};
    for (const [table, order] of Object.entries(tables)) {
      const { rows } = await pool.query(`SELECT * FROM ${schema}.${table} ORDER BY ${order}`);
      out[table] = rows.map(({ updated_at: _ignored, ...row }: Row) => row);
    }
    out.inbox = (await pool.query(`SELECT event_id FROM ${schema}.projection_inbox ORDER BY event_id`)).rows;
    return out;
  };
  /**
   * The tables once nothing is on its way into them. Not two equal snapshots some time apart, which
   * only says that nothing arrived meanwhile: every service has consumed and committed each partition
   * it reads up to its end and relayed its whole outbox (see Flotilla.settled), so every event there
   * is has been applied.
   */
  const settledSnapshot = async () => {
    await flotilla.settled();
    return snapshot();
  };
  const rebuildUntilDone = async (): Promise<Row[]> => {
    const samples: Row[] = [];
    await waitFor('the rebuild to finish', async () => {
      const progress = (await (await api('/v1/admin/rebuild')).json()) as Row;
      samples.push(progress);
      if (progress.state === 'failed') throw new Error(`rebuild failed: ${progress.error}`);
      return progress.state === 'done';
    }, { timeoutMs: 120_000, intervalMs: 100 });
    return samples;
  };

  it('is for operators only', async () => {
    const customer = await token({ role: 'customer', customerId: 'c-1' });
    expect((await api('/v1/admin/rebuild', { method: 'POST' }, customer)).status).toBe(403);
    expect((await fetch(`${flotilla.url('projection')}/v1/admin/rebuild`, { method: 'POST' })).status).toBe(401);
    expect((await api('/v1/admin/rebuild?allowTruncatedHistory=maybe', { method: 'POST' })).status).toBe(400);
  });

  it('builds new tables while the live ones answer, switches, and ends with what a rebuild from scratch makes', async () => {
    // A budget small enough to be crossed: its definition, crossings and spend come from two topics.
    const budget = await fetch(`${flotilla.url('optimizer')}/v1/budgets/customer:c-1`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${ops}` }, body: JSON.stringify({ period: 'daily', amountMicros: 1_000 }) });
    expect(budget.status).toBe(200);
    const first = await Promise.all(Array.from({ length: 30 }, (_, i) => submit('first', i)));
    await waitFor('the first executions to end', () => allEnded(first), { timeoutMs: 120_000, intervalMs: 500 });
    const before = await settledSnapshot();
    expect(before.executions).toHaveLength(30);
    expect(before.sla_violations.length).toBeGreaterThan(0);
    expect(before.alerts.length).toBeGreaterThan(0);
    expect(before.cost_attempts.length).toBeGreaterThanOrEqual(30);
    expect(before.budgets).toHaveLength(1);
    expect(before.budget_crossings.length).toBeGreaterThan(0);
    const budgetBefore = await (await api('/v1/budgets/customer:c-1')).json();

    // Queries go on throughout; every one must answer.
    const answers: number[] = [];
    let querying = true;
    const queries = (async () => {
      const routes = ['/v1/executions?limit=50', '/v1/overview', '/v1/customers', `/v1/executions/${first[0]}`, '/v1/alerts'];
      for (let i = 0; querying; i++) {
        answers.push((await api(routes[i % routes.length])).status);
        await pause(20); // pacing: a steady reader, not a load test (no condition to wait for)
      }
    })();

    const started = await api('/v1/admin/rebuild', { method: 'POST' });
    expect(started.status).toBe(202);
    expect(await started.json()).toMatchObject({ state: 'replaying', eventsApplied: 0 });
    const again = await api('/v1/admin/rebuild', { method: 'POST' });
    expect({ status: again.status, body: await again.json() }).toMatchObject({ status: 409, body: { message: 'a rebuild is already running' } });
    const elsewhere = await fetch(`${flotilla.url('second-projection')}/v1/admin/rebuild`, { method: 'POST', headers: { authorization: `Bearer ${ops}` } });
    expect({ status: elsewhere.status, body: await elsewhere.json() }).toMatchObject({ status: 409, body: { message: 'a rebuild is already running in another projection instance' } });

    // New executions and a capacity change arrive during the rebuild.
    const during: string[] = [];
    const arrivals = (async () => {
      for (let i = 0; i < 20; i++) {
        during.push(await submit('during', i));
        if (i === 10) await fetch(`${flotilla.url('orchestrator')}/v1/admission/capacity`, { method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${ops}` }, body: JSON.stringify({ capacity: 3 }) });
        await pause(50); // pacing: arrivals spread over the rebuild (no condition to wait for)
      }
    })();
    const progress = await rebuildUntilDone();
    await arrivals;
    await waitFor('the executions submitted during the rebuild to end', () => allEnded(during), { timeoutMs: 120_000, intervalMs: 500 });
    querying = false;
    await queries;

    // The progress showed the replay partition by partition, against the end offsets at the start.
    const replaying = progress.find((p) => p.state === 'replaying' && p.partitions.length > 0);
    expect(replaying).toBeDefined();
    expect(replaying!.partitions.every((p: Row) => typeof p.position === 'number' && typeof p.endOffset === 'number')).toBe(true);
    const done = progress[progress.length - 1];
    expect(done.eventsApplied).toBeGreaterThan(0);
    expect(done.partitions.every((p: Row) => p.position >= p.endOffset)).toBe(true);
    expect(answers.length).toBeGreaterThan(10);
    expect(answers.filter((status) => status !== 200)).toEqual([]);

    // The live tables after the switch, and a second rebuild from scratch with nothing arriving.
    const afterSwitch = await settledSnapshot();
    expect(afterSwitch.executions).toHaveLength(50);
    const firstIds = new Set(first);
    expect(afterSwitch.executions.filter((row) => firstIds.has(row.execution_id))).toEqual(before.executions);
    expect(afterSwitch.alerts).toEqual(expect.arrayContaining(before.alerts));
    expect(afterSwitch.sla_violations).toEqual(expect.arrayContaining(before.sla_violations));
    expect(afterSwitch.admission_capacity).toMatchObject([{ capacity: 3 }]);

    expect((await api('/v1/admin/rebuild', { method: 'POST' })).status).toBe(202);
    await rebuildUntilDone();
    const fromScratch = await settledSnapshot();
    expect(fromScratch).toEqual(afterSwitch);
    // The budget's spend, summed when read from the cost rows, is what it was before (plus the executions since).
    const budgetAfter = await (await api('/v1/budgets/customer:c-1')).json();
    expect(budgetAfter.spentMicros).toBeGreaterThanOrEqual(budgetBefore.spentMicros);
    expect(budgetAfter.crossed).toEqual(budgetBefore.crossed);

    // Nothing of the rebuild is left behind but the live tables.
    const { rows } = await pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 ORDER BY nspname`, [`${schema}%`]);
    expect(rows.map((r) => r.nspname)).toEqual([schema]);
  });
});
