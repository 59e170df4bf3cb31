import type { BudgetThresholdCrossed } from '@flotilla/contracts';
import { startFlotilla, testPool, waitFor, type Flotilla } from '@flotilla/testing';
import { randomUUID } from 'node:crypto';
import { EventDriver, type TopicTail } from './support/event-driver';
import { token } from './support/tokens';

/**
 * A customer budget that holds executions when exhausted, across the three services: the agent pool
 * runs tasks that report tokens, the optimizer prices them (code_gen: 2 µ per token) and finds the
 * budget exhausted, and the orchestrator's admission then holds that customer's next execution while
 * another customer's runs; raising the budget lets it in.
 */
describe('budget hold: an exhausted customer budget holds its new executions', () => {
  let flotilla: Flotilla<'orchestrator' | 'agent-pool' | 'optimizer'>;
  let driver: EventDriver;
  let executions: TopicTail<Record<string, unknown>>;
  let budgets: TopicTail<Record<string, unknown>>;
  let ops = '';

  beforeAll(async () => {
    ops = await token({ role: 'ops' });
    flotilla = await startFlotilla({
      namespacePrefix: 'hold',
      services: ['orchestrator', 'agent-pool', 'optimizer'],
      executionSettings: {
        workflows: {},
        defaultRetryPolicy: { initialIntervalMs: 100, backoffCoefficient: 1, maximumIntervalMs: 100, maximumAttempts: 1, nonRetryableErrorKinds: [] },
        defaultTimeouts: { scheduleToStartMs: 60_000, startToCloseMs: 60_000, heartbeatMs: 30_000 },
        admission: { capacity: 20, perCustomerLimit: 20 },
      },
      executors: { default: { type: 'synthetic' } },
      settings: { all: { SYNTHETIC_MIN_DURATION_MS: '20', SYNTHETIC_MAX_DURATION_MS: '40' } },
    });
    driver = new EventDriver(flotilla.namespace);
    await driver.connect();
    [executions, budgets] = await Promise.all([driver.tail('flotilla.executions'), driver.tail('flotilla.budgets')]);
  });
  afterAll(async () => {
    await Promise.all([executions?.stop(), budgets?.stop()]);
    await driver?.disconnect();
    await flotilla?.stop();
  });

  const setBudget = async (budgetId: string, amountMicros: number) => {
    const response = await fetch(`${flotilla.url('optimizer')}/v1/budgets/${budgetId}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ops}` },
      body: JSON.stringify({ period: 'monthly', amountMicros, atExhaustion: 'hold_executions' }),
    });
    expect(response.status).toBe(200);
  };
  const submit = async (customerId: string, tokens: number): Promise<string> => {
    const executionId = `hold-${randomUUID()}`;
    const response = await fetch(`${flotilla.url('orchestrator')}/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ops}` },
      body: JSON.stringify({ executionId, customerId, kind: 'custom', tasks: [{ taskId: 'write', agentType: 'code_gen', input: { tokens: String(tokens) } }] }),
    });
    expect(response.status).toBe(202);
    return executionId;
  };
  const has = (executionId: string, type: string) => executions.events.some((e) => e.key === executionId && e.type === `flotilla.execution.${type}`);

  it('holds the exhausted customer while another runs, and lets it in once the budget is raised', async () => {
    const held = `acme-${randomUUID().slice(0, 6)}`;
    const other = `globex-${randomUUID().slice(0, 6)}`;
    await setBudget(`customer:${held}`, 3_000);

    // Two executions of 1,000 tokens (2,000 µ each, plus a few µ of CPU and memory): the second
    // takes the budget past 100 %.
    for (const id of [await submit(held, 1_000), await submit(held, 1_000)]) await waitFor(`${id} to complete`, () => has(id, 'ExecutionCompleted'), { timeoutMs: 30_000 });
    const exhausted = await waitFor('the budget to be exhausted', () =>
      budgets.of<BudgetThresholdCrossed>('flotilla.budget.BudgetThresholdCrossed').find((c) => c.budgetId === `customer:${held}` && c.threshold === 100),
    );
    expect(exhausted.atExhaustion).toBe('hold_executions');

    // The hold reaches admission through the budget events; the next execution waits in the queue
    // while another customer's is admitted and completes.
    const pool = testPool(1);
    try {
      await waitFor('the orchestrator to hold the customer', async () => (await pool.query(`SELECT 1 FROM ${flotilla.schema('orchestrator')}.customer_budget_holds WHERE customer_id = $1`, [held])).rowCount === 1);
    } finally {
      await pool.end();
    }
    const waiting = await submit(held, 10);
    const running = await submit(other, 10);
    await waitFor(`${running} to complete`, () => has(running, 'ExecutionCompleted'), { timeoutMs: 30_000 });
    await waitFor(`${waiting} to be queued`, () => has(waiting, 'ExecutionQueued'));
    expect(has(waiting, 'ExecutionAdmitted')).toBe(false);

    // Raised with room: the hold is lifted and the held execution runs.
    await setBudget(`customer:${held}`, 1_000_000);
    await waitFor(`${waiting} to complete once the budget is raised`, () => has(waiting, 'ExecutionCompleted'), { timeoutMs: 30_000 });
  });
});
