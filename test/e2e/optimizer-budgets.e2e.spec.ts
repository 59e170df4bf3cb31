import type { AlertRaised, BudgetReservationDenied, BudgetReserved, BudgetThresholdCrossed } from '@flotilla/contracts';
import { readTopic, startFlotilla, waitFor, type Flotilla } from '@flotilla/testing';
import { randomUUID } from 'node:crypto';
import { EventDriver, type TopicTail } from './support/event-driver';
import { token } from './support/tokens';

/**
 * Budgets through the optimizer's public interfaces: set over HTTP, spent by task reports the test
 * publishes as an agent pool would (the usage in each is chosen so that its cost is known exactly),
 * thresholds and alerts read on Kafka, and the reservation protocol driven with commands on
 * flotilla.budget-commands, as the scale saga will. The projection's budget read model must come to
 * the same spend, reservations and crossings from the events alone.
 */
describe('optimizer: budgets and the budget guard', () => {
  let flotilla: Flotilla<'optimizer' | 'projection'>;
  let driver: EventDriver;
  let budgets: TopicTail<Record<string, unknown>>;
  let alerts: TopicTail<AlertRaised>;
  let ops = '';

  beforeAll(async () => {
    ops = await token({ role: 'ops' });
    flotilla = await startFlotilla({ namespacePrefix: 'budget', services: ['optimizer', 'projection'] });
    driver = new EventDriver(flotilla.namespace);
    await driver.connect();
    [budgets, alerts] = await Promise.all([driver.tail('flotilla.budgets'), driver.tail<AlertRaised>('flotilla.alerts')]);
  });
  afterAll(async () => {
    await Promise.all([budgets?.stop(), alerts?.stop()]);
    await driver?.disconnect();
    await flotilla?.stop();
  });

  const http = async (method: string, url: string, body?: unknown, bearer = ops, service: 'optimizer' | 'projection' = 'optimizer') => {
    const response = await fetch(`${flotilla.url(service)}${url}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const readModel = (url: string, bearer = ops) => http('GET', url, undefined, bearer, 'projection');

  /**
   * A report whose cost is exactly `micros` on the default sheet: CPU time only (72 core-ms cost 1 µ
   * at 50,000 µ per core-hour) and no wall time, so that the request and memory charge nothing.
   */
  const costing = (executionId: string, customerId: string, taskId: string, micros: number) => {
    return {
      topic: 'flotilla.task-events',
      key: executionId,
      type: 'flotilla.task.TaskCompleted',
      payload: { executionId, customerId, taskId, attempt: 1, agentType: 'analysis', workerId: 'w', output: {}, usage: { cpuTimeMs: micros * 72, peakRssBytes: 0, wallTimeMs: 0 }, completedAt: Date.now() },
    };
  };

  it('announces 75, 90 and 100 % once each, with one alert each, as the spend arrives', async () => {
    const customerId = `c-${randomUUID().slice(0, 8)}`;
    const budgetId = `customer:${customerId}`;
    const set = await http('PUT', `/v1/budgets/${budgetId}`, { period: 'monthly', amountMicros: 1_000, atExhaustion: 'hold_executions' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ budgetId, amountMicros: 1_000, thresholds: [75, 90, 100], spentMicros: 0, availableMicros: 1_000 });

    // Tasks of one execution, so that they are costed in this order: 700 + 100 crosses 75 %;
    // + 150 crosses 90 %; + 60 crosses 100 %; + 500 crosses nothing new.
    const executionId = `b-${randomUUID()}`;
    for (const [i, micros] of [700, 100, 150, 60, 500].entries()) await driver.publish([costing(executionId, customerId, `t${i}`, micros)]);
    await waitFor('the spend to be counted', async () => (await http('GET', `/v1/budgets/${budgetId}`)).body.spentMicros === 1_510);
    await budgets.caughtUp();
    await alerts.caughtUp();
    const crossings = budgets.of<BudgetThresholdCrossed>('flotilla.budget.BudgetThresholdCrossed').filter((c) => c.budgetId === budgetId);
    expect(crossings.map((c) => [c.threshold, c.spentMicros])).toEqual([[75, 800], [90, 950], [100, 1_010]]);
    expect(crossings.every((c) => c.atExhaustion === 'hold_executions')).toBe(true);
    const raised = alerts.events.filter((a) => a.payload.customerId === customerId).map((a) => [a.payload.kind, a.payload.severity]);
    expect(raised).toEqual([['budget_threshold', 'info'], ['budget_threshold', 'warning'], ['budget_exhausted', 'critical']]);

    const view = (await http('GET', `/v1/budgets/${budgetId}`)).body;
    expect(view).toMatchObject({ spentMicros: 1_510, availableMicros: 0, percentUsed: 151, crossed: [75, 90, 100] });

    // The customer reads its own budget, and not another's; setting budgets is for ops.
    const customer = await token({ role: 'customer', customerId });
    expect((await http('GET', `/v1/budgets/${budgetId}`, undefined, customer)).status).toBe(200);
    expect((await http('GET', '/v1/budgets/customer:someone-else', undefined, customer)).status).toBe(404);
    expect(((await http('GET', '/v1/budgets', undefined, customer)).body.items as unknown[]).length).toBe(1);
    expect((await http('PUT', `/v1/budgets/${budgetId}`, { period: 'monthly', amountMicros: 5 }, customer)).status).toBe(403);

    // The read model: the same spend and crossings from the events, the customer's costs summed, and the same tenancy.
    await waitFor('the read model to count the spend', async () => (await readModel(`/v1/budgets/${budgetId}`)).body.spentMicros === 1_510);
    await waitFor('the read model to see the crossings', async () => ((await readModel(`/v1/budgets/${budgetId}`)).body.crossed as number[]).length === 3);
    expect((await readModel(`/v1/budgets/${budgetId}`)).body).toMatchObject({ scope: 'customer', customerId, amountMicros: 1_000, spentMicros: 1_510, availableMicros: 0, percentUsed: 151, crossed: [75, 90, 100], level: 'exhausted', atExhaustion: 'hold_executions' });
    expect((await readModel(`/v1/costs?groupBy=customer,pool&customerId=${customerId}`)).body).toMatchObject({ totals: [{ attempts: 5, totalMicros: 1_510 }], rows: [{ customerId, agentType: 'analysis', attempts: 5, totalMicros: 1_510 }] });
    expect((await readModel(`/v1/budgets/${budgetId}`, customer)).status).toBe(200);
    expect((await readModel('/v1/budgets/customer:someone-else', customer)).status).toBe(404);
    expect((await readModel('/v1/budgets/pool:analysis', customer)).status).toBe(404);
    expect(((await readModel('/v1/budgets', customer)).body.items as { budgetId: string }[]).map((b) => b.budgetId)).toEqual([budgetId]);
    expect((await readModel('/v1/costs?customerId=someone-else', customer)).status).toBe(403);
    expect((await readModel('/v1/recommendations', customer)).status).toBe(403);
  });

  it('refuses a bad budget with the field named', async () => {
    const bad = await http('PUT', '/v1/budgets/pool:astrology', { period: 'yearly', amountMicros: 1.5, thresholds: [90, 90] });
    expect(bad.status).toBe(400);
    const fields = (bad.body.problems as { field: string }[]).map((p) => p.field);
    expect(fields).toEqual(['budgetId']);
    const body = await http('PUT', '/v1/budgets/pool:code_gen', { period: 'yearly', amountMicros: 1.5, thresholds: [90, 90] });
    expect((body.body.problems as { field: string }[]).map((p) => p.field).sort()).toEqual(['amountMicros', 'period', 'thresholds']);
  });

  it('reserves within the budget, denies past it with what is available, and releases what expires', async () => {
    const budgetId = 'pool:code_gen';
    expect((await http('PUT', `/v1/budgets/${budgetId}`, { period: 'daily', amountMicros: 10_000, atExhaustion: 'deny_scale_ups' })).status).toBe(200);
    const request = (reservationId: string, amountMicros: number, expiresInMs = 60_000) => ({
      topic: 'flotilla.budget-commands',
      key: budgetId,
      type: 'flotilla.budget.BudgetReservationRequested',
      payload: { reservationId, budgetId, amountMicros, expiresAt: Date.now() + expiresInMs, requestedBy: 'e2e', requestedAt: Date.now() },
    });
    const answer = (reservationId: string) =>
      waitFor(`an answer to ${reservationId}`, () => budgets.events.find((e) => (e.payload as { reservationId?: string }).reservationId === reservationId && /BudgetReserved|BudgetReservationDenied/.test(e.type)));

    // Three reservations of 4,000 sent together: only two fit in 10,000, whatever order they are decided in.
    const ids = ['r-a', 'r-b', 'r-c'].map((r) => `${r}-${randomUUID().slice(0, 6)}`);
    await driver.publish(ids.map((id) => request(id, 4_000)));
    const answers = await Promise.all(ids.map(answer));
    expect(answers.filter((a) => a.type === 'flotilla.budget.BudgetReserved')).toHaveLength(2);
    const denied = answers.find((a) => a.type === 'flotilla.budget.BudgetReservationDenied')!.payload as unknown as BudgetReservationDenied;
    expect(denied).toMatchObject({ availableMicros: 2_000, reason: expect.stringMatching(/^4000 µ requested, 2000 µ available in /) });

    // A repeated request is answered once; a commit counts as spend; a release frees the money.
    const [first, second] = answers.filter((a) => a.type === 'flotilla.budget.BudgetReserved').map((a) => (a.payload as unknown as BudgetReserved).reservationId);
    await driver.publish([request(first, 4_000)]);
    await driver.publish([
      { topic: 'flotilla.budget-commands', key: budgetId, type: 'flotilla.budget.BudgetReservationCommitRequested', payload: { reservationId: first, budgetId, requestedAt: Date.now() } },
      { topic: 'flotilla.budget-commands', key: budgetId, type: 'flotilla.budget.BudgetReservationReleaseRequested', payload: { reservationId: second, budgetId, reason: 'provisioning failed', requestedAt: Date.now() } },
    ]);
    await waitFor('the commit and the release', async () => (await http('GET', `/v1/budgets/${budgetId}`)).body.reservedMicros === 0);
    const view = (await http('GET', `/v1/budgets/${budgetId}`)).body;
    expect(view).toMatchObject({ spentMicros: 4_000, reservedMicros: 0, availableMicros: 6_000 });
    await budgets.caughtUp();
    expect(budgets.events.filter((e) => e.type === 'flotilla.budget.BudgetReserved' && (e.payload as { reservationId: string }).reservationId === first)).toHaveLength(1);

    // An unreleased reservation expires by itself and frees its money.
    const expiring = `r-exp-${randomUUID().slice(0, 6)}`;
    await driver.publish([request(expiring, 5_000, 1_500)]);
    expect((await answer(expiring)).type).toBe('flotilla.budget.BudgetReserved');
    expect((await http('GET', `/v1/budgets/${budgetId}`)).body.reservedMicros).toBe(5_000);
    await waitFor('the reservation to expire', () =>
      budgets.events.find((e) => e.type === 'flotilla.budget.BudgetReservationReleased' && (e.payload as { reservationId: string; reason: string }).reservationId === expiring && (e.payload as { reason: string }).reason === 'expired'),
    );
    expect((await http('GET', `/v1/budgets/${budgetId}`)).body).toMatchObject({ reservedMicros: 0, availableMicros: 6_000 });

    // The read model holds the same: the commit spent, the release and the expiry freed.
    await waitFor('the read model to see the expiry', async () => {
      const b = (await readModel(`/v1/budgets/${budgetId}`)).body;
      return b.spentMicros === 4_000 && b.reservedMicros === 0 && b.availableMicros === 6_000;
    });
  });

  it('denies a reservation against a budget nobody set, and dead-letters one that names no budget', async () => {
    const reservationId = `r-none-${randomUUID().slice(0, 6)}`;
    await driver.publish([{ topic: 'flotilla.budget-commands', key: 'pool:summary', type: 'flotilla.budget.BudgetReservationRequested', payload: { reservationId, budgetId: 'pool:summary', amountMicros: 10, expiresAt: Date.now() + 60_000, requestedBy: 'e2e', requestedAt: Date.now() } }]);
    const denial = await waitFor('the denial', () => budgets.of<BudgetReservationDenied>('flotilla.budget.BudgetReservationDenied').find((d) => d.reservationId === reservationId));
    expect(denial).toMatchObject({ reason: 'no budget is defined for pool:summary', availableMicros: 0 });

    await driver.publish([{ topic: 'flotilla.budget-commands', key: 'nonsense', type: 'flotilla.budget.BudgetReservationRequested', payload: { reservationId: 'r-bad', budgetId: 'nonsense', amountMicros: 10, expiresAt: Date.now() + 60_000, requestedBy: 'e2e', requestedAt: Date.now() } }]);
    const dlq = await readTopic(driver.kafka, flotilla.topic('flotilla.optimizer.budget-commands.dlq'), (messages) => messages.length > 0);
    expect(dlq[0].headers?.['dlq-error-message']?.toString()).toMatch(/budgetId: "nonsense" names no budget/);
  });
});
