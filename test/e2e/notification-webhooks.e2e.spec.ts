import type { AlertRaised, SubscriptionHealthChanged, WebhookAttemptRecorded, WebhookDeliveryDeadLettered, WebhookDeliveryScheduled } from '@flotilla/contracts';
import { startFlotilla, waitFor, type Flotilla } from '@flotilla/testing';
import { randomUUID } from 'node:crypto';
import { EventDriver, type TopicTail } from './support/event-driver';
import { token } from './support/tokens';
import { WebhookReceiver } from './support/webhook-receiver';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies of many shapes, checked by the assertions
type Body = Record<string, any>;

/**
 * Webhooks out, black box: events on the platform's topics, subscriptions over the notification
 * service's API, and a receiver that checks every request with the `standardwebhooks` package.
 * The retry schedule is compressed (0, 300 ms, 600 ms, 900 ms: four attempts) and jittered ±20 %.
 */
describe('notification: signed webhooks out, retried, dead-lettered and replayed', () => {
  let flotilla: Flotilla<'notification'>;
  let driver: EventDriver;
  let news: TopicTail<Record<string, unknown>>;
  let alerts: TopicTail<AlertRaised>;
  const receiver = new WebhookReceiver();
  const tokens: Record<'ops' | 'acme' | 'globex', string> = { ops: '', acme: '', globex: '' };

  beforeAll(async () => {
    tokens.ops = await token({ role: 'ops', sub: 'ops-1' });
    tokens.acme = await token({ role: 'customer', customerId: 'acme', sub: 'acme-1' });
    tokens.globex = await token({ role: 'customer', customerId: 'globex', sub: 'globex-1' });
    await receiver.start();
    flotilla = await startFlotilla({
      namespacePrefix: 'ntf',
      services: ['notification'],
      settings: {
        notification: {
          WEBHOOK_ALLOW_HTTP: 'true',
          WEBHOOK_ALLOW_PRIVATE: 'true',
          WEBHOOK_RETRY_SCHEDULE: '0,300ms,600ms,900ms',
          WEBHOOK_TIMEOUT_MS: '3000',
          // The breaker is the subject of one test only; elsewhere it must not mix into the retries.
          ENDPOINT_FAILURE_THRESHOLD: '1000',
          DELIVERY_POLL_MS: '50',
          DELIVERY_CONCURRENCY: '16',
          DELIVERY_CONCURRENCY_PER_SUBSCRIPTION: '4',
        },
      },
    });
    driver = new EventDriver(flotilla.namespace);
    await driver.connect();
    [news, alerts] = await Promise.all([driver.tail('flotilla.notifications'), driver.tail<AlertRaised>('flotilla.alerts')]);
  });
  afterAll(async () => {
    await Promise.all([news?.stop(), alerts?.stop()]);
    await driver?.disconnect();
    await flotilla?.stop();
    await receiver.stop();
  });

  const http = async (who: keyof typeof tokens, method: string, url: string, body?: unknown) => {
    const response = await fetch(`${flotilla.url('notification')}${url}`, {
      method,
      headers: { authorization: `Bearer ${tokens[who]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as Body };
  };
  /** Subscribes `path` of the receiver and registers it there with its secret. */
  const subscribe = async (who: keyof typeof tokens, path: string, extra: Record<string, unknown> = {}, behaviour?: Parameters<WebhookReceiver['endpoint']>[2]) => {
    const created = await http(who, 'POST', '/v1/subscriptions', { url: receiver.url(path), description: path, ...extra });
    expect(created.status).toBe(201);
    receiver.endpoint(path, [created.body.secret], behaviour);
    return { id: created.body.subscription.subscriptionId as string, secret: created.body.secret as string };
  };
  const publish = (events: { topic: string; type: string; payload: Record<string, unknown> }[]) =>
    driver.publish(events.map((e) => ({ topic: e.topic, key: String(e.payload.executionId ?? e.payload.alertId ?? randomUUID()), type: e.type, payload: e.payload, eventId: randomUUID() })));
  const accepted = (executionId: string, customerId: string, kind: string) => ({
    topic: 'flotilla.executions',
    type: 'flotilla.execution.ExecutionAccepted',
    payload: { executionId, customerId, kind, tasks: [], acceptedAt: Date.now() },
  });
  const completed = (executionId: string, customerId: string) => ({
    topic: 'flotilla.executions',
    type: 'flotilla.execution.ExecutionCompleted',
    payload: { executionId, customerId, completedAt: Date.now(), durationMs: 1_000, startedAttempts: [] },
  });
  const alert = (severity: string, customerId: string | null) => ({
    topic: 'flotilla.alerts',
    type: 'flotilla.alert.AlertRaised',
    payload: { alertId: `a-${randomUUID()}`, severity, kind: 'sla_violated', source: 'test', customerId, executionId: null, message: 'late', raisedAt: Date.now() },
  });
  const attemptsOf = (deliveryId: string) => news.of<WebhookAttemptRecorded>('flotilla.notification.WebhookAttemptRecorded').filter((a) => a.deliveryId === deliveryId).sort((a, b) => a.attempt - b.attempt);
  const scheduledFor = (subscriptionId: string) => news.of<WebhookDeliveryScheduled>('flotilla.notification.WebhookDeliveryScheduled').filter((s) => s.subscriptionId === subscriptionId);

  it('refuses a subscription naming each bad field, and one for another customer', async () => {
    const bad = await http('acme', 'POST', '/v1/subscriptions', { url: 'ftp://user:pw@example.com/x', filter: { eventTypes: ['flotilla.nothing.Here'], severities: ['loud'] } });
    expect(bad.status).toBe(400);
    const fields = (bad.body.problems as { field: string }[]).map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['filter.severities.0']));
    const semantic = await http('acme', 'POST', '/v1/subscriptions', { url: 'ftp://user:pw@example.com/x', filter: { eventTypes: ['flotilla.nothing.Here'] } });
    expect(semantic.status).toBe(400);
    expect((semantic.body.problems as { field: string }[]).map((p) => p.field)).toEqual(expect.arrayContaining(['url', 'filter.eventTypes[0]']));
    const foreign = await http('acme', 'POST', '/v1/subscriptions', { url: receiver.url('/x'), customerId: 'globex' });
    expect(foreign.status).toBe(400);
    expect(foreign.body.problems[0].field).toBe('customerId');
    expect((await fetch(`${flotilla.url('notification')}/v1/subscriptions`)).status).toBe(401);
  });

  it('delivers every subscribed event, verified by an independent Standard Webhooks library, and none unsubscribed', async () => {
    // acme's reviews only; globex's everything; ops: critical alerts of every customer.
    const reviews = await subscribe('acme', '/acme-reviews', { filter: { eventTypes: ['flotilla.execution.*'], executionKinds: ['review'] } });
    const globex = await subscribe('globex', '/globex-all');
    const critical = await subscribe('ops', '/ops-critical', { filter: { eventTypes: ['flotilla.alert.AlertRaised'], severities: ['critical'] } });
    const [review, other, theirs] = [randomUUID(), randomUUID(), randomUUID()];
    const events = [accepted(review, 'acme', 'review'), completed(review, 'acme'), accepted(other, 'acme', 'code'), completed(other, 'acme'), accepted(theirs, 'globex', 'code'), completed(theirs, 'globex'), alert('critical', 'acme'), alert('info', 'globex'), alert('critical', null)];
    await publish(events);

    await waitFor('every expected delivery to arrive', () => receiver.at('/acme-reviews').length >= 2 && receiver.at('/globex-all').length >= 3 && receiver.at('/ops-critical').length >= 2, { timeoutMs: 30_000 });
    await flotilla.settled({ services: ['notification'] });
    await news.caughtUp();
    const got = (path: string) => receiver.at(path).map((r) => ({ type: r.verified?.type, executionId: r.verified?.data.executionId, severity: r.verified?.data.severity, error: r.verifyError }));
    expect(got('/acme-reviews')).toEqual([
      { type: 'flotilla.execution.ExecutionAccepted', executionId: review, severity: undefined, error: null },
      { type: 'flotilla.execution.ExecutionCompleted', executionId: review, severity: undefined, error: null },
    ]);
    expect(got('/globex-all').map((g) => g.type).sort()).toEqual(['flotilla.alert.AlertRaised', 'flotilla.execution.ExecutionAccepted', 'flotilla.execution.ExecutionCompleted']);
    expect(got('/globex-all').every((g) => g.error === null && (g.executionId == null || g.executionId === theirs))).toBe(true);
    expect(got('/ops-critical').map((g) => g.severity)).toEqual(['critical', 'critical']);
    // One delivery each, recorded once, and its webhook-id is the delivery's id.
    for (const sub of [reviews, globex, critical]) {
      const scheduled = scheduledFor(sub.id);
      expect(new Set(scheduled.map((s) => s.eventId)).size).toBe(scheduled.length);
    }
    expect(scheduledFor(reviews.id).map((s) => s.deliveryId).sort()).toEqual(receiver.at('/acme-reviews').map((r) => r.webhookId).sort());
    expect(receiver.received.every((r) => /^msg_[0-9a-f]{32}$/.test(r.webhookId))).toBe(true);
  });

  it('retries a 500 on schedule with jitter, then records one success', async () => {
    const flaky = await subscribe('acme', '/flaky', { filter: { eventTypes: ['flotilla.alert.AlertRaised'] } }, ({ attempt }) => ({ status: attempt === 1 ? 500 : 200 }));
    await publish([alert('warning', 'acme')]);
    await waitFor('the retried delivery to succeed', () => scheduledFor(flaky.id).length === 1 && attemptsOf(scheduledFor(flaky.id)[0].deliveryId).some((a) => a.outcome === 'succeeded'), { timeoutMs: 30_000 });
    const [first, second, ...more] = attemptsOf(scheduledFor(flaky.id)[0].deliveryId);
    expect(more).toEqual([]);
    expect(first).toMatchObject({ attempt: 1, outcome: 'failed', statusCode: 500 });
    // The second entry of the schedule, 300 ms, within ±20 % jitter.
    expect(first.nextAttemptAt! - first.attemptedAt).toBeGreaterThanOrEqual(240);
    expect(first.nextAttemptAt! - first.attemptedAt).toBeLessThanOrEqual(360);
    expect(second).toMatchObject({ attempt: 2, outcome: 'succeeded', statusCode: 200, nextAttemptAt: null });
    expect(second.attemptedAt).toBeGreaterThanOrEqual(first.nextAttemptAt!);
    const sent = receiver.at('/flaky');
    expect(sent).toHaveLength(2);
    expect(sent[0].webhookId).toBe(sent[1].webhookId);
    expect(sent.every((s) => s.verifyError === null)).toBe(true);
  });

  it('dead-letters a delivery after its last attempt; a replay by API delivers it with the same webhook-id', async () => {
    let up = false;
    const down = await subscribe('acme', '/always-failing', { filter: { eventTypes: ['flotilla.alert.AlertRaised'] } }, () => ({ status: up ? 200 : 503 }));
    await publish([alert('warning', 'acme')]);
    const dead = await waitFor('the dead letter', () => news.of<WebhookDeliveryDeadLettered>('flotilla.notification.WebhookDeliveryDeadLettered').find((d) => d.subscriptionId === down.id), { timeoutMs: 30_000 });
    expect(dead.attempts).toBe(4);
    expect(dead.reason).toMatch(/4 attempts.*503/);
    expect(attemptsOf(dead.deliveryId).map((a) => a.outcome)).toEqual(['failed', 'failed', 'failed', 'failed']);
    expect(attemptsOf(dead.deliveryId).at(-1)!.nextAttemptAt).toBeNull();

    // Another customer cannot replay it, nor learn it exists.
    expect((await http('globex', 'POST', `/v1/deliveries/${dead.deliveryId}/replay`)).status).toBe(404);
    up = true;
    const replayed = await http('acme', 'POST', `/v1/deliveries/${dead.deliveryId}/replay`);
    expect(replayed.status).toBe(202);
    expect(replayed.body).toMatchObject({ deliveryId: dead.deliveryId, status: 'pending', attempts: 4 });
    await waitFor('the replayed delivery to succeed', () => attemptsOf(dead.deliveryId).some((a) => a.outcome === 'succeeded'), { timeoutMs: 30_000 });
    expect(attemptsOf(dead.deliveryId).at(-1)).toMatchObject({ attempt: 5, outcome: 'succeeded' });
    expect(new Set(receiver.at('/always-failing').map((r) => r.webhookId))).toEqual(new Set([dead.deliveryId]));
    // A delivery that is not dead-lettered cannot be replayed.
    expect((await http('acme', 'POST', `/v1/deliveries/${dead.deliveryId}/replay`)).status).toBe(409);
  });

  it('does not let an endpoint that hangs delay another subscription\'s deliveries', async () => {
    await subscribe('ops', '/hanging', { customerId: 'initech', filter: { eventTypes: ['flotilla.alert.AlertRaised'] } }, () => 'hang');
    await subscribe('ops', '/healthy', { customerId: 'initech', filter: { eventTypes: ['flotilla.alert.AlertRaised'] } });
    await publish(Array.from({ length: 20 }, () => alert('warning', 'initech')));
    await waitFor('every alert at the healthy endpoint', () => receiver.at('/healthy').length === 20, { timeoutMs: 30_000 });
    // Every one arrived while the hanging endpoint still held its first requests: none of those had ended yet.
    const firstHangingEnd = news
      .of<WebhookAttemptRecorded>('flotilla.notification.WebhookAttemptRecorded')
      .filter((a) => receiver.at('/hanging').some((r) => r.webhookId === a.deliveryId))
      .reduce((min, a) => Math.min(min, a.attemptedAt), Number.POSITIVE_INFINITY);
    expect(Math.max(...receiver.at('/healthy').map((r) => r.receivedAt))).toBeLessThan(firstHangingEnd);
    // And the hanging endpoint never had more requests in flight than its share of the slots.
    expect(receiver.at('/hanging').length).toBeLessThanOrEqual(4);
  });

  it('signs with both secrets during a rotation, so a receiver holding either verifies', async () => {
    const rotating = await subscribe('acme', '/rotating', { filter: { eventTypes: ['flotilla.alert.AlertRaised'] } });
    const rotated = await http('acme', 'POST', `/v1/subscriptions/${rotating.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(rotating.secret);
    expect(rotated.body.subscription.secretsInUse).toBe(2);
    receiver.endpoint('/rotating', [rotated.body.secret]);
    await publish([alert('warning', 'acme')]);
    const got = await waitFor('the delivery after the rotation', () => receiver.at('/rotating')[0], { timeoutMs: 30_000 });
    expect(got.verifyError).toBeNull();
    expect(got.signature.split(' ')).toHaveLength(2);
    receiver.endpoint('/rotating', [rotating.secret]);
    await publish([alert('warning', 'acme')]);
    const second = await waitFor('a second delivery', () => receiver.at('/rotating')[1], { timeoutMs: 30_000 });
    expect(second.verifyError).toBeNull();
  });

  it('disables a subscription whose endpoint answers 410 Gone, with an event and an alert', async () => {
    const gone = await subscribe('acme', '/gone', { filter: { eventTypes: ['flotilla.alert.AlertRaised'] } }, () => ({ status: 410 }));
    await publish([alert('warning', 'acme')]);
    const disabled = await waitFor('the subscription disabled', () => news.of<SubscriptionHealthChanged>('flotilla.notification.SubscriptionHealthChanged').find((h) => h.subscriptionId === gone.id && h.status === 'disabled'), { timeoutMs: 30_000 });
    expect(disabled.reason).toMatch(/410/);
    await waitFor('the alert', () => alerts.events.some((a) => a.payload.kind === 'webhook_endpoint_disabled' && a.payload.message.includes(gone.id)));
    expect((await http('acme', 'GET', `/v1/subscriptions/${gone.id}`)).body.health.status).toBe('disabled');
    // Nothing more is sent to it, and re-enabling it starts it afresh.
    await publish([alert('warning', 'acme')]);
    await flotilla.settled({ services: ['notification'] });
    expect(receiver.at('/gone')).toHaveLength(1);
    const reenabled = await http('acme', 'PATCH', `/v1/subscriptions/${gone.id}`, { enabled: true });
    expect(reenabled.body.health).toMatchObject({ status: 'closed', consecutiveFailures: 0 });
  });

  it('keeps each customer to its own subscriptions', async () => {
    const mine = await subscribe('acme', '/mine');
    expect((await http('globex', 'GET', `/v1/subscriptions/${mine.id}`)).status).toBe(404);
    expect((await http('globex', 'PATCH', `/v1/subscriptions/${mine.id}`, { enabled: false })).status).toBe(404);
    expect((await http('globex', 'DELETE', `/v1/subscriptions/${mine.id}`)).status).toBe(404);
    const listed = (await http('globex', 'GET', '/v1/subscriptions')).body.items as { customerId: string }[];
    expect(listed.every((s) => s.customerId === 'globex')).toBe(true);
    expect((await http('ops', 'GET', `/v1/subscriptions/${mine.id}`)).status).toBe(200);
    expect((await http('acme', 'DELETE', `/v1/subscriptions/${mine.id}`)).status).toBe(204);
    expect((await http('acme', 'GET', `/v1/subscriptions/${mine.id}`)).status).toBe(404);
  });
});

/**
 * The endpoint's circuit: a dead endpoint is not hammered (after the threshold its deliveries wait
 * for one probe at a time), and one failing for longer than allowed is disabled with an event and
 * an alert, its waiting deliveries dead-lettered. Settings compressed: 3 failures open the circuit,
 * a probe every 400 ms, disabled after 2 s of failing.
 */
describe('notification: the circuit of an endpoint that keeps failing', () => {
  let flotilla: Flotilla<'notification'>;
  let driver: EventDriver;
  let news: TopicTail<Record<string, unknown>>;
  let alerts: TopicTail<AlertRaised>;
  const receiver = new WebhookReceiver();

  beforeAll(async () => {
    await receiver.start();
    flotilla = await startFlotilla({
      namespacePrefix: 'ntfc',
      services: ['notification'],
      settings: {
        notification: {
          WEBHOOK_ALLOW_HTTP: 'true',
          WEBHOOK_ALLOW_PRIVATE: 'true',
          WEBHOOK_RETRY_SCHEDULE: '0,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms',
          ENDPOINT_FAILURE_THRESHOLD: '3',
          ENDPOINT_OPEN_MS: '400',
          ENDPOINT_DISABLE_AFTER_MS: '2000',
          DELIVERY_POLL_MS: '50',
        },
      },
    });
    driver = new EventDriver(flotilla.namespace);
    await driver.connect();
    [news, alerts] = await Promise.all([driver.tail('flotilla.notifications'), driver.tail<AlertRaised>('flotilla.alerts')]);
  });
  afterAll(async () => {
    await Promise.all([news?.stop(), alerts?.stop()]);
    await driver?.disconnect();
    await flotilla?.stop();
    await receiver.stop();
  });

  it('opens, probes, and disables the endpoint after failing too long, while another subscription gets everything', async () => {
    const ops = await token({ role: 'ops', sub: 'ops-1' });
    const subscribe = async (path: string, behaviour: Parameters<WebhookReceiver['endpoint']>[2]) => {
      const created = await fetch(`${flotilla.url('notification')}/v1/subscriptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ops}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: receiver.url(path), customerId: 'acme', filter: { eventTypes: ['flotilla.alert.AlertRaised'] } }),
      });
      const body = (await created.json()) as { secret: string; subscription: { subscriptionId: string } };
      receiver.endpoint(path, [body.secret], behaviour);
      return body.subscription.subscriptionId;
    };
    const dead = await subscribe('/dead', () => ({ status: 503 }));
    await subscribe('/alive', () => ({ status: 204 }));
    const events = 30;
    const alertIds = Array.from({ length: events }, () => `a-${randomUUID()}`);
    await driver.publish(
      alertIds.map((alertId) => {
        return { topic: 'flotilla.alerts', key: alertId, type: 'flotilla.alert.AlertRaised', payload: { alertId, severity: 'warning', kind: 'sla_violated', source: 'test', customerId: 'acme', executionId: null, message: 'late', raisedAt: Date.now() } };
      }),
    );

    const health = () => news.of<SubscriptionHealthChanged>('flotilla.notification.SubscriptionHealthChanged').filter((h) => h.subscriptionId === dead);
    const disabled = await waitFor('the dead endpoint disabled', () => health().find((h) => h.status === 'disabled'), { timeoutMs: 60_000 });
    expect(disabled.reason).toMatch(/no success for/);
    // It opened first, and probed half-open before it gave up.
    expect(health().map((h) => h.status)).toEqual(expect.arrayContaining(['open', 'half_open', 'disabled']));
    await waitFor('the alert', () => alerts.events.some((a) => a.payload.kind === 'webhook_endpoint_disabled' && a.payload.message.includes(dead)));
    // (The live endpoint also hears of the other one's disabling: that alert is acme's too.)
    const alive = () => new Set(receiver.at('/alive').map((r) => String(r.verified?.data.alertId)));
    await waitFor('every alert at the live endpoint', () => alertIds.every((id) => alive().has(id)), { timeoutMs: 30_000 });
    await waitFor('the disabling alert at the live endpoint', () => receiver.at('/alive').some((r) => r.verified?.data.kind === 'webhook_endpoint_disabled'), { timeoutMs: 30_000 });
    await flotilla.settled({ services: ['notification'] });
    await news.caughtUp();

    // Not hammered: each of the 30 deliveries had 10 attempts to spend; the circuit held them back.
    const sentToDead = receiver.at('/dead').length;
    expect(sentToDead).toBeLessThan(events);
    // Every delivery to it ended in the dead letters, none lost, none pending.
    const dead_lettered = news.of<WebhookDeliveryDeadLettered>('flotilla.notification.WebhookDeliveryDeadLettered').filter((d) => d.subscriptionId === dead);
    expect(new Set(dead_lettered.map((d) => d.deliveryId)).size).toBe(events);
    process.stdout.write(`notification circuit: ${sentToDead} requests to a dead endpoint for ${events} deliveries of up to 10 attempts each\n`);
  });
});
