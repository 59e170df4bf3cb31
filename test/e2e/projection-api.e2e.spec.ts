import { startFlotilla, waitFor, type Flotilla } from '@flotilla/testing';
import { randomUUID } from 'node:crypto';
import { EventDriver } from './support/event-driver';
import { token } from './support/tokens';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies of many shapes, checked by the assertions
type Body = Record<string, any>;

/**
 * The ops query API on the projection: tokens, tenancy, filters and pagination, cards, overview,
 * alerts and SLA violations, rate limiting, and 400s that name the parameter. Admission runs one
 * execution at a time with a 0.5 s queue SLA, so a few executions produce violations and alerts.
 */
describe('projection query API', () => {
  let flotilla: Flotilla<'orchestrator' | 'agent-pool' | 'projection'>;
  const tokens = { ops: '', acme: '', globex: '' };
  type Change = { kind: string; id: string; customerId: string | null };
  /** Follows /v1/stream, recording each `changes` message; `connected` once the server has subscribed it to changes. */
  const follow = (bearer: string, query = '') => {
    const messages: Change[][] = [];
    const stream = { messages, connected: false, stop: async (): Promise<void> => undefined };
    const controller = new AbortController();
    const done = (async () => {
      const response = await fetch(`${flotilla.url('projection')}/v1/stream?access_token=${bearer}${query}`, { signal: controller.signal });
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          // The server writes its `: connected` comment in the same step as it subscribes the stream.
          if (block.split('\n').some((l) => l.startsWith(': connected'))) stream.connected = true;
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (block.includes('event: changes') && data) messages.push((JSON.parse(data.slice(6)) as { changes: Change[] }).changes);
        }
      }
    })().catch(() => undefined);
    stream.stop = async () => { controller.abort(); await done; };
    return stream;
  };
  let acmeStream: ReturnType<typeof follow>;
  const ids = { acme: [] as string[], globex: [] as string[] };

  const get = async (route: string, bearer: string | null = tokens.ops) => {
    const response = await fetch(`${flotilla.url('projection')}${route}`, bearer === null ? {} : { headers: { authorization: `Bearer ${bearer}` } });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Body };
  };
  const submit = async (customerId: string, fail = false) => {
    const executionId = `${customerId}-${randomUUID().slice(0, 8)}`;
    const response = await fetch(`${flotilla.url('orchestrator')}/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.ops}` },
      body: JSON.stringify({ executionId, customerId, kind: 'custom', deadlineAt: Date.now() + 3 * 86_400_000, tasks: [{ taskId: 'work', agentType: 'code_gen', input: { duration_ms: '300', ...(fail ? { fail: 'always' } : {}) } }] }),
    });
    expect(response.status).toBe(202);
    return executionId;
  };

  beforeAll(async () => {
    tokens.ops = await token({ role: 'ops', sub: 'ops-1' });
    tokens.acme = await token({ role: 'customer', customerId: 'acme', sub: 'acme-user' });
    tokens.globex = await token({ role: 'customer', customerId: 'globex', sub: 'globex-user' });
    flotilla = await startFlotilla({
      namespacePrefix: 'api',
      services: ['orchestrator', 'agent-pool', 'projection'],
      executionSettings: {
        workflows: { review: [{ taskId: 'analysis', agentType: 'analysis', dependsOn: [] }] },
        defaultRetryPolicy: { initialIntervalMs: 100, backoffCoefficient: 2, maximumIntervalMs: 500, maximumAttempts: 1, nonRetryableErrorKinds: [] },
        defaultTimeouts: { scheduleToStartMs: 60_000, startToCloseMs: 60_000, heartbeatMs: 30_000 },
        admission: { capacity: 1, perCustomerLimit: 1, queueSlaMs: 500 },
      },
      executors: { default: { type: 'synthetic' } },
      settings: { all: { ADMISSION_CAPACITY: '1', RATE_LIMIT_PER_SECOND: '25' } },
    });
    acmeStream = follow(tokens.acme);
    await waitFor('the acme stream to be connected', () => acmeStream.connected, { timeoutMs: 15_000 });
    for (let i = 0; i < 3; i++) ids.acme.push(await submit('acme'));
    ids.globex.push(await submit('globex'), await submit('globex', true));
    const all = [...ids.acme, ...ids.globex];
    await waitFor('every execution to finish in the read model', async () => {
      const views = await Promise.all(all.map((id) => get(`/v1/executions/${id}`)));
      return views.every((v) => ['completed', 'failed'].includes(v.body.status));
    }, { timeoutMs: 60_000, intervalMs: 500 });
  });
  afterAll(async () => {
    await acmeStream?.stop();
    await flotilla?.stop();
  });

  it('refuses requests without a valid token with 401 and the reason, and unknown roles with 403', async () => {
    const none = await get('/v1/executions', null);
    expect(none.status).toBe(401);
    expect(none.body.message).toBe('a bearer token is required (Authorization: Bearer <jwt>)');
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
    const forged = await get('/v1/executions', await token({ role: 'ops' }, 'a-different-secret-of-enough-length'));
    expect(forged.status).toBe(401);
    expect(forged.body.message).toMatch(/^invalid token: signature verification failed/);
    const stranger = await get('/v1/executions', await token({ role: 'auditor' }));
    expect(stranger.status).toBe(403);
    expect(stranger.body.message).toBe('role "auditor" has no access; expected ops or customer');
    expect((await fetch(`${flotilla.url('projection')}/health`)).status).toBe(200);
  });

  it('lets a customer see only its own executions: by id, by list, and in cards', async () => {
    const others = await get(`/v1/executions/${ids.globex[0]}`, tokens.acme);
    expect(others.status).toBe(404);
    expect((await get(`/v1/executions/${ids.acme[0]}`, tokens.acme)).body).toMatchObject({ executionId: ids.acme[0], customerId: 'acme', status: 'completed', progressPct: 100 });

    const listed = await get('/v1/executions?limit=200', tokens.acme);
    expect(listed.body.items.map((e: { customerId: string }) => e.customerId)).toEqual(['acme', 'acme', 'acme']);
    const asking = await get('/v1/executions?customerId=globex', tokens.acme);
    expect(asking.status).toBe(403);
    expect(asking.body.message).toBe('a customer token may only read customer acme');

    const cards = await get('/v1/customers', tokens.acme);
    expect(cards.body.items.map((c: { customerId: string }) => c.customerId)).toEqual(['acme']);
    expect((await get('/v1/customers/globex', tokens.acme)).status).toBe(403);
    expect((await get('/v1/overview', tokens.acme)).status).toBe(403);
    const alerts = await get('/v1/alerts?limit=200', tokens.globex);
    expect(alerts.body.items.every((a: { customerId: string }) => a.customerId === 'globex')).toBe(true);
  });

  it('pages through executions with a cursor, every one exactly once, newest first, with filters', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: Body } = await get(`/v1/executions?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((e: { executionId: string }) => e.executionId));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect([...seen].sort()).toEqual([...ids.acme, ...ids.globex].sort());
    expect(new Set(seen).size).toBe(seen.length);

    const failed = await get('/v1/executions?status=failed');
    expect(failed.body.items.map((e: { executionId: string }) => e.executionId)).toEqual([ids.globex[1]]);
    const later = await get(`/v1/executions?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    expect(later.body.items).toEqual([]);
  });

  it('answers customer cards and the system overview from the events', async () => {
    const acme = (await get('/v1/customers/acme')).body;
    expect(acme).toMatchObject({ customerId: 'acme', successRate: 1, counts: { completed: 3, failed: 0, running: 0, queued: 0 }, circuit: 'closed', phase: null });
    expect(acme.health.status).toMatch(/green|yellow/);
    const globex = (await get('/v1/customers/globex')).body;
    expect(globex).toMatchObject({ successRate: 0.5, counts: { completed: 1, failed: 1 } });

    const overview = (await get('/v1/overview')).body;
    expect(overview).toMatchObject({ active: 0, queued: 0, capacity: 1, utilization: 0, customers: 2, successRate: { windowMinutes: 60, completed: 4, failed: 1, rate: 0.8 } });
  });

  it('lists SLA violations and their alerts: with one slot and a 0.5 s SLA, the later executions waited too long', async () => {
    const violations = await waitFor('SLA violations in the read model', async () => {
      const page = await get('/v1/sla-violations');
      return page.body.items.length > 0 ? page.body.items : undefined;
    });
    for (const v of violations) expect(v.actualMs).toBeGreaterThan(v.limitMs);
    const alerts = (await get('/v1/alerts?severity=warning&limit=200')).body.items as { kind: string; executionId: string }[];
    expect(alerts.filter((a) => a.kind === 'sla_violated').map((a) => a.executionId).sort()).toEqual(violations.map((v: { executionId: string }) => v.executionId).sort());
  });

  it('answers bad query parameters with 400 naming each', async () => {
    const bad = await get('/v1/executions?limit=0&status=sleeping&colour=blue');
    expect(bad.status).toBe(400);
    expect(bad.body.problems).toEqual(
      expect.arrayContaining([
        { field: 'limit', problem: 'must be at least 1' },
        { field: 'status', problem: expect.stringMatching(/Invalid enum value/) },
        { field: 'colour', problem: expect.stringMatching(/Unrecognized key/) },
      ]),
    );
    expect((await get('/v1/executions?from=yesterday')).body.message).toBe('from: must be an ISO-8601 date-time');
    expect((await get('/v1/executions?cursor=not-ours')).body).toMatchObject({ statusCode: 400, message: 'cursor: cursor is not one this API issued' });
  });

  it('limits each token: past the rate it answers 429 with Retry-After', async () => {
    const busy = await token({ role: 'ops', sub: 'busy-dashboard' });
    const responses = await Promise.all(Array.from({ length: 60 }, () => fetch(`${flotilla.url('projection')}/v1/overview`, { headers: { authorization: `Bearer ${busy}` } })));
    const limited = responses.filter((r) => r.status === 429);
    expect(responses.filter((r) => r.status === 200).length).toBeLessThanOrEqual(25);
    expect(limited.length).toBeGreaterThanOrEqual(35);
    expect(Number(limited[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another token is not affected.
    expect((await get('/v1/overview')).status).toBe(200);
  });

  it('streams only a customer its own changes, live', async () => {
    const seen = acmeStream.messages.flat();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((c) => c.customerId !== 'acme')).toEqual([]);
    expect(new Set(seen.filter((c) => c.kind === 'execution').map((c) => c.id))).toEqual(new Set(ids.acme));
    const refused = await fetch(`${flotilla.url('projection')}/v1/stream?access_token=${tokens.acme}&customerId=globex`);
    expect(refused.status).toBe(403);
    expect((await fetch(`${flotilla.url('projection')}/v1/stream`)).status).toBe(401);
  });

  it('batches a burst of 600 events into a few messages, each thing named once per message', async () => {
    const ops = follow(tokens.ops, '&kinds=alert');
    await waitFor('the stream to be connected', () => ops.connected, { timeoutMs: 15_000 });
    const driver = new EventDriver(flotilla.namespace);
    await driver.connect();
    const burst = Array.from({ length: 600 }, (_, i) => ({
      topic: 'flotilla.alerts',
      key: 'burst',
      type: 'flotilla.alert.AlertRaised',
      payload: { alertId: `burst-${i}`, severity: 'info', kind: 'test_burst', source: 'e2e', customerId: 'burst', executionId: null, message: `burst ${i}`, raisedAt: Date.now() },
    }));
    await driver.publish(burst);
    await driver.disconnect();
    await waitFor('all 600 alerts on the stream', () => new Set(ops.messages.flat().map((c) => c.id)).size >= 600, { timeoutMs: 30_000 });
    await ops.stop();
    const alertIds = ops.messages.flat().map((c) => c.id);
    expect(new Set(alertIds).size).toBe(600);
    expect(ops.messages.every((m) => new Set(m.map((c) => c.id)).size === m.length)).toBe(true);
    // 600 events in ~ a second or two, at most 4 messages a second: far fewer messages than events.
    expect(ops.messages.length).toBeLessThan(60);
  });

  it('publishes its OpenAPI document and Swagger UI', async () => {
    const document = (await (await fetch(`${flotilla.url('projection')}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(document.openapi).toMatch(/^3\./);
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/v1/executions', '/v1/executions/{id}', '/v1/customers', '/v1/overview', '/v1/alerts', '/v1/sla-violations', '/v1/stream']));
    const ui = await fetch(`${flotilla.url('projection')}/docs`);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/swagger/i);
  });

  it('serves the dashboard page', async () => {
    const page = await fetch(`${flotilla.url('projection')}/dashboard`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toContain('/v1/stream?kinds=customer,overview');
  });
});
