import type { SubscriptionHealthChanged, WebhookAttemptRecorded } from '@flotilla/contracts';
import { evolveDelivery, type DeliveryRecord, type DeliveryStatus } from './delivery-view';
import type { DeliveryEvent, NotificationEvent } from './notification-events';
import { evolveSubscription, successRate, SUCCESS_RATE_WINDOW, subscriptionViewOf, type SubscriptionRecord } from './subscription-view';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const at = (seconds: number) => T0 + seconds * 1000;
const iso = (ms: number) => new Date(ms).toISOString();
const subscriptionId = 'sub-1';
const customerId = 'acme';
const deliveryId = 'msg_1';
const filter = { eventTypes: ['flotilla.execution.*'], severities: [], executionKinds: [] };

const scheduled: DeliveryEvent = {
  type: 'flotilla.notification.WebhookDeliveryScheduled',
  data: { deliveryId, subscriptionId, customerId, eventId: 'e-1', eventType: 'flotilla.execution.ExecutionCompleted', scheduledAt: at(0) },
};
const attempt = (n: number, outcome: WebhookAttemptRecorded['outcome'], seconds: number, fields: Partial<WebhookAttemptRecorded> = {}): DeliveryEvent => ({
  type: 'flotilla.notification.WebhookAttemptRecorded',
  data: {
    deliveryId,
    subscriptionId,
    customerId,
    eventId: 'e-1',
    eventType: 'flotilla.execution.ExecutionCompleted',
    attempt: n,
    outcome,
    statusCode: outcome === 'succeeded' ? 200 : outcome === 'gone' ? 410 : 500,
    error: null,
    latencyMs: 40 + n,
    attemptedAt: at(seconds),
    nextAttemptAt: outcome === 'succeeded' ? null : at(seconds + 5),
    ...fields,
  },
});
const deadLettered = (seconds: number): DeliveryEvent => ({
  type: 'flotilla.notification.WebhookDeliveryDeadLettered',
  data: { deliveryId, subscriptionId, customerId, eventId: 'e-1', eventType: 'flotilla.execution.ExecutionCompleted', attempts: 3, reason: 'every attempt failed', deadLetteredAt: at(seconds) },
});
const replayed = (seconds: number): DeliveryEvent => ({
  type: 'flotilla.notification.WebhookDeliveryReplayed',
  data: { deliveryId, subscriptionId, customerId, replayedBy: 'ops-1', replayedAt: at(seconds) },
});

/** The delivery after its events; an event that changes nothing leaves it as it was. */
const deliveryAfter = (events: readonly DeliveryEvent[]): DeliveryRecord =>
  events.reduce<DeliveryRecord | null>((current, e) => evolveDelivery(current, e)?.delivery ?? current, null)!;

describe('webhook delivery read model (status from its events)', () => {
  it.each<[string, DeliveryEvent[], DeliveryStatus, Partial<DeliveryRecord>]>([
    ['scheduled', [scheduled], 'pending', { attempts: 0, nextAttemptAt: null, scheduledAt: at(0) }],
    ['delivered at the first attempt', [scheduled, attempt(1, 'succeeded', 1)], 'succeeded', { attempts: 1, deliveredAt: at(1), lastStatusCode: 200, lastLatencyMs: 41 }],
    ['failed once, retried', [scheduled, attempt(1, 'failed', 1)], 'retrying', { attempts: 1, nextAttemptAt: at(6), lastStatusCode: 500, deliveredAt: null }],
    ['failed, then delivered', [scheduled, attempt(1, 'failed', 1), attempt(2, 'succeeded', 6)], 'succeeded', { attempts: 2, nextAttemptAt: null, deliveredAt: at(6) }],
    ['timed out: no status, an error', [scheduled, attempt(1, 'failed', 1, { statusCode: null, error: 'timeout after 15000 ms' })], 'retrying', { lastStatusCode: null, lastError: 'timeout after 15000 ms' }],
    ['its last attempt failed, its dead letter still to come', [scheduled, attempt(1, 'failed', 1), attempt(2, 'failed', 6, { nextAttemptAt: null })], 'retrying', { attempts: 2, nextAttemptAt: null }],
    ['gone (410), dead-lettered', [scheduled, attempt(1, 'gone', 1, { nextAttemptAt: null }), deadLettered(2)], 'dead_lettered', { attempts: 1, lastOutcome: 'gone', deadLetteredAt: at(2), deadLetterReason: 'every attempt failed' }],
    ['dead-lettered without an attempt (its subscription deleted)', [scheduled, deadLettered(1)], 'dead_lettered', { attempts: 0, lastOutcome: null }],
    ['replayed: pending again, the schedule from the start', [scheduled, attempt(1, 'failed', 1), deadLettered(2), replayed(10)], 'pending', { round: 1, lastAttemptNo: null, nextAttemptAt: null, replayedAt: at(10), replayedBy: 'ops-1', deadLetteredAt: at(2) }],
    ['replayed and delivered, its attempt numbers going on', [scheduled, attempt(1, 'failed', 1), deadLettered(2), replayed(10), attempt(2, 'succeeded', 11)], 'succeeded', { attempts: 2, round: 1, lastAttemptNo: 2, deliveredAt: at(11) }],
    ['replayed and delivered, its attempt numbers starting again', [scheduled, attempt(1, 'failed', 1), deadLettered(2), replayed(10), attempt(1, 'succeeded', 11)], 'succeeded', { attempts: 2, round: 1, lastAttemptNo: 1, deliveredAt: at(11) }],
    ['an attempt reported after it succeeded moves nothing back', [scheduled, attempt(1, 'succeeded', 1), attempt(2, 'failed', 3)], 'succeeded', { attempts: 2, deliveredAt: at(1), nextAttemptAt: null, lastOutcome: 'failed' }],
    ['an attempt reported after its dead letter moves nothing back', [scheduled, deadLettered(1), attempt(1, 'succeeded', 2)], 'dead_lettered', { attempts: 1, deliveredAt: null }],
    ['the same attempt reported twice counts once', [scheduled, attempt(1, 'failed', 1), attempt(1, 'failed', 1)], 'retrying', { attempts: 1, lastAttemptNo: 1 }],
    ['known from an attempt alone (its scheduling no longer on the topic)', [attempt(3, 'failed', 7)], 'retrying', { attempts: 1, scheduledAt: at(7), eventId: 'e-1' }],
    ['known from a replay alone', [replayed(10)], 'pending', { eventId: null, eventType: null, round: 1, scheduledAt: at(10) }],
  ])('%s', (_name, events, status, fields) => {
    const delivery = deliveryAfter(events);
    expect(delivery.status).toBe(status);
    expect(delivery).toMatchObject(fields);
  });

  it('adds each attempt to the history, numbered across replays, and nothing for an event that changes nothing', () => {
    const first = evolveDelivery(null, scheduled)!;
    expect(first.attempt).toBeNull();
    expect(evolveDelivery(first.delivery, scheduled)).toBeNull();
    const failed = evolveDelivery(first.delivery, attempt(1, 'failed', 1))!;
    expect(failed.attempt).toEqual({
      deliveryId, subscriptionId, seq: 1, round: 0, attempt: 1, outcome: 'failed', statusCode: 500, error: null, latencyMs: 41, attemptedAt: at(1), nextAttemptAt: at(6),
    });
    expect(evolveDelivery(failed.delivery, attempt(1, 'failed', 1))).toBeNull();
    const again = evolveDelivery(evolveDelivery(deliveryAfter([scheduled, attempt(1, 'failed', 1), deadLettered(2)]), replayed(10))!.delivery, attempt(2, 'succeeded', 11))!;
    expect(again.attempt).toMatchObject({ seq: 2, round: 1, attempt: 2, outcome: 'succeeded' });
  });
});

const created: NotificationEvent = {
  type: 'flotilla.notification.SubscriptionCreated',
  data: { subscriptionId, customerId, url: 'https://hooks.acme.example/flotilla', description: 'CI', filter, enabled: true, createdBy: 'acme-admin', createdAt: at(0) },
};
const health = (status: SubscriptionHealthChanged['status'], consecutiveFailures: number, failingSince: number | null, seconds: number, reason: string = status): NotificationEvent => ({
  type: 'flotilla.notification.SubscriptionHealthChanged',
  data: { subscriptionId, customerId, status, consecutiveFailures, failingSince, reason, changedAt: at(seconds) },
});
const subscriptionAfter = (events: readonly NotificationEvent[]): SubscriptionRecord => events.reduce<SubscriptionRecord | null>((s, e) => evolveSubscription(s, e), null)!;
const outcomes = (...marks: WebhookAttemptRecorded['outcome'][]) => marks.map((outcome, i) => attempt(i + 1, outcome, 10 + i));

describe('webhook subscription read model (health, counts and success rate folded)', () => {
  it.each<[string, NotificationEvent[], SubscriptionRecord['health'], { failed: number; succeeded: number }]>([
    ['created: healthy', [created], { status: 'closed', consecutiveFailures: 0, failingSince: null, reason: null, changedAt: null }, { failed: 0, succeeded: 0 }],
    ['two failures start a run', [created, ...outcomes('failed', 'failed')], { status: 'closed', consecutiveFailures: 2, failingSince: at(10), reason: null, changedAt: null }, { failed: 2, succeeded: 0 }],
    ['a success ends the run', [created, ...outcomes('failed', 'failed', 'succeeded')], { status: 'closed', consecutiveFailures: 0, failingSince: null, reason: null, changedAt: null }, { failed: 2, succeeded: 1 }],
    [
      'the circuit opens: its status and run as the service says, failures after it added',
      [created, ...outcomes('failed', 'failed'), health('open', 2, at(10), 12, 'two failures in a row'), attempt(3, 'failed', 40)],
      { status: 'open', consecutiveFailures: 3, failingSince: at(10), reason: 'two failures in a row', changedAt: at(12) },
      { failed: 3, succeeded: 0 },
    ],
    [
      'the probe succeeds, then the circuit closes',
      [created, ...outcomes('failed', 'failed'), health('open', 2, at(10), 12), health('half_open', 2, at(10), 42), attempt(3, 'succeeded', 43), health('closed', 0, null, 43, 'recovered')],
      { status: 'closed', consecutiveFailures: 0, failingSince: null, reason: 'recovered', changedAt: at(43) },
      { failed: 2, succeeded: 1 },
    ],
    [
      'disabled: an attempt in flight changes nothing of its health',
      [created, attempt(1, 'gone', 10), health('disabled', 1, at(10), 10, '410 Gone'), attempt(2, 'succeeded', 11), attempt(3, 'failed', 12)],
      { status: 'disabled', consecutiveFailures: 1, failingSince: at(10), reason: '410 Gone', changedAt: at(10) },
      { failed: 2, succeeded: 1 },
    ],
  ])('%s', (_name, events, expectedHealth, counts) => {
    const subscription = subscriptionAfter(events);
    expect(subscription.health).toEqual(expectedHealth);
    expect(subscription.counts).toMatchObject(counts);
  });

  it.each<[string, WebhookAttemptRecorded['outcome'][], { attempts: number; succeeded: number; rate: number | null }]>([
    ['no attempt yet', [], { attempts: 0, succeeded: 0, rate: null }],
    ['all succeeded', ['succeeded', 'succeeded'], { attempts: 2, succeeded: 2, rate: 1 }],
    ['one of three', ['failed', 'gone', 'succeeded'], { attempts: 3, succeeded: 1, rate: 0.3333 }],
    ['only the latest window counts', [...Array<'failed'>(SUCCESS_RATE_WINDOW).fill('failed'), ...Array<'succeeded'>(25).fill('succeeded')], { attempts: SUCCESS_RATE_WINDOW, succeeded: 25, rate: 0.25 }],
  ])('success rate: %s', (_name, marks, rate) => {
    const subscription = subscriptionAfter([created, ...outcomes(...marks)]);
    expect(successRate(subscription.recentOutcomes)).toEqual({ window: SUCCESS_RATE_WINDOW, ...rate });
  });

  it('counts deliveries scheduled, attempts and dead letters, and keeps the last failure and delivery', () => {
    const subscription = subscriptionAfter([
      created,
      scheduled,
      attempt(1, 'failed', 1, { statusCode: null, error: 'connection refused' }),
      attempt(2, 'succeeded', 6),
      { ...scheduled, data: { ...scheduled.data, deliveryId: 'msg_2' } } as NotificationEvent,
      attempt(1, 'gone', 8, { deliveryId: 'msg_2', nextAttemptAt: null }),
      { ...deadLettered(9), data: { ...deadLettered(9).data, deliveryId: 'msg_2' } } as NotificationEvent,
    ]);
    expect(subscription.counts).toEqual({ scheduled: 2, succeeded: 1, failed: 2, deadLettered: 1 });
    expect(subscription.lastAttemptAt).toBe(at(8));
    expect(subscription.lastDeliveredAt).toBe(at(6));
    expect(subscription.lastFailure).toEqual({ at: at(8), outcome: 'gone', statusCode: 410, error: null });
  });

  it('keeps its definition through an update, a rotation and its deletion, as the API shows it', () => {
    const view = subscriptionViewOf(
      subscriptionAfter([
        created,
        { type: 'flotilla.notification.SubscriptionUpdated', data: { subscriptionId, customerId, url: 'https://hooks.acme.example/v2', description: 'CI v2', filter, enabled: false, updatedBy: 'acme-admin', updatedAt: at(5) } },
        { type: 'flotilla.notification.SubscriptionSecretRotated', data: { subscriptionId, customerId, rotatedBy: 'acme-admin', rotatedAt: at(6), previousSecretExpiresAt: at(6 + 86_400) } },
        { type: 'flotilla.notification.SubscriptionDeleted', data: { subscriptionId, customerId, deletedBy: 'acme-admin', deletedAt: at(7) } },
      ]),
    );
    expect(view).toMatchObject({
      customerId,
      url: 'https://hooks.acme.example/v2',
      description: 'CI v2',
      enabled: false,
      deleted: true,
      deletedAt: iso(at(7)),
      createdAt: iso(at(0)),
      createdBy: 'acme-admin',
      updatedAt: iso(at(5)),
      lastRotation: { rotatedAt: iso(at(6)), rotatedBy: 'acme-admin', previousSecretExpiresAt: iso(at(6 + 86_400)) },
      successRate: { attempts: 0, rate: null },
    });
  });

  it.each<[string, NotificationEvent[], string | null, string | null]>([
    ['its own events name its customer', [created], customerId, created.data.url],
    ['an ops subscription has none', [{ ...created, data: { ...created.data, customerId: null } } as NotificationEvent], null, created.data.url],
    ["known from a delivery alone, it is nobody's but ops' (a delivery's customer does not decide it)", [scheduled], null, null],
    ['until one of its own events names its customer', [scheduled, health('open', 3, at(0), 5)], customerId, null],
  ])('whose it is: %s', (_name, events, owner, url) => {
    const view = subscriptionViewOf(subscriptionAfter(events));
    expect(view.customerId).toBe(owner);
    expect(view.url).toBe(url);
  });
});
