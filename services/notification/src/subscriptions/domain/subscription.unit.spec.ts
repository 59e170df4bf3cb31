import { deciderSpec, IllegalStateError, NotFoundError } from '@flotilla/domain';
import type { EndpointHealth } from '../../endpoints/domain/endpoint-health';
import {
  isDeliverable,
  isPublishedSubscriptionEvent,
  signingSecrets,
  subscriptionDecider,
  type ActiveSubscription,
  type SubscriptionCommand,
  type SubscriptionEvent,
  type SubscriptionState,
} from './subscription';

const spec = deciderSpec(subscriptionDecider);

const SECRET_A = 'whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=';
const SECRET_B = 'whsec_QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=';
const SECRET_C = 'whsec_Q0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0NDQ0M=';
const SECRET_D = 'whsec_RERERERERERERERERERERERERERERERERERERERERDQ=';

const ENDPOINT_URL = 'https://hooks.acme.test/flotilla';

const filter = { eventTypes: ['flotilla.execution.*', 'flotilla.alert.AlertRaised'], severities: ['critical'], executionKinds: [] };
const create: SubscriptionCommand = {
  type: 'Create', subscriptionId: 'sub-1', customerId: 'acme', url: ENDPOINT_URL, description: 'builds',
  filter, enabled: true, secret: SECRET_A, by: 'alice', now: 1_000,
};

const closed = (consecutiveFailures: number, failingSince: number | null): EndpointHealth => ({ status: 'closed', consecutiveFailures, failingSince });
const open = (consecutiveFailures: number, failingSince: number, openedAt: number): EndpointHealth => ({ status: 'open', consecutiveFailures, failingSince, openedAt });
const halfOpen = (consecutiveFailures: number, failingSince: number, probeSentAt: number): EndpointHealth => ({
  status: 'half_open', consecutiveFailures, failingSince, probeSentAt,
});
const disabled = (failingSince: number, disabledAt: number): EndpointHealth => ({ status: 'disabled', failingSince, disabledAt });
const healthy = closed(0, null);

const recordHealth = (health: EndpointHealth, now: number, reason = 'attempt failed'): SubscriptionCommand => ({ type: 'RecordHealth', health, reason, now });
const healthRecorded = (health: EndpointHealth): SubscriptionEvent => ({ type: 'notification.SubscriptionHealthRecorded', data: { health } });
const healthChanged = (status: EndpointHealth['status'], consecutiveFailures: number, failingSince: number | null, reason: string, changedAt: number): SubscriptionEvent => ({
  type: 'flotilla.notification.SubscriptionHealthChanged',
  data: { subscriptionId: 'sub-1', customerId: 'acme', status, consecutiveFailures, failingSince, reason, changedAt },
});

function active(state: SubscriptionState): ActiveSubscription {
  if (state.status !== 'Active') throw new Error(`expected an active subscription, got ${state.status}`);
  return state;
}

function thrown(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return error;
  }
  throw new Error('expected it to throw');
}

describe('subscription decider', () => {
  // Creating is refused the second time rather than doing nothing, so its idempotency is checked by hand below.
  const { events: created, state: afterCreate } = spec.given().when(create).then([
    { type: 'notification.SubscriptionSecretsSet', data: { secrets: [{ secret: SECRET_A, createdAt: 1_000, expiresAt: null }] } },
    {
      type: 'flotilla.notification.SubscriptionCreated',
      data: { subscriptionId: 'sub-1', customerId: 'acme', url: ENDPOINT_URL, description: 'builds', filter, enabled: true, createdBy: 'alice', createdAt: 1_000 },
    },
  ], { idempotent: false });

  describe('create', () => {
    it('keeps the secret in the state, with a healthy endpoint', () => {
      expect(afterCreate).toEqual({
        status: 'Active', subscriptionId: 'sub-1', customerId: 'acme', url: ENDPOINT_URL, description: 'builds', filter, enabled: true,
        secrets: [{ secret: SECRET_A, createdAt: 1_000, expiresAt: null }], health: healthy, createdAt: 1_000,
      });
      expect(signingSecrets(active(afterCreate), 1_000)).toEqual([SECRET_A]);
      expect(isDeliverable(afterCreate)).toBe(true);
    });

    it('publishes no secret: only the row-only event carries it', () => {
      expect(created.filter(isPublishedSubscriptionEvent).map((e) => e.type)).toEqual(['flotilla.notification.SubscriptionCreated']);
      for (const event of created.filter(isPublishedSubscriptionEvent)) expect(JSON.stringify(event.data)).not.toContain(SECRET_A.slice('whsec_'.length));
    });

    it('makes an ops subscription for every customer when it names none', () => {
      const { state } = spec.given().when({ ...create, customerId: null, enabled: false }).then((events) => {
        expect(events[1]).toMatchObject({ type: 'flotilla.notification.SubscriptionCreated', data: { customerId: null, enabled: false } });
      }, { idempotent: false });
      expect(state).toMatchObject({ status: 'Active', customerId: null, enabled: false });
      expect(isDeliverable(state)).toBe(false);
    });

    it('is refused for a subscription that exists', () => {
      const error = thrown(() => spec.given(...created).when({ ...create, secret: SECRET_B, now: 2_000 }));
      expect(error).toBeInstanceOf(IllegalStateError);
      expect(error).toMatchObject({ code: 'SUBSCRIPTION_EXISTS', message: 'subscription sub-1 exists already' });
    });
  });

  describe('update', () => {
    it.each([
      ['no changes', {}],
      ['the same values', { url: ENDPOINT_URL, description: 'builds', enabled: true, filter: { ...filter, eventTypes: [...filter.eventTypes] } }],
    ])('decides nothing for %s', (_case, changes) => {
      spec.given(...created).when({ type: 'Update', changes, by: 'bob', now: 2_000 }).thenNothing();
    });

    it('publishes the whole new shape, keeping what it does not change', () => {
      const narrower = { eventTypes: ['flotilla.execution.ExecutionCompleted'], severities: [], executionKinds: ['review'] };
      const changes = { url: 'https://hooks.acme.test/v2', filter: narrower };
      const { state } = spec.given(...created).when({ type: 'Update', changes, by: 'bob', now: 2_000 }).then([
        {
          type: 'flotilla.notification.SubscriptionUpdated',
          data: { subscriptionId: 'sub-1', customerId: 'acme', ...changes, description: 'builds', enabled: true, updatedBy: 'bob', updatedAt: 2_000 },
        },
      ]);
      expect(state).toMatchObject({ url: 'https://hooks.acme.test/v2', description: 'builds', filter: narrower, enabled: true, secrets: active(afterCreate).secrets });
    });

    it('stops deliveries when its owner disables it', () => {
      const { state } = spec.given(...created).when({ type: 'Update', changes: { enabled: false }, by: 'bob', now: 2_000 }).then((events) => {
        expect(events).toEqual([{ type: 'flotilla.notification.SubscriptionUpdated', data: expect.objectContaining({ enabled: false }) }]);
      });
      expect(isDeliverable(state)).toBe(false);
    });

    it('starts a subscription its endpoint disabled again with a clean record when enabled', () => {
      const givenDisabled = [...created, healthRecorded(disabled(1_500, 9_000))];
      expect(isDeliverable(spec.given(...givenDisabled).state)).toBe(false);
      const { state } = spec.given(...givenDisabled).when({ type: 'Update', changes: { enabled: true }, by: 'bob', now: 10_000 }).then([
        healthRecorded(healthy),
        healthChanged('closed', 0, null, 're-enabled by bob', 10_000),
        {
          type: 'flotilla.notification.SubscriptionUpdated',
          data: { subscriptionId: 'sub-1', customerId: 'acme', url: ENDPOINT_URL, description: 'builds', filter, enabled: true, updatedBy: 'bob', updatedAt: 10_000 },
        },
      ]);
      expect(active(state).health).toEqual(healthy);
      expect(isDeliverable(state)).toBe(true);
    });

    it('leaves a disabled endpoint disabled when the update does not enable it', () => {
      const update: SubscriptionCommand = { type: 'Update', changes: { description: 'ci' }, by: 'bob', now: 10_000 };
      const { state } = spec.given(...created, healthRecorded(disabled(1_500, 9_000))).when(update).then((events) => {
        expect(events.map((e) => e.type)).toEqual(['flotilla.notification.SubscriptionUpdated']);
      });
      expect(active(state).health).toEqual(disabled(1_500, 9_000));
    });
  });

  describe('delete', () => {
    const { events: deleted, state: afterDelete } = spec.given(...created).when({ type: 'Delete', by: 'bob', now: 3_000 }).then([
      { type: 'flotilla.notification.SubscriptionDeleted', data: { subscriptionId: 'sub-1', customerId: 'acme', deletedBy: 'bob', deletedAt: 3_000 } },
    ], { idempotent: false });

    it('ends the subscription: nothing more is delivered', () => {
      expect(afterDelete).toEqual({ status: 'Deleted', subscriptionId: 'sub-1', customerId: 'acme' });
      expect(isDeliverable(afterDelete)).toBe(false);
    });

    it.each<[string, SubscriptionCommand]>([
      ['Update', { type: 'Update', changes: { enabled: true }, by: 'bob', now: 4_000 }],
      ['Delete', { type: 'Delete', by: 'bob', now: 4_000 }],
      ['RotateSecret', { type: 'RotateSecret', secret: SECRET_B, graceMs: 1_000, by: 'bob', now: 4_000 }],
      ['RecordHealth', recordHealth(closed(1, 4_000), 4_000)],
    ])('answers %s afterwards, and before it was ever created, as not found', (_type, command) => {
      for (const [history, message] of [
        [[...created, ...deleted], 'subscription sub-1 was deleted'],
        [[], 'no such subscription'],
      ] as const) {
        const error = thrown(() => spec.given(...history).when(command));
        expect(error).toBeInstanceOf(NotFoundError);
        expect(error).toMatchObject({ code: 'NOT_FOUND', message });
      }
    });

    it('refuses to create it again under the same id, saying it was deleted', () => {
      const error = thrown(() => spec.given(...created, ...deleted).when(create));
      expect(error).toBeInstanceOf(IllegalStateError);
      expect(error).toMatchObject({ code: 'SUBSCRIPTION_EXISTS', message: 'subscription sub-1 was deleted: its id is not given again' });
    });
  });

  describe('secret rotation', () => {
    const rotate = (secret: string, now: number, graceMs = 10_000): SubscriptionCommand => ({ type: 'RotateSecret', secret, graceMs, by: 'bob', now });
    // Each rotation makes a new secret: deciding it again would rotate again, so idempotency is not asked of it.
    const { events: first, state: afterFirst } = spec.given(...created).when(rotate(SECRET_B, 5_000)).then([
      {
        type: 'notification.SubscriptionSecretsSet',
        data: { secrets: [{ secret: SECRET_B, createdAt: 5_000, expiresAt: null }, { secret: SECRET_A, createdAt: 1_000, expiresAt: 15_000 }] },
      },
      {
        type: 'flotilla.notification.SubscriptionSecretRotated',
        data: { subscriptionId: 'sub-1', customerId: 'acme', rotatedBy: 'bob', rotatedAt: 5_000, previousSecretExpiresAt: 15_000 },
      },
    ], { idempotent: false });

    it('signs with the new and the previous secret until the grace period ends, then with the new one only', () => {
      expect(signingSecrets(active(afterFirst), 5_000)).toEqual([SECRET_B, SECRET_A]);
      expect(signingSecrets(active(afterFirst), 14_999)).toEqual([SECRET_B, SECRET_A]);
      expect(signingSecrets(active(afterFirst), 15_000)).toEqual([SECRET_B]);
    });

    it('keeps an earlier previous secret to its own end when rotated again during the grace period', () => {
      const { state } = spec.given(...created, ...first).when(rotate(SECRET_C, 8_000)).then((events) => {
        expect(events[0]).toEqual({
          type: 'notification.SubscriptionSecretsSet',
          data: {
            secrets: [
              { secret: SECRET_C, createdAt: 8_000, expiresAt: null },
              { secret: SECRET_B, createdAt: 5_000, expiresAt: 18_000 },
              { secret: SECRET_A, createdAt: 1_000, expiresAt: 15_000 },
            ],
          },
        });
        expect(events[1]).toMatchObject({ type: 'flotilla.notification.SubscriptionSecretRotated', data: { rotatedAt: 8_000, previousSecretExpiresAt: 18_000 } });
      }, { idempotent: false });
      expect(signingSecrets(active(state), 14_999)).toEqual([SECRET_C, SECRET_B, SECRET_A]);
      expect(signingSecrets(active(state), 15_000)).toEqual([SECRET_C, SECRET_B]);
      expect(signingSecrets(active(state), 18_000)).toEqual([SECRET_C]);
    });

    it('drops the secrets whose grace period has ended', () => {
      const { events: second } = spec.given(...created, ...first).when(rotate(SECRET_C, 8_000)).then(() => undefined, { idempotent: false });
      const { state } = spec.given(...created, ...first, ...second).when(rotate(SECRET_D, 18_000)).then(() => undefined, { idempotent: false });
      // A ended at 15 000 and B at 18 000 (not after it): only C, now previous, is kept.
      expect(active(state).secrets).toEqual([{ secret: SECRET_D, createdAt: 18_000, expiresAt: null }, { secret: SECRET_C, createdAt: 8_000, expiresAt: 28_000 }]);
    });

    it('with no grace period stops signing with the old secret at once', () => {
      const { state } = spec.given(...created).when(rotate(SECRET_B, 5_000, 0)).then(() => undefined, { idempotent: false });
      expect(signingSecrets(active(state), 5_000)).toEqual([SECRET_B]);
    });
  });

  describe('health', () => {
    const alertMessage =
      'webhook subscription sub-1 (https://hooks.acme.test/flotilla) is disabled: failing for 5 days; ' +
      'PATCH it with enabled: true once the endpoint is fixed, and replay its dead letters';

    it.each<[string, EndpointHealth, EndpointHealth, readonly SubscriptionEvent[]]>([
      ['the same health decides nothing', closed(2, 1_500), closed(2, 1_500), []],
      // A row read back from JSONB has its keys in another order than the object written: still the same health.
      ['the same health with its fields in another order decides nothing', healthy, { failingSince: null, consecutiveFailures: 0, status: 'closed' }, []],
      ['a failure that leaves the circuit closed moves only the row', healthy, closed(1, 2_000), [healthRecorded(closed(1, 2_000))]],
      ['another failure while open moves only the row', open(5, 1_500, 2_000), open(6, 1_500, 2_000), [healthRecorded(open(6, 1_500, 2_000))]],
      ['opening publishes the change', closed(4, 1_500), open(5, 1_500, 2_000), [
        healthRecorded(open(5, 1_500, 2_000)),
        healthChanged('open', 5, 1_500, 'failing for 5 days', 3_000),
      ]],
      ['a recovery publishes the change', halfOpen(5, 1_500, 2_500), healthy, [
        healthRecorded(healthy),
        healthChanged('closed', 0, null, 'failing for 5 days', 3_000),
      ]],
      ['disabling publishes the change and raises an alert', halfOpen(9, 1_500, 2_500), disabled(1_500, 3_000), [
        healthRecorded(disabled(1_500, 3_000)),
        healthChanged('disabled', 0, 1_500, 'failing for 5 days', 3_000),
        {
          type: 'flotilla.alert.AlertRaised',
          data: {
            alertId: 'webhook_endpoint_disabled:sub-1:3000', severity: 'warning', kind: 'webhook_endpoint_disabled', source: 'notification',
            customerId: 'acme', executionId: null, message: alertMessage, raisedAt: 3_000,
          },
        },
      ]],
      ['a disabled endpoint recorded again moves only the row, with no second alert', disabled(1_500, 2_000), disabled(1_500, 3_000), [healthRecorded(disabled(1_500, 3_000))]],
    ])('%s', (_case, before, after, expected) => {
      const { state } = spec.given(...created, healthRecorded(before)).when(recordHealth(after, 3_000, 'failing for 5 days')).then(expected);
      expect(active(state).health).toEqual(after);
    });

    it('publishes the health change and the alert but keeps the health itself in the row', () => {
      const { events } = spec.given(...created).when(recordHealth(disabled(1_500, 3_000), 3_000)).then(() => undefined);
      expect(events.filter(isPublishedSubscriptionEvent).map((e) => e.type)).toEqual(['flotilla.notification.SubscriptionHealthChanged', 'flotilla.alert.AlertRaised']);
    });
  });

  it.each<[string, boolean, EndpointHealth, boolean]>([
    ['enabled, healthy', true, healthy, true],
    ['enabled, failing', true, closed(3, 1_500), true],
    ['enabled, circuit open (deliveries wait in their schedule)', true, open(5, 1_500, 2_000), true],
    ['enabled, half-open', true, halfOpen(5, 1_500, 2_500), true],
    ['enabled, disabled by its endpoint', false, disabled(1_500, 3_000), true],
    ['disabled by its owner', false, healthy, false],
  ])('when %s, is deliverable: %s', (_case, deliverable, health, enabled) => {
    const state: SubscriptionState = { ...active(afterCreate), enabled, health };
    expect(isDeliverable(state)).toBe(deliverable);
  });

  it('is not deliverable before it is created', () => {
    expect(isDeliverable(subscriptionDecider.initialState)).toBe(false);
  });

  it.each<[SubscriptionEvent['type'], boolean]>([
    ['flotilla.notification.SubscriptionCreated', true],
    ['flotilla.notification.SubscriptionUpdated', true],
    ['flotilla.notification.SubscriptionDeleted', true],
    ['flotilla.notification.SubscriptionSecretRotated', true],
    ['flotilla.notification.SubscriptionHealthChanged', true],
    ['flotilla.alert.AlertRaised', true],
    ['notification.SubscriptionSecretsSet', false],
    ['notification.SubscriptionHealthRecorded', false],
  ])('publishes %s: %s', (type, published) => {
    expect(isPublishedSubscriptionEvent({ type, data: {} } as SubscriptionEvent)).toBe(published);
  });

  it('publishes no secret over a whole life: create, update, two rotations, health, delete', () => {
    const history: SubscriptionEvent[] = [...created];
    const commands: SubscriptionCommand[] = [
      { type: 'Update', changes: { description: 'ci' }, by: 'bob', now: 2_000 },
      { type: 'RotateSecret', secret: SECRET_B, graceMs: 10_000, by: 'bob', now: 3_000 },
      { type: 'RotateSecret', secret: SECRET_C, graceMs: 10_000, by: 'bob', now: 4_000 },
      recordHealth(open(5, 4_500, 5_000), 5_000),
      recordHealth(disabled(4_500, 6_000), 6_000),
      { type: 'Update', changes: { enabled: true }, by: 'bob', now: 7_000 },
      { type: 'Delete', by: 'bob', now: 8_000 },
    ];
    for (const command of commands) history.push(...spec.given(...history).when(command).events);
    const published = history.filter(isPublishedSubscriptionEvent);
    expect(published.map((e) => e.type)).toEqual([
      'flotilla.notification.SubscriptionCreated',
      'flotilla.notification.SubscriptionUpdated',
      'flotilla.notification.SubscriptionSecretRotated',
      'flotilla.notification.SubscriptionSecretRotated',
      'flotilla.notification.SubscriptionHealthChanged',
      'flotilla.notification.SubscriptionHealthChanged',
      'flotilla.alert.AlertRaised',
      'flotilla.notification.SubscriptionHealthChanged',
      'flotilla.notification.SubscriptionUpdated',
      'flotilla.notification.SubscriptionDeleted',
    ]);
    const text = JSON.stringify(published);
    for (const secret of [SECRET_A, SECRET_B, SECRET_C]) expect(text).not.toContain(secret.slice('whsec_'.length));
    // The row-only events do carry them: the check above would see a secret that leaked.
    expect(JSON.stringify(history)).toContain(SECRET_C.slice('whsec_'.length));
  });
});
