import type { PoolMetricsReported, RecommendationIssued } from '@flotilla/contracts';
import { startFlotilla, waitFor, type Flotilla } from '@flotilla/testing';
import { randomUUID } from 'node:crypto';
import { EventDriver, type TopicTail } from './support/event-driver';
import { token } from './support/tokens';

/**
 * A pool kept at low utilization: 8 workers of one slot reporting metrics every 200 ms while a few
 * short tasks run. The optimizer, recomputing over a one-minute window, recommends fewer workers with
 * the saving at the price sheet's worker-hour; a dismissed recommendation stays dismissed. The
 * projection's read model lists it, then its dismissal, for ops only.
 */
describe('optimizer: recommendations from pool metrics', () => {
  let flotilla: Flotilla<'orchestrator' | 'agent-pool' | 'optimizer' | 'projection'>;
  let driver: EventDriver;
  let recommendations: TopicTail<RecommendationIssued>;
  let metrics: TopicTail<PoolMetricsReported>;
  let ops = '';

  beforeAll(async () => {
    ops = await token({ role: 'ops' });
    flotilla = await startFlotilla({
      namespacePrefix: 'reco',
      services: ['orchestrator', 'agent-pool', 'optimizer', 'projection'],
      executors: { default: { type: 'synthetic' } },
      settings: {
        'agent-pool': { AGENT_TYPES: 'code_gen', POOL_CONCURRENCY: '8', POOL_SLOTS_PER_WORKER: '1', POOL_METRICS_INTERVAL_MS: '200' },
        optimizer: { RECOMMENDATION_INTERVAL_MS: '60000', RECOMMENDATION_WINDOW_MS: '60000', RECOMMENDATION_MIN_SAMPLES: '5' },
      },
    });
    driver = new EventDriver(flotilla.namespace);
    await driver.connect();
    [recommendations, metrics] = await Promise.all([driver.tail<RecommendationIssued>('flotilla.recommendations'), driver.tail<PoolMetricsReported>('flotilla.pool-metrics')]);
  });
  afterAll(async () => {
    await Promise.all([recommendations?.stop(), metrics?.stop()]);
    await driver?.disconnect();
    await flotilla?.stop();
  });

  const post = async (url: string, body?: unknown, bearer = ops) => {
    const response = await fetch(`${flotilla.url('optimizer')}${url}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const readModel = async (url: string, bearer = ops) => {
    const response = await fetch(`${flotilla.url('projection')}${url}`, { headers: { authorization: `Bearer ${bearer}` } });
    return { status: response.status, body: (await response.json()) as { items: (Item & { dismissed: { by: string; reason: string } | null })[] } };
  };
  type Item = { recommendationId: string; kind: string; status: string; currentWorkers: number; recommendedWorkers: number; estimatedMonthlySavingMicros: number; evidence: Record<string, string> };

  it('recommends fewer workers for an over-provisioned pool, with the saving, and remembers a dismissal', async () => {
    // A little work, so that the pool is busy some of the time but far below 30 %.
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${flotilla.url('orchestrator')}/v1/executions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ops}` },
        body: JSON.stringify({ executionId: `reco-${randomUUID()}`, customerId: 'acme', kind: 'custom', tasks: [{ taskId: 'w', agentType: 'code_gen', input: { duration_ms: '300' } }] }),
      });
      expect(response.status).toBe(202);
    }

    const found = await waitFor('an over-provisioning recommendation for code_gen', async () => {
      const items = (await post('/v1/recommendations/refresh')).body.items as Item[];
      return items.find((r) => r.recommendationId === 'over_provisioned:code_gen');
    }, { timeoutMs: 30_000, intervalMs: 500 });
    expect(found).toMatchObject({ kind: 'over_provisioned', status: 'open', currentWorkers: 8 });
    expect(found.recommendedWorkers).toBeLessThan(8);
    expect(found.recommendedWorkers).toBeGreaterThanOrEqual(1);
    // The default sheet's worker-hour (140,000 µ) for the 730 hours of a month, per worker given back.
    expect(found.estimatedMonthlySavingMicros).toBe((8 - found.recommendedWorkers) * 140_000 * 730);
    expect(Number(found.evidence.utilizationPercent)).toBeGreaterThan(0);
    expect(Number(found.evidence.utilizationPercent)).toBeLessThan(30);
    await waitFor('the recommendation on Kafka', () => recommendations.of('flotilla.optimizer.RecommendationIssued').some((r) => r.recommendationId === 'over_provisioned:code_gen'));

    // The same reports give the pool's provisioned cost (8 workers' time at the worker-hour price),
    // and its idle cost is what its attempts were not charged of it.
    const costs = await fetch(`${flotilla.url('optimizer')}/v1/costs/pools`, { headers: { authorization: `Bearer ${ops}` } });
    const pool = ((await costs.json()) as { pools: { agentType: string; totalMicros: number; provisionedMicros: number; idleMicros: number }[] }).pools.find((p) => p.agentType === 'code_gen')!;
    expect(pool.provisionedMicros).toBeGreaterThan(0);
    expect(pool.idleMicros).toBe(Math.max(0, pool.provisionedMicros - pool.totalMicros));
    expect(pool.idleMicros).toBeGreaterThan(0);

    // Ops only; dismissed with a reason, it stays dismissed through later recomputations.
    const customer = await token({ role: 'customer', customerId: 'acme' });
    expect((await post('/v1/recommendations/over_provisioned:code_gen/dismiss', { reason: 'x' }, customer)).status).toBe(403);
    const dismissed = await post('/v1/recommendations/over_provisioned:code_gen/dismiss', { reason: 'a launch next week needs the headroom' });
    expect(dismissed.status).toBe(200);
    expect(dismissed.body).toMatchObject({ status: 'dismissed', dismissedReason: 'a launch next week needs the headroom' });
    await recommendations.caughtUp();
    const issuedBefore = recommendations.of('flotilla.optimizer.RecommendationIssued').length;
    // Later evidence: five more reports of the pool, which may change the advice.
    const reportsSoFar = metrics.of('flotilla.pool.PoolMetricsReported').length;
    await waitFor('five more metrics reports', () => metrics.of('flotilla.pool.PoolMetricsReported').length >= reportsSoFar + 5);
    const after = (await post('/v1/recommendations/refresh')).body.items as Item[];
    expect(after.find((r) => r.recommendationId === 'over_provisioned:code_gen')?.status).toBe('dismissed');
    await recommendations.caughtUp();
    expect(recommendations.of('flotilla.optimizer.RecommendationIssued').length).toBe(issuedBefore);
    expect((await post('/v1/recommendations/nothing:here/dismiss', { reason: 'x' })).status).toBe(404);

    // The read model: the recommendation as last issued, then dismissed with who and why; for ops only.
    const inReadModel = await waitFor('the dismissal in the read model', async () =>
      (await readModel('/v1/recommendations?status=dismissed&agentType=code_gen')).body.items.find((r) => r.recommendationId === 'over_provisioned:code_gen'),
    );
    const lastIssued = recommendations.of('flotilla.optimizer.RecommendationIssued').filter((r) => r.recommendationId === 'over_provisioned:code_gen').at(-1)!;
    expect(inReadModel).toMatchObject({ kind: 'over_provisioned', status: 'dismissed', recommendedWorkers: lastIssued.recommendedWorkers, estimatedMonthlySavingMicros: lastIssued.estimatedMonthlySavingMicros, dismissed: { reason: 'a launch next week needs the headroom' } });
    expect((await readModel('/v1/recommendations?status=open')).body.items.map((r) => r.recommendationId)).not.toContain('over_provisioned:code_gen');
    expect((await readModel('/v1/recommendations', customer)).status).toBe(403);
  });
});
