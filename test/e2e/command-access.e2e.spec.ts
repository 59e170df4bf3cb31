import { startFlotilla, waitFor, type Flotilla } from '@flotilla/testing';
import { randomUUID } from 'node:crypto';
import { token } from './support/tokens';

/**
 * Every command route of the orchestrator and the agent pool, called as nobody, with a bad token, as
 * the wrong customer and as the wrong role: 401 with the reason (and WWW-Authenticate) or 403 naming
 * why, and nothing changes. The same calls by whoever may make them succeed, so the refusals are
 * about access, not about the request.
 */
describe('access to the command APIs', () => {
  let flotilla: Flotilla<'orchestrator' | 'agent-pool'>;
  const acme = `acme-${randomUUID().slice(0, 6)}`;
  const globex = `globex-${randomUUID().slice(0, 6)}`;
  const tokens = { ops: '', acme: '', globex: '', forged: '' };

  const call = (service: 'orchestrator' | 'agent-pool', method: string, path: string, bearer: string | null, body?: unknown) =>
    fetch(`${flotilla.url(service)}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(bearer === null ? {} : { authorization: `Bearer ${bearer}` }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const submission = (customerId: string) => ({ executionId: `${customerId}-${randomUUID().slice(0, 8)}`, customerId, kind: 'custom', tasks: [{ taskId: 'a', agentType: 'code_gen', input: { duration_ms: '5000' } }] });

  beforeAll(async () => {
    [tokens.ops, tokens.acme, tokens.globex, tokens.forged] = await Promise.all([
      token({ role: 'ops', sub: 'access-ops' }),
      token({ role: 'customer', customerId: acme, sub: 'access-acme' }),
      token({ role: 'customer', customerId: globex, sub: 'access-globex' }),
      token({ role: 'ops', sub: 'forger' }, 'a-secret-the-services-do-not-know'),
    ]);
    flotilla = await startFlotilla({ namespacePrefix: 'access', services: ['orchestrator', 'agent-pool'] });
  });
  afterAll(async () => {
    await flotilla?.stop();
  });

  const routes: [string, 'orchestrator' | 'agent-pool', string, string, () => unknown][] = [
    ['POST /v1/executions', 'orchestrator', 'POST', '/v1/executions', () => submission(acme)],
    ['POST /v1/executions/:id/cancel', 'orchestrator', 'POST', '/v1/executions/any-id/cancel', () => ({ reason: 'test' })],
    ['PUT /v1/admission/capacity', 'orchestrator', 'PUT', '/v1/admission/capacity', () => ({ capacity: 3 })],
    ['GET /v1/pools', 'agent-pool', 'GET', '/v1/pools', () => undefined],
    ['GET /v1/pools/:agentType', 'agent-pool', 'GET', '/v1/pools/code_gen', () => undefined],
  ];

  it.each(routes)('%s answers 401 without a token and with a forged one', async (_, service, method, path, body) => {
    for (const bearer of [null, tokens.forged, 'not-a-jwt']) {
      const response = await call(service, method, path, bearer, body());
      expect({ bearer, status: response.status }).toEqual({ bearer, status: 401 });
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token"/);
      expect(((await response.json()) as { message: string }).message).toMatch(/token/);
    }
  });

  it('lets a customer submit only for itself: another customer in the body answers 403, and nothing is accepted', async () => {
    const theirs = submission(globex);
    const refused = await call('orchestrator', 'POST', '/v1/executions', tokens.acme, theirs);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toBe(`a customer token may only act for customer ${acme}, not ${globex}`);
    // Not accepted: cancelling it as ops finds no such execution.
    expect((await call('orchestrator', 'POST', `/v1/executions/${theirs.executionId}/cancel`, tokens.ops, {})).status).toBe(404);
    // Its own submission goes through.
    expect((await call('orchestrator', 'POST', '/v1/executions', tokens.acme, submission(acme))).status).toBe(202);
  });

  it("refuses a customer cancelling another customer's execution with 403, and lets the owner cancel it", async () => {
    const mine = submission(acme);
    expect((await call('orchestrator', 'POST', '/v1/executions', tokens.acme, mine)).status).toBe(202);
    const refused = await call('orchestrator', 'POST', `/v1/executions/${mine.executionId}/cancel`, tokens.globex, { reason: 'not yours' });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { message: string }).message).toMatch(new RegExp(`may only act for customer ${globex}, not ${acme}`));
    // Still cancellable by its owner: the refused call changed nothing.
    await waitFor('the owner to cancel it', async () => {
      const response = await call('orchestrator', 'POST', `/v1/executions/${mine.executionId}/cancel`, tokens.acme, { reason: 'mine to cancel' });
      return response.status === 202 && ((await response.json()) as { status: string }).status === 'cancelled';
    }, { timeoutMs: 30_000 });
  });

  it('keeps operations to role ops: capacity and pools answer 403 to a customer and 200 to ops', async () => {
    const capacity = await call('orchestrator', 'PUT', '/v1/admission/capacity', tokens.acme, { capacity: 1 });
    expect(capacity.status).toBe(403);
    expect(((await capacity.json()) as { message: string }).message).toBe('this route is for role ops; this token has role customer');
    expect((await call('agent-pool', 'GET', '/v1/pools', tokens.acme)).status).toBe(403);
    expect((await call('agent-pool', 'GET', '/v1/pools/code_gen', tokens.globex)).status).toBe(403);

    expect((await call('orchestrator', 'PUT', '/v1/admission/capacity', tokens.ops, { capacity: 7, reason: 'access e2e' })).status).toBe(200);
    expect((await call('agent-pool', 'GET', '/v1/pools', tokens.ops)).status).toBe(200);
  });

  it('keeps health, readiness, metrics and the API documents open', async () => {
    for (const service of ['orchestrator', 'agent-pool'] as const) {
      for (const path of ['/health', '/ready', '/metrics', '/openapi.json']) {
        expect({ service, path, status: (await call(service, 'GET', path, null)).status }).toEqual({ service, path, status: 200 });
      }
    }
  });
});
