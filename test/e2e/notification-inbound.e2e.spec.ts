import type { ExecutionAccepted } from '@flotilla/contracts';
import { stack, startFlotilla, waitFor, type Flotilla } from '@flotilla/testing';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { EventDriver, type TopicTail } from './support/event-driver';

/**
 * Webhooks in: a GitHub pull-request webhook (X-Hub-Signature-256) and a Standard-Webhooks-signed
 * sender each start an execution, through the notification service, the orchestrator and the agent
 * pool; a forged request starts nothing, and the same delivery twice starts one.
 */
describe('notification: verified webhooks in start executions', () => {
  let flotilla: Flotilla<'orchestrator' | 'agent-pool' | 'notification'>;
  let driver: EventDriver;
  let executions: TopicTail<Record<string, unknown>>;
  const githubSecret = `gh-${randomBytes(12).toString('hex')}`;
  const repositoryId = 700_000_000 + Math.floor(Math.random() * 1_000_000);
  const senderSecret = `whsec_${randomBytes(32).toString('base64')}`;

  beforeAll(async () => {
    flotilla = await startFlotilla({
      namespacePrefix: 'ntfi',
      services: ['orchestrator', 'agent-pool', 'notification'],
      settings: {
        all: { SYNTHETIC_MIN_DURATION_MS: '5', SYNTHETIC_MAX_DURATION_MS: '20' },
        notification: {
          GITHUB_WEBHOOK_SECRET: githubSecret,
          GITHUB_REPOSITORIES: JSON.stringify({ [String(repositoryId)]: 'acme', 'acme/by-name': 'acme' }),
          INBOUND_SENDERS: JSON.stringify([{ id: 'billing', customerId: 'globex', secrets: [senderSecret] }]),
        },
      },
    });
    driver = new EventDriver(flotilla.namespace);
    executions = await driver.tail('flotilla.executions');
  });
  afterAll(async () => {
    await executions?.stop();
    await flotilla?.stop();
  });

  const pullRequest = (action: string, headSha: string, repo: { id: number; full_name: string } = { id: repositoryId, full_name: 'acme/shop' }) => ({
    action,
    number: 7,
    repository: repo,
    pull_request: { number: 7, title: 'Cache the catalogue', html_url: 'https://github.com/acme/shop/pull/7', head: { sha: headSha } },
    sender: { login: 'octocat' },
  });
  const github = (payload: unknown, { deliveryId = randomUUID(), event = 'pull_request', secret = githubSecret, rawBody }: { deliveryId?: string; event?: string; secret?: string; rawBody?: string } = {}) => {
    const body = rawBody ?? JSON.stringify(payload);
    const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
    return fetch(`${flotilla.url('notification')}/v1/inbound/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': deliveryId, 'x-hub-signature-256': signature },
      body,
    });
  };
  const accepted = () => executions.of<ExecutionAccepted>('flotilla.execution.ExecutionAccepted');
  const reviewsOf = (headSha: string) => accepted().filter((a) => a.kind === 'review' && a.tasks.some((t) => t.input.head_commit === headSha));
  const settled = async () => {
    await flotilla.settled({ services: ['notification', 'orchestrator'] });
    await executions.caughtUp();
  };

  it('starts a review execution from a signed pull-request webhook, and it completes', async () => {
    const head = randomBytes(20).toString('hex');
    const response = await github(pullRequest('opened', head));
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ outcome: 'accepted' });
    const review = await waitFor('the review execution', () => reviewsOf(head)[0], { timeoutMs: 60_000 });
    expect(review.customerId).toBe('acme');
    expect(review.tasks.every((t) => t.input.repository_id === String(repositoryId) && t.input.pull_request_number === '7' && t.input.requested_by === 'octocat')).toBe(true);
    await waitFor('the review to complete', () => executions.of<{ executionId: string }>('flotilla.execution.ExecutionCompleted').some((c) => c.executionId === review.executionId), { timeoutMs: 60_000 });

    // One trace from the webhook's request to the agents' work: the notification service, the orchestrator, the agent pool.
    type JaegerTrace = { traceID: string; processes: Record<string, { serviceName: string }> };
    const services = await waitFor('the review\'s trace across the three services', async () => {
      const tags = encodeURIComponent(JSON.stringify({ 'flotilla.correlation_id': review.executionId }));
      const found = (await (await fetch(`${stack.jaegerUrl}/api/traces?service=agent-pool&tags=${tags}&limit=5&lookback=1h`)).json()) as { data: JaegerTrace[] };
      const names = new Set((found.data ?? []).flatMap((t) => Object.values(t.processes).map((p) => p.serviceName)));
      return ['notification', 'orchestrator', 'agent-pool'].every((n) => names.has(n)) ? names : undefined;
    }, { timeoutMs: 60_000, intervalMs: 1_000 });
    expect([...services]).toEqual(expect.arrayContaining(['notification', 'orchestrator', 'agent-pool']));
  });

  it('answers a forged webhook 401 and starts nothing', async () => {
    const head = randomBytes(20).toString('hex');
    expect((await github(pullRequest('opened', head), { secret: 'not-the-secret' })).status).toBe(401);
    const unsigned = await fetch(`${flotilla.url('notification')}/v1/inbound/github`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': randomUUID() }, body: JSON.stringify(pullRequest('opened', head)) });
    expect(unsigned.status).toBe(401);
    // A body changed after signing: the signature is of other bytes.
    const signedBody = JSON.stringify(pullRequest('opened', head));
    const tampered = await fetch(`${flotilla.url('notification')}/v1/inbound/github`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': `sha256=${createHmac('sha256', githubSecret).update(signedBody).digest('hex')}` },
      body: signedBody.replace('octocat', 'mallory'),
    });
    expect(tampered.status).toBe(401);
    await settled();
    expect(reviewsOf(head)).toEqual([]);
  });

  it('starts one execution for the same delivery twice, and for the same head commit under two deliveries', async () => {
    const head = randomBytes(20).toString('hex');
    const deliveryId = randomUUID();
    expect(await (await github(pullRequest('synchronize', head), { deliveryId })).json()).toEqual({ outcome: 'accepted' });
    expect(await (await github(pullRequest('synchronize', head), { deliveryId })).json()).toEqual({ outcome: 'duplicate' });
    // GitHub's "redeliver" sends a new delivery id: the orchestrator still runs the head commit once.
    expect(await (await github(pullRequest('reopened', head))).json()).toEqual({ outcome: 'accepted' });
    await waitFor('the review', () => reviewsOf(head)[0], { timeoutMs: 60_000 });
    await settled();
    expect(reviewsOf(head)).toHaveLength(1);
  });

  it('acknowledges and ignores what asks for no review, and refuses what is not a pull request', async () => {
    const head = randomBytes(20).toString('hex');
    const closed = await github(pullRequest('closed', head));
    expect(closed.status).toBe(202);
    expect(await closed.json()).toMatchObject({ outcome: 'ignored' });
    expect(await (await github({ zen: 'Keep it logically awesome.' }, { event: 'ping' })).json()).toMatchObject({ outcome: 'ignored' });
    const unmapped = await github(pullRequest('opened', head, { id: 1, full_name: 'someone/else' }));
    expect(unmapped.status).toBe(202);
    expect(await unmapped.json()).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/someone\/else.*not configured/) });
    const invalid = await github({ action: 'opened', repository: { id: repositoryId, full_name: 'acme/shop' }, pull_request: { head: { sha: 'zzz' } } });
    expect(invalid.status).toBe(400);
    const tooLarge = await github(null, { rawBody: JSON.stringify({ action: 'opened', padding: 'x'.repeat(1_100_000) }) });
    expect(tooLarge.status).toBe(413);
    await settled();
    expect(reviewsOf(head)).toEqual([]);
  });

  it('runs an execution a configured sender requests with a Standard Webhooks signature, for its own customer only, once per message id', async () => {
    const signer = new Webhook(senderSecret);
    const send = (msgId: string, body: unknown, sign = signer) => {
      const payload = JSON.stringify(body);
      const now = new Date();
      return fetch(`${flotilla.url('notification')}/v1/inbound/webhooks/billing`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': msgId, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': sign.sign(msgId, now, payload) },
        body: payload,
      });
    };
    const marker = randomUUID();
    const request = { type: 'execution.requested', timestamp: new Date().toISOString(), data: { customerId: 'acme', kind: 'invoice', tasks: [{ taskId: 'draft', agentType: 'code_gen', input: { marker } }] } };
    const msgId = `msg_${randomUUID().replace(/-/g, '')}`;
    expect(await (await send(msgId, request)).json()).toEqual({ outcome: 'accepted' });
    expect(await (await send(msgId, request)).json()).toEqual({ outcome: 'duplicate' });
    const forged = await send(`msg_${randomUUID().replace(/-/g, '')}`, request, new Webhook(`whsec_${randomBytes(32).toString('base64')}`));
    expect(forged.status).toBe(401);
    const unknown = await fetch(`${flotilla.url('notification')}/v1/inbound/webhooks/nobody`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unknown.status).toBe(401);

    const run = await waitFor('the requested execution', () => accepted().find((a) => a.tasks.some((t) => t.input.marker === marker)), { timeoutMs: 60_000 });
    // The body named acme; the sender is globex's, and only that counts.
    expect(run).toMatchObject({ customerId: 'globex', kind: 'invoice' });
    await waitFor('it to complete', () => executions.of<{ executionId: string }>('flotilla.execution.ExecutionCompleted').some((c) => c.executionId === run.executionId), { timeoutMs: 60_000 });
    await settled();
    expect(accepted().filter((a) => a.tasks.some((t) => t.input.marker === marker))).toHaveLength(1);
  });
});
