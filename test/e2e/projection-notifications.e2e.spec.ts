import type { EventPayloads, SubscriptionHealthChanged, WebhookAttemptRecorded } from '@flotilla/contracts';
/// <reference lib="dom" />
import { startFlotilla, testPool, waitFor, type Flotilla } from '@flotilla/testing';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { EventDriver } from './support/event-driver';
import { token } from './support/tokens';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies and rows of many shapes, checked by the assertions
type Body = Record<string, any>;

const ROOT = path.resolve(__dirname, '../..');

type Tail<T> = T extends `flotilla.notification.${infer Name}` ? Name : never;
/** SubscriptionCreated, WebhookAttemptRecorded, …: the notification service's events by name. */
type NotificationType = Tail<keyof EventPayloads>;

/**
 * Where `value` departs from an OpenAPI 3.0 schema of the kinds the query API writes (no $ref): type,
 * nullable, enum, required, properties (and none left undocumented), items, minimum, maximum, date-time.
 * The fuzz checks the bodies of a projection with no notification in it; this checks them full.
 */
function departures(schema: Body, value: unknown, at = '$'): string[] {
  if (value === null) return schema.nullable ? [] : [`${at}: null but not nullable`];
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`];
  const bounds = (n: number) => [...(schema.minimum !== undefined && n < schema.minimum ? [`${at}: ${n} < ${schema.minimum}`] : []), ...(schema.maximum !== undefined && n > schema.maximum ? [`${at}: ${n} > ${schema.maximum}`] : [])];
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [`${at}: not an object`];
      const properties: Record<string, Body> = schema.properties ?? {};
      const fields = value as Record<string, unknown>;
      return [
        ...(schema.required ?? []).filter((k: string) => !(k in fields)).map((k: string) => `${at}.${k}: missing`),
        ...(schema.additionalProperties ? [] : Object.keys(fields).filter((k) => !(k in properties)).map((k) => `${at}.${k}: not documented`)),
        ...Object.entries(fields).flatMap(([k, v]) => (k in properties ? departures(properties[k], v, `${at}.${k}`) : [])),
      ];
    }
    case 'array':
      return Array.isArray(value) ? value.flatMap((item, i) => departures(schema.items ?? {}, item, `${at}[${i}]`)) : [`${at}: not an array`];
    case 'string':
      if (typeof value !== 'string') return [`${at}: not a string`];
      return schema.format === 'date-time' && new Date(value).toISOString() !== value ? [`${at}: ${value} is not a date-time`] : [];
    case 'integer':
      return Number.isInteger(value) ? bounds(value as number) : [`${at}: ${JSON.stringify(value)} is not an integer`];
    case 'number':
      return typeof value === 'number' ? bounds(value) : [`${at}: not a number`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: not a boolean`];
    default:
      return [];
  }
}

/**
 * The notification read side through its public interfaces: the events the notification service
 * publishes (subscriptions created, rotated, deleted; endpoints going open and disabled; deliveries
 * scheduled, attempted, retried, dead-lettered and replayed; one attempt reported twice) go straight
 * to flotilla.notifications, and each route must answer what they say: the subscriptions with their
 * health, counts and success rate, the deliveries newest first page by page and filtered, each with
 * its attempts. A customer token sees its own customer's only (another's, and an ops subscription's,
 * are 404 and left out of lists, even a delivery of an ops subscription about the customer's own
 * event); the live stream announces `notification` changes to whom they concern; the dashboard's
 * Notifications view shows the failing endpoints first and follows a new delivery live
 * (test-results/dashboard-notifications.png); and a rebuild from the topic makes the same tables.
 */
describe('projection: notification read models', () => {
  let flotilla: Flotilla<'projection'>;
  let driver: EventDriver;
  const database = testPool(1);
  const tokens = { ops: '', acme: '', globex: '' };
  // Two hours ago, on a whole second: the events' own times, so every time in an answer is known exactly.
  const base = Math.floor(Date.now() / 1000) * 1000 - 2 * 3_600_000;
  const at = (second: number) => base + second * 1000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const run = randomUUID().slice(0, 8);
  const subA = `sub-acme-${run}`;
  const subOld = `sub-acme-old-${run}`;
  const subB = `sub-globex-${run}`;
  const subOps = `sub-ops-${run}`;
  const msg = (name: string) => `msg_${name}_${run}`;
  const owner: Record<string, string | null> = { [subA]: 'acme', [subOld]: 'acme', [subB]: 'globex', [subOps]: null };

  const get = async (route: string, bearer: string | null = tokens.ops) => {
    const response = await fetch(`${flotilla.url('projection')}${route}`, bearer === null ? {} : { headers: { authorization: `Bearer ${bearer}` } });
    return { status: response.status, body: (await response.json()) as Body };
  };
  const ok = async (route: string, bearer: string = tokens.ops) => {
    const { status, body } = await get(route, bearer);
    expect({ route, status }).toEqual({ route, status: 200 });
    return body;
  };
  const ids = async (route: string, bearer: string = tokens.ops, key = route.includes('/deliveries') ? 'deliveryId' : 'subscriptionId') =>
    ((await ok(route, bearer)).items as Body[]).map((item) => item[key]);

  type Published = { topic: string; key: string; type: string; payload: unknown; eventId?: string };
  const event = <N extends NotificationType>(type: N, payload: EventPayloads[`flotilla.notification.${N}`], eventId?: string): Published => ({
    topic: 'flotilla.notifications',
    key: (payload as { subscriptionId: string }).subscriptionId,
    type: `flotilla.notification.${type}`,
    payload,
    eventId,
  });
  const created = (subscriptionId: string, second: number, url: string): Published =>
    event('SubscriptionCreated', {
      subscriptionId,
      customerId: owner[subscriptionId],
      url,
      description: `${url.split('/')[2]} hooks`,
      filter: { eventTypes: ['flotilla.execution.*'], severities: [], executionKinds: [] },
      enabled: true,
      createdBy: 'admin',
      createdAt: at(second),
    });
  const scheduled = (subscriptionId: string, deliveryId: string, second: number, eventType = 'flotilla.execution.ExecutionCompleted', customerId = owner[subscriptionId]): Published =>
    event('WebhookDeliveryScheduled', { deliveryId, subscriptionId, customerId, eventId: `e-${deliveryId}`, eventType, scheduledAt: at(second) });
  // As the notification service records them: an answered failure's error is `answered <status>`.
  const attempted = (subscriptionId: string, deliveryId: string, attempt: number, second: number, answer: Partial<WebhookAttemptRecorded>, eventId?: string): Published =>
    event(
      'WebhookAttemptRecorded',
      {
        deliveryId,
        subscriptionId,
        customerId: owner[subscriptionId],
        eventId: `e-${deliveryId}`,
        eventType: 'flotilla.execution.ExecutionCompleted',
        attempt,
        outcome: 'succeeded',
        statusCode: 200,
        error: null,
        latencyMs: 100,
        attemptedAt: at(second),
        nextAttemptAt: null,
        ...answer,
        ...(answer.outcome && answer.outcome !== 'succeeded' && answer.statusCode ? { error: `answered ${answer.statusCode}` } : {}),
      },
      eventId,
    );
  const deadLettered = (subscriptionId: string, deliveryId: string, attempts: number, second: number, reason: string): Published =>
    event('WebhookDeliveryDeadLettered', {
      deliveryId,
      subscriptionId,
      customerId: owner[subscriptionId],
      eventId: `e-${deliveryId}`,
      eventType: 'flotilla.execution.ExecutionCompleted',
      attempts,
      reason,
      deadLetteredAt: at(second),
    });
  const health = (subscriptionId: string, status: SubscriptionHealthChanged['status'], consecutiveFailures: number, failingSince: number | null, second: number, reason: string): Published =>
    event('SubscriptionHealthChanged', { subscriptionId, customerId: owner[subscriptionId], status, consecutiveFailures, failingSince, reason, changedAt: at(second) });

  beforeAll(async () => {
    tokens.ops = await token({ role: 'ops', sub: 'ops-1' });
    tokens.acme = await token({ role: 'customer', customerId: 'acme', sub: 'acme-user' });
    tokens.globex = await token({ role: 'customer', customerId: 'globex', sub: 'globex-user' });
    flotilla = await startFlotilla({ namespacePrefix: 'ntf', services: ['projection'], settings: { all: { RATE_LIMIT_PER_SECOND: '10000' } } });
    driver = new EventDriver(flotilla.namespace);
    await driver.connect();
    const twice = randomUUID();
    await driver.publish([
      // acme's endpoint: a delivery at once, one after a retry, one dead-lettered, replayed and then delivered, one pending.
      created(subA, 0, 'https://hooks.acme.example/flotilla'),
      event('SubscriptionSecretRotated', { subscriptionId: subA, customerId: 'acme', rotatedBy: 'acme-admin', rotatedAt: at(30), previousSecretExpiresAt: at(30 + 86_400) }),
      scheduled(subA, msg('a1'), 100),
      attempted(subA, msg('a1'), 1, 101, { latencyMs: 120 }, twice),
      // The same attempt again, as another event: it counts once.
      attempted(subA, msg('a1'), 1, 101, { latencyMs: 120 }),
      scheduled(subA, msg('a2'), 200),
      attempted(subA, msg('a2'), 1, 201, { outcome: 'failed', statusCode: 503, latencyMs: 90, nextAttemptAt: at(206) }),
      attempted(subA, msg('a2'), 2, 206, { latencyMs: 80 }),
      scheduled(subA, msg('a3'), 300),
      attempted(subA, msg('a3'), 1, 301, { outcome: 'failed', statusCode: null, error: 'timeout after 15000 ms', latencyMs: 15_000, nextAttemptAt: at(306) }),
      attempted(subA, msg('a3'), 2, 306, { outcome: 'failed', statusCode: 500, latencyMs: 70 }),
      deadLettered(subA, msg('a3'), 2, 307, 'no attempt left'),
      event('WebhookDeliveryReplayed', { deliveryId: msg('a3'), subscriptionId: subA, customerId: 'acme', replayedBy: 'acme-admin', replayedAt: at(400) }),
      // Attempt numbers go on across a replay, as the service counts them.
      attempted(subA, msg('a3'), 3, 401, { latencyMs: 60 }),
      scheduled(subA, msg('a4'), 800),
      // An endpoint of acme's, deleted.
      created(subOld, 40, 'https://old.acme.example/hook'),
      event('SubscriptionDeleted', { subscriptionId: subOld, customerId: 'acme', deletedBy: 'acme-admin', deletedAt: at(50) }),
      // globex's endpoint fails, its circuit opens, then it answers 410 Gone and is disabled.
      created(subB, 10, 'https://hooks.globex.example/in'),
      event('SubscriptionUpdated', {
        subscriptionId: subB,
        customerId: 'globex',
        url: 'https://hooks.globex.example/in',
        description: 'globex: failed executions',
        filter: { eventTypes: ['flotilla.execution.ExecutionFailed'], severities: [], executionKinds: [] },
        enabled: true,
        updatedBy: 'globex-admin',
        updatedAt: at(15),
      }),
      scheduled(subB, msg('b1'), 500),
      attempted(subB, msg('b1'), 1, 501, { outcome: 'failed', statusCode: 500, latencyMs: 30, nextAttemptAt: at(506) }),
      attempted(subB, msg('b1'), 2, 506, { outcome: 'failed', statusCode: null, error: 'connection reset', latencyMs: 31, nextAttemptAt: at(566) }),
      health(subB, 'open', 2, at(501), 506, '2 failures in a row'),
      scheduled(subB, msg('b2'), 600),
      attempted(subB, msg('b2'), 1, 601, { outcome: 'gone', statusCode: 410, latencyMs: 25 }),
      // The service says 0 consecutive failures of a disabled endpoint: it is no longer counting.
      health(subB, 'disabled', 0, at(501), 601, 'the endpoint answered 410 Gone'),
      deadLettered(subB, msg('b2'), 1, 601, 'subscription disabled'),
      deadLettered(subB, msg('b1'), 2, 601, 'subscription disabled'),
      // An ops subscription (every customer's events): its delivery of an acme alert stays ops' own.
      created(subOps, 20, 'https://ops.flotilla.example/alerts'),
      scheduled(subOps, msg('o1'), 700, 'flotilla.alert.AlertRaised', 'acme'),
      attempted(subOps, msg('o1'), 1, 701, { outcome: 'failed', statusCode: 502, latencyMs: 45, nextAttemptAt: at(761), customerId: 'acme', eventType: 'flotilla.alert.AlertRaised' }),
      health(subOps, 'open', 1, at(701), 702, 'probe failed'),
    ]);
    await waitFor('every event applied', async () => (await get(`/v1/notifications/deliveries/${msg('a4')}`)).status === 200 && (await get(`/v1/notifications/subscriptions/${subOps}`)).body.health?.status === 'open');
    await flotilla.settled();
  });
  afterAll(async () => {
    await driver?.disconnect();
    await flotilla?.stop();
    await database.end();
  });

  it('lists the subscriptions with their health, counts and success rate, filtered by health and customer', async () => {
    expect(await ids('/v1/notifications/subscriptions')).toEqual([subA, subB, subOps]);
    expect(await ids('/v1/notifications/subscriptions?includeDeleted=true')).toEqual([subA, subOld, subB, subOps]);
    expect(await ids('/v1/notifications/subscriptions?status=failing')).toEqual([subB, subOps]);
    expect(await ids('/v1/notifications/subscriptions?status=disabled')).toEqual([subB]);
    expect(await ids('/v1/notifications/subscriptions?status=closed')).toEqual([subA]);
    expect(await ids('/v1/notifications/subscriptions?customerId=globex')).toEqual([subB]);
    const first = await ok('/v1/notifications/subscriptions?limit=2');
    expect(first.items.map((s: Body) => s.subscriptionId)).toEqual([subA, subB]);
    const second = await ok(`/v1/notifications/subscriptions?limit=2&cursor=${first.nextCursor}`);
    expect(second).toMatchObject({ items: [{ subscriptionId: subOps }], nextCursor: null });

    expect(await ok(`/v1/notifications/subscriptions/${subA}`)).toEqual({
      subscriptionId: subA,
      customerId: 'acme',
      url: 'https://hooks.acme.example/flotilla',
      description: 'hooks.acme.example hooks',
      filter: { eventTypes: ['flotilla.execution.*'], severities: [], executionKinds: [] },
      enabled: true,
      deleted: false,
      deletedAt: null,
      createdAt: iso(at(0)),
      createdBy: 'admin',
      updatedAt: null,
      health: { status: 'closed', consecutiveFailures: 0, failingSince: null, reason: null, changedAt: null },
      lastRotation: { rotatedAt: iso(at(30)), rotatedBy: 'acme-admin', previousSecretExpiresAt: iso(at(30 + 86_400)) },
      // a1 once (reported twice), a2 after a retry, a3 after its replay; a2 and a3 failed three times between them.
      counts: { scheduled: 4, succeeded: 3, failed: 3, deadLettered: 1 },
      successRate: { window: 100, attempts: 6, succeeded: 3, rate: 0.5 },
      lastAttemptAt: iso(at(401)),
      lastDeliveredAt: iso(at(401)),
      lastFailure: { at: iso(at(306)), outcome: 'failed', statusCode: 500, error: 'answered 500' },
    });
    expect(await ok(`/v1/notifications/subscriptions/${subB}`)).toMatchObject({
      customerId: 'globex',
      description: 'globex: failed executions',
      filter: { eventTypes: ['flotilla.execution.ExecutionFailed'] },
      createdAt: iso(at(10)),
      updatedAt: iso(at(15)),
      health: { status: 'disabled', consecutiveFailures: 0, failingSince: iso(at(501)), reason: 'the endpoint answered 410 Gone', changedAt: iso(at(601)) },
      counts: { scheduled: 2, succeeded: 0, failed: 3, deadLettered: 2 },
      successRate: { attempts: 3, succeeded: 0, rate: 0 },
      lastDeliveredAt: null,
      lastFailure: { at: iso(at(601)), outcome: 'gone', statusCode: 410, error: 'answered 410' },
    });
    expect(await ok(`/v1/notifications/subscriptions/${subOps}`)).toMatchObject({ customerId: null, health: { status: 'open', consecutiveFailures: 1, failingSince: iso(at(701)) } });
    expect(await ok(`/v1/notifications/subscriptions/${subOld}`)).toMatchObject({ customerId: 'acme', deleted: true, deletedAt: iso(at(50)) });
    expect((await get('/v1/notifications/subscriptions/no-such-subscription')).status).toBe(404);
  });

  it('lists deliveries newest first, page by page, filtered, and shows each with its attempts', async () => {
    const all = [msg('a4'), msg('o1'), msg('b2'), msg('b1'), msg('a3'), msg('a2'), msg('a1')];
    expect(await ids('/v1/notifications/deliveries')).toEqual(all);
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const body: Body = await ok(`/v1/notifications/deliveries?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      pages.push(body.items.map((d: Body) => d.deliveryId));
      cursor = body.nextCursor;
    } while (cursor);
    expect(pages).toEqual([all.slice(0, 3), all.slice(3, 6), all.slice(6)]);

    expect(await ids('/v1/notifications/deliveries?status=dead_lettered')).toEqual([msg('b2'), msg('b1')]);
    expect(await ids('/v1/notifications/deliveries?status=retrying')).toEqual([msg('o1')]);
    expect(await ids('/v1/notifications/deliveries?status=pending')).toEqual([msg('a4')]);
    expect(await ids(`/v1/notifications/deliveries?subscriptionId=${subA}&status=succeeded`)).toEqual([msg('a3'), msg('a2'), msg('a1')]);
    expect(await ids('/v1/notifications/deliveries?eventType=flotilla.alert.AlertRaised')).toEqual([msg('o1')]);
    expect(await ids(`/v1/notifications/deliveries?from=${iso(at(200))}&to=${iso(at(600))}`)).toEqual([msg('b1'), msg('a3'), msg('a2')]);
    expect(await ids('/v1/notifications/deliveries?customerId=globex')).toEqual([msg('b2'), msg('b1')]);

    const [pending, retrying, gone] = (await ok('/v1/notifications/deliveries?limit=3')).items as Body[];
    expect(pending).toEqual({
      deliveryId: msg('a4'),
      subscriptionId: subA,
      customerId: 'acme',
      eventId: `e-${msg('a4')}`,
      eventType: 'flotilla.execution.ExecutionCompleted',
      status: 'pending',
      attemptCount: 0,
      replays: 0,
      lastOutcome: null,
      lastStatusCode: null,
      lastLatencyMs: null,
      lastError: null,
      nextAttemptAt: null,
      scheduledAt: iso(at(800)),
      lastAttemptedAt: null,
      deliveredAt: null,
      deadLetteredAt: null,
      deadLetterReason: null,
      replayedAt: null,
      replayedBy: null,
    });
    // The ops subscription's delivery of an acme event is the ops subscription's: no customer.
    expect(retrying).toMatchObject({ customerId: null, status: 'retrying', attemptCount: 1, lastStatusCode: 502, lastLatencyMs: 45, nextAttemptAt: iso(at(761)), lastAttemptedAt: iso(at(701)) });
    expect(await ok(`/v1/notifications/deliveries/${msg('b1')}`)).toMatchObject({ status: 'dead_lettered', attemptCount: 2, lastStatusCode: null, lastError: 'connection reset' });
    expect(gone).toMatchObject({ status: 'dead_lettered', lastOutcome: 'gone', lastStatusCode: 410, deadLetteredAt: iso(at(601)), deadLetterReason: 'subscription disabled', nextAttemptAt: null });

    const replayed = await ok(`/v1/notifications/deliveries/${msg('a3')}`);
    expect(replayed).toMatchObject({
      status: 'succeeded',
      attemptCount: 3,
      replays: 1,
      lastOutcome: 'succeeded',
      lastStatusCode: 200,
      lastLatencyMs: 60,
      deliveredAt: iso(at(401)),
      deadLetteredAt: iso(at(307)),
      deadLetterReason: 'no attempt left',
      replayedAt: iso(at(400)),
      replayedBy: 'acme-admin',
    });
    expect(replayed.attempts).toEqual([
      { seq: 1, round: 0, attempt: 1, outcome: 'failed', statusCode: null, error: 'timeout after 15000 ms', latencyMs: 15_000, attemptedAt: iso(at(301)), nextAttemptAt: iso(at(306)) },
      { seq: 2, round: 0, attempt: 2, outcome: 'failed', statusCode: 500, error: 'answered 500', latencyMs: 70, attemptedAt: iso(at(306)), nextAttemptAt: null },
      { seq: 3, round: 1, attempt: 3, outcome: 'succeeded', statusCode: 200, error: null, latencyMs: 60, attemptedAt: iso(at(401)), nextAttemptAt: null },
    ]);
    const once = await ok(`/v1/notifications/deliveries/${msg('a1')}`);
    expect(once).toMatchObject({ status: 'succeeded', attemptCount: 1, deliveredAt: iso(at(101)) });
    expect(once.attempts).toHaveLength(1);
    expect((await get('/v1/notifications/deliveries/msg_unknown')).status).toBe(404);
  });

  it("keeps each customer to its own customer's: another's and ops' are 404 by id and absent from lists", async () => {
    expect(await ids('/v1/notifications/subscriptions', tokens.acme)).toEqual([subA]);
    expect(await ids('/v1/notifications/subscriptions?includeDeleted=true', tokens.acme)).toEqual([subA, subOld]);
    expect(await ids('/v1/notifications/subscriptions?status=failing', tokens.acme)).toEqual([]);
    expect(await ids('/v1/notifications/subscriptions', tokens.globex)).toEqual([subB]);
    expect(await ids('/v1/notifications/deliveries', tokens.acme)).toEqual([msg('a4'), msg('a3'), msg('a2'), msg('a1')]);
    expect(await ids(`/v1/notifications/deliveries?subscriptionId=${subB}`, tokens.acme)).toEqual([]);
    expect(await ids(`/v1/notifications/deliveries?subscriptionId=${subOps}`, tokens.acme)).toEqual([]);
    expect(await ids('/v1/notifications/deliveries', tokens.globex)).toEqual([msg('b2'), msg('b1')]);
    expect((await ok(`/v1/notifications/subscriptions/${subA}`, tokens.acme)).subscriptionId).toBe(subA);
    expect((await ok(`/v1/notifications/deliveries/${msg('a3')}`, tokens.acme)).attempts).toHaveLength(3);
    for (const route of [`/v1/notifications/subscriptions/${subB}`, `/v1/notifications/subscriptions/${subOps}`, `/v1/notifications/deliveries/${msg('b1')}`, `/v1/notifications/deliveries/${msg('o1')}`]) {
      const { status, body } = await get(route, tokens.acme);
      expect({ route, status, leaked: JSON.stringify(body).includes('hooks.globex') || JSON.stringify(body).includes('ops.flotilla') }).toEqual({ route, status: 404, leaked: false });
    }
    expect((await get(`/v1/notifications/subscriptions/${subA}`, tokens.globex)).status).toBe(404);
    // Naming another customer is refused, as on every list of the API.
    expect((await get('/v1/notifications/subscriptions?customerId=globex', tokens.acme)).status).toBe(403);
    expect((await get('/v1/notifications/deliveries?customerId=globex', tokens.acme)).status).toBe(403);
    expect(await ids('/v1/notifications/deliveries?customerId=acme', tokens.acme)).toHaveLength(4);
  });

  it('answers as its OpenAPI document says, on bodies full of data', async () => {
    const document = (await (await fetch(`${flotilla.url('projection')}/openapi.json`)).json()) as Body;
    const schemaOf = (route: string) => {
      const schema = document.paths[route]?.get?.responses?.['200']?.content?.['application/json']?.schema;
      if (!schema) throw new Error(`no 200 body documented for GET ${route}: ${Object.keys(document.paths).filter((p) => p.includes('notifications')).join(', ')}`);
      return schema as Body;
    };
    const check = async (documented: string, route: string) => ({ route, departures: departures(schemaOf(documented), await ok(route)) });
    const subscriptions = await ok('/v1/notifications/subscriptions?includeDeleted=true');
    const deliveries = await ok('/v1/notifications/deliveries?limit=200');
    const results = [
      await check('/v1/notifications/subscriptions', '/v1/notifications/subscriptions?includeDeleted=true'),
      await check('/v1/notifications/subscriptions', '/v1/notifications/subscriptions?limit=1'),
      await check('/v1/notifications/deliveries', '/v1/notifications/deliveries?limit=200'),
      await check('/v1/notifications/deliveries', '/v1/notifications/deliveries?limit=2'),
      ...(await Promise.all(subscriptions.items.map((s: Body) => check('/v1/notifications/subscriptions/{id}', `/v1/notifications/subscriptions/${s.subscriptionId}`)))),
      ...(await Promise.all(deliveries.items.map((d: Body) => check('/v1/notifications/deliveries/{id}', `/v1/notifications/deliveries/${d.deliveryId}`)))),
    ];
    expect(results.filter((r) => r.departures.length > 0)).toEqual([]);
    expect(results).toHaveLength(4 + 4 + 7);
    // A departure is found: the checker is not blind.
    expect(departures(schemaOf('/v1/notifications/deliveries/{id}'), { ...deliveries.items[0], status: 'lost', extra: 1 })).toEqual(['$.attempts: missing', '$.extra: not documented', '$.status: "lost" is not one of ["pending","retrying","succeeded","dead_lettered"]']);
  });

  it('refuses a bad query naming the parameter, and every route needs a token', async () => {
    const problem = async (route: string) => {
      const { status, body } = await get(route);
      return { status, code: body.code, fields: (body.problems as { field: string }[] | undefined)?.map((p) => p.field) };
    };
    expect(await problem('/v1/notifications/subscriptions?status=sulking')).toEqual({ status: 400, code: 'VALIDATION_FAILED', fields: ['status'] });
    expect(await problem('/v1/notifications/subscriptions?includeDeleted=yes')).toEqual({ status: 400, code: 'VALIDATION_FAILED', fields: ['includeDeleted'] });
    expect(await problem('/v1/notifications/subscriptions?cursor=bm90LW91cnM')).toEqual({ status: 400, code: 'INVALID_CURSOR', fields: ['cursor'] });
    expect(await problem('/v1/notifications/deliveries?status=lost')).toEqual({ status: 400, code: 'VALIDATION_FAILED', fields: ['status'] });
    expect(await problem('/v1/notifications/deliveries?limit=0')).toEqual({ status: 400, code: 'VALIDATION_FAILED', fields: ['limit'] });
    expect(await problem('/v1/notifications/deliveries?from=yesterday')).toEqual({ status: 400, code: 'VALIDATION_FAILED', fields: ['from'] });
    expect(await problem('/v1/notifications/deliveries?colour=blue')).toEqual({ status: 400, code: 'VALIDATION_FAILED', fields: ['colour'] });
    expect(await problem('/v1/notifications/deliveries?cursor=bm90LW91cnM')).toEqual({ status: 400, code: 'INVALID_CURSOR', fields: ['cursor'] });
    // A subscription's cursor is not a delivery's.
    const subscriptionCursor = (await ok('/v1/notifications/subscriptions?limit=1')).nextCursor;
    expect(await problem(`/v1/notifications/deliveries?cursor=${subscriptionCursor}`)).toEqual({ status: 400, code: 'INVALID_CURSOR', fields: ['cursor'] });
    for (const route of ['/v1/notifications/subscriptions', `/v1/notifications/subscriptions/${subA}`, '/v1/notifications/deliveries', `/v1/notifications/deliveries/${msg('a1')}`]) {
      expect({ route, status: (await get(route, null)).status }).toEqual({ route, status: 401 });
    }
  });

  it("announces changes on the live stream as kind notification, to ops and to the subscription's customer only", async () => {
    const open = async (bearer: string) => {
      const controller = new AbortController();
      const response = await fetch(`${flotilla.url('projection')}/v1/stream?kinds=notification&access_token=${bearer}`, { signal: controller.signal });
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      const stream = { text: '', close: () => controller.abort() };
      const read = async (until: (t: string) => boolean) => {
        while (!until(stream.text)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`the stream ended: ${stream.text}`);
          stream.text += decoder.decode(value, { stream: true });
        }
      };
      return { stream, read };
    };
    const ops = await open(tokens.ops);
    const acme = await open(tokens.acme);
    try {
      await ops.read((t) => t.includes(': connected'));
      await acme.read((t) => t.includes(': connected'));
      // globex's and the ops subscription's changes first, applied before acme's is published.
      await driver.publish([scheduled(subB, msg('b3'), 900), scheduled(subOps, msg('o2'), 900, 'flotilla.alert.AlertRaised', 'acme')]);
      await ops.read((t) => t.includes(`"id":"${subB}"`) && t.includes(`"id":"${subOps}"`));
      expect(ops.stream.text).toContain(`{"kind":"notification","id":"${subOps}","customerId":null`);
      expect(ops.stream.text).toContain(`{"kind":"notification","id":"${subB}","customerId":"globex"`);
      await driver.publish([scheduled(subA, msg('a5'), 900)]);
      await acme.read((t) => t.includes(`"id":"${subA}"`));
      expect(acme.stream.text).toContain(`{"kind":"notification","id":"${subA}","customerId":"acme"`);
      expect(acme.stream.text).not.toContain(subB);
      expect(acme.stream.text).not.toContain(subOps);
    } finally {
      ops.stream.close();
      acme.stream.close();
    }
  });

  it('shows the failing endpoints first and the latest deliveries in the dashboard, and follows a new delivery live', async () => {
    const executablePath = execFileSync(path.join(ROOT, 'deploy/native/stack'), ['browser'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
      await page.goto(`${flotilla.url('projection')}/dashboard#/notifications?token=${tokens.ops}`);
      await page.waitForSelector('#live.on', { timeout: 15_000 });
      await page.waitForSelector(`#failing-endpoints [data-subscription="${subB}"]`, { timeout: 15_000 });
      // Disabled before open; each with its failing since and last error.
      const failing = await page.$$eval('#failing-endpoints tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.subscription));
      expect(failing).toEqual([subB, subOps]);
      const disabled = await page.textContent(`#failing-endpoints [data-subscription="${subB}"]`);
      expect(disabled).toContain('https://hooks.globex.example/in');
      expect(disabled).toContain('disabled');
      expect(disabled).toContain('HTTP 410');
      expect(await page.textContent(`#failing-endpoints [data-subscription="${subOps}"]`)).toContain('HTTP 502');
      await page.waitForSelector(`#recent-deliveries [data-delivery="${msg('a5')}"]`, { timeout: 15_000 });
      const retrying = await page.textContent(`#recent-deliveries [data-delivery="${msg('o1')}"]`);
      expect(retrying).toContain('retrying');
      expect(retrying).toContain('502');
      expect(retrying).toContain('45 ms');
      expect(await page.textContent(`#recent-deliveries [data-delivery="${msg('b2')}"]`)).toContain('dead_lettered');

      // A new delivery is attempted and fails: it appears, with its next retry, without a reload.
      const live = msg('live');
      await driver.publish([
        scheduled(subA, live, 950),
        attempted(subA, live, 1, 951, { outcome: 'failed', statusCode: 429, latencyMs: 12, nextAttemptAt: Date.now() + 3_600_000 }),
      ]);
      await page.waitForFunction((id) => /retrying/.test(document.querySelector(`#recent-deliveries [data-delivery="${id}"]`)?.textContent ?? ''), live, { timeout: 30_000 });
      const row = await page.textContent(`#recent-deliveries [data-delivery="${live}"]`);
      expect(row).toContain('429');
      expect(row).toMatch(/in (59|60) min/);
      expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
      fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
      await page.screenshot({ path: path.join(ROOT, 'test-results/dashboard-notifications.png'), fullPage: true });

      // acme's token: no endpoint of acme's fails, and only acme's deliveries are listed.
      const customer = await browser.newPage();
      await customer.goto(`${flotilla.url('projection')}/dashboard#/notifications?token=${tokens.acme}`);
      await customer.waitForSelector(`#recent-deliveries [data-delivery="${live}"]`, { timeout: 15_000 });
      expect(await customer.textContent('#failing-endpoints')).toContain('No endpoint is failing.');
      const listed = await customer.$$eval('#recent-deliveries tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.delivery));
      expect(listed).toEqual([live, msg('a5'), msg('a4'), msg('a3'), msg('a2'), msg('a1')]);
    } finally {
      await browser.close();
    }
  });

  it('rebuilds the same notification tables from the topic', async () => {
    const schema = flotilla.schema('projection');
    const tables: Record<string, string> = { notification_subscriptions: 'subscription_id', notification_deliveries: 'delivery_id', notification_attempts: 'delivery_id, seq' };
    const snapshot = async () => {
      const out: Record<string, Body[]> = {};
      for (const [table, order] of Object.entries(tables)) out[table] = (await database.query(`SELECT * FROM ${schema}.${table} ORDER BY ${order}`)).rows;
      return out;
    };
    await flotilla.settled();
    const before = await snapshot();
    expect(Object.fromEntries(Object.entries(before).map(([t, rows]) => [t, rows.length]))).toEqual({ notification_subscriptions: 4, notification_deliveries: 11, notification_attempts: 11 });
    const answers = async () => ({
      subscriptions: await ok('/v1/notifications/subscriptions?includeDeleted=true'),
      deliveries: await ok('/v1/notifications/deliveries?limit=200'),
      replayed: await ok(`/v1/notifications/deliveries/${msg('a3')}`),
    });
    const answered = await answers();

    const started = await fetch(`${flotilla.url('projection')}/v1/admin/rebuild`, { method: 'POST', headers: { authorization: `Bearer ${tokens.ops}` } });
    expect(started.status).toBe(202);
    await waitFor(
      'the rebuild to finish',
      async () => {
        const progress = await ok('/v1/admin/rebuild');
        if (progress.state === 'failed') throw new Error(`rebuild failed: ${progress.error}`);
        return progress.state === 'done';
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    );
    await flotilla.settled();
    expect(await snapshot()).toEqual(before);
    expect(await answers()).toEqual(answered);
  });
});
