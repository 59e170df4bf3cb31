import type { SubscriptionFilter } from '@flotilla/contracts';
import { assertNever } from '@flotilla/domain';
import type { AttemptOutcome } from './delivery-view';
import { isDeliveryEvent, type NotificationEvent } from './notification-events';
import type { SubscriptionView } from './notification-views';

/**
 * A webhook subscription as the read side sees it, folded from every event on its partition of
 * flotilla.notifications: its own (created, updated, deleted, secret rotated, endpoint health changed)
 * and its deliveries' (scheduled, each attempt, dead-lettered, replayed), which add to its counts.
 *
 * Health: the status is the notification service's circuit as its last SubscriptionHealthChanged
 * said. The run of failures (consecutive failures, failing since) is that event's, carried on by the
 * attempts after it the way the service's breaker counts them: a failed attempt adds one (and starts
 * the run), a success ends it, except on a disabled endpoint, which only the service brings back.
 *
 * Whose it is: its own events say (null for an ops subscription). A subscription first heard of by a
 * delivery event (its own events no longer on the topic) is nobody's but ops' until one of its own
 * events names its customer: a delivery event's customer is not taken as the subscription's.
 */
export const ENDPOINT_STATUSES = ['closed', 'open', 'half_open', 'disabled'] as const;
export type EndpointStatus = (typeof ENDPOINT_STATUSES)[number];
/** The statuses of an endpoint in trouble, listed first on the dashboard. */
export const FAILING_STATUSES: readonly EndpointStatus[] = ['open', 'half_open', 'disabled'];

/** How many of the latest attempts the success rate is taken over. */
export const SUCCESS_RATE_WINDOW = 100;

/** One character per attempt, oldest first, in `recentOutcomes`. */
const OUTCOME_MARK: Record<AttemptOutcome, string> = { succeeded: 's', failed: 'f', gone: 'g' };

export interface EndpointHealthRecord {
  readonly status: EndpointStatus;
  readonly consecutiveFailures: number;
  readonly failingSince: number | null;
  /** What the last health change said; null before any. */
  readonly reason: string | null;
  readonly changedAt: number | null;
}

export interface LastFailureRecord {
  readonly at: number;
  readonly outcome: Exclude<AttemptOutcome, 'succeeded'>;
  readonly statusCode: number | null;
  readonly error: string | null;
}

/** A subscription's row; times in epoch ms. Its definition is null until SubscriptionCreated or SubscriptionUpdated is heard. */
export interface SubscriptionRecord {
  readonly subscriptionId: string;
  readonly customerId: string | null;
  readonly definition: {
    readonly url: string;
    readonly description: string;
    readonly filter: SubscriptionFilter;
    readonly enabled: boolean;
  } | null;
  readonly createdBy: string | null;
  readonly createdAt: number | null;
  readonly updatedBy: string | null;
  readonly updatedAt: number | null;
  readonly deletedBy: string | null;
  readonly deletedAt: number | null;
  readonly health: EndpointHealthRecord;
  readonly rotation: { readonly rotatedBy: string; readonly rotatedAt: number; readonly previousSecretExpiresAt: number } | null;
  readonly counts: { readonly scheduled: number; readonly succeeded: number; readonly failed: number; readonly deadLettered: number };
  /** The outcomes of the latest attempts (at most SUCCESS_RATE_WINDOW), oldest first: s, f or g each. */
  readonly recentOutcomes: string;
  readonly lastAttemptAt: number | null;
  readonly lastDeliveredAt: number | null;
  readonly lastFailure: LastFailureRecord | null;
}

export const HEALTHY: EndpointHealthRecord = { status: 'closed', consecutiveFailures: 0, failingSince: null, reason: null, changedAt: null };

function blank(subscriptionId: string, customerId: string | null): SubscriptionRecord {
  return {
    subscriptionId,
    customerId,
    definition: null,
    createdBy: null,
    createdAt: null,
    updatedBy: null,
    updatedAt: null,
    deletedBy: null,
    deletedAt: null,
    health: HEALTHY,
    rotation: null,
    counts: { scheduled: 0, succeeded: 0, failed: 0, deadLettered: 0 },
    recentOutcomes: '',
    lastAttemptAt: null,
    lastDeliveredAt: null,
    lastFailure: null,
  };
}

/**
 * The subscription after one more event of its partition. The caller applies a delivery event only
 * when it changed its delivery (evolveDelivery did not answer null), so nothing counts twice.
 */
export function evolveSubscription(current: SubscriptionRecord | null, event: NotificationEvent): SubscriptionRecord {
  const own = !isDeliveryEvent(event);
  const base = current ?? blank(event.data.subscriptionId, own ? event.data.customerId : null);
  // A subscription's own events name its customer; a delivery's do not decide it.
  const mine = own ? { ...base, customerId: event.data.customerId } : base;
  switch (event.type) {
    case 'flotilla.notification.SubscriptionCreated': {
      const d = event.data;
      return { ...mine, definition: { url: d.url, description: d.description, filter: d.filter, enabled: d.enabled }, createdBy: d.createdBy, createdAt: d.createdAt };
    }
    case 'flotilla.notification.SubscriptionUpdated': {
      const d = event.data;
      return { ...mine, definition: { url: d.url, description: d.description, filter: d.filter, enabled: d.enabled }, updatedBy: d.updatedBy, updatedAt: d.updatedAt };
    }
    case 'flotilla.notification.SubscriptionDeleted':
      return { ...mine, deletedBy: event.data.deletedBy, deletedAt: event.data.deletedAt };
    case 'flotilla.notification.SubscriptionSecretRotated': {
      const d = event.data;
      return { ...mine, rotation: { rotatedBy: d.rotatedBy, rotatedAt: d.rotatedAt, previousSecretExpiresAt: d.previousSecretExpiresAt } };
    }
    case 'flotilla.notification.SubscriptionHealthChanged': {
      const d = event.data;
      return { ...mine, health: { status: d.status, consecutiveFailures: d.consecutiveFailures, failingSince: d.failingSince, reason: d.reason, changedAt: d.changedAt } };
    }
    case 'flotilla.notification.WebhookDeliveryScheduled':
      return { ...mine, counts: { ...mine.counts, scheduled: mine.counts.scheduled + 1 } };
    case 'flotilla.notification.WebhookAttemptRecorded': {
      const d = event.data;
      const recentOutcomes = `${mine.recentOutcomes}${OUTCOME_MARK[d.outcome]}`.slice(-SUCCESS_RATE_WINDOW);
      const lastAttemptAt = Math.max(mine.lastAttemptAt ?? d.attemptedAt, d.attemptedAt);
      if (d.outcome === 'succeeded') {
        return {
          ...mine,
          counts: { ...mine.counts, succeeded: mine.counts.succeeded + 1 },
          recentOutcomes,
          lastAttemptAt,
          lastDeliveredAt: Math.max(mine.lastDeliveredAt ?? d.attemptedAt, d.attemptedAt),
          health: mine.health.status === 'disabled' ? mine.health : { ...mine.health, consecutiveFailures: 0, failingSince: null },
        };
      }
      const health = mine.health.status === 'disabled' ? mine.health : { ...mine.health, consecutiveFailures: mine.health.consecutiveFailures + 1, failingSince: mine.health.failingSince ?? d.attemptedAt };
      return {
        ...mine,
        counts: { ...mine.counts, failed: mine.counts.failed + 1 },
        recentOutcomes,
        lastAttemptAt,
        lastFailure: { at: d.attemptedAt, outcome: d.outcome, statusCode: d.statusCode, error: d.error },
        health,
      };
    }
    case 'flotilla.notification.WebhookDeliveryDeadLettered':
      return { ...mine, counts: { ...mine.counts, deadLettered: mine.counts.deadLettered + 1 } };
    case 'flotilla.notification.WebhookDeliveryReplayed':
      return mine;
    default:
      return assertNever(event, 'notification event');
  }
}

/** The success rate over the latest attempts (at most SUCCESS_RATE_WINDOW): null before the first. */
export function successRate(recentOutcomes: string): { readonly window: number; readonly attempts: number; readonly succeeded: number; readonly rate: number | null } {
  const attempts = recentOutcomes.length;
  const succeeded = [...recentOutcomes].filter((mark) => mark === OUTCOME_MARK.succeeded).length;
  return { window: SUCCESS_RATE_WINDOW, attempts, succeeded, rate: attempts === 0 ? null : Math.round((succeeded / attempts) * 10_000) / 10_000 };
}

const iso = (ms: number) => new Date(ms).toISOString();
const time = (ms: number | null) => (ms === null ? null : iso(ms));

/** A subscription as the API shows it. */
export function subscriptionViewOf(s: SubscriptionRecord): SubscriptionView {
  return {
    subscriptionId: s.subscriptionId,
    customerId: s.customerId,
    url: s.definition?.url ?? null,
    description: s.definition?.description ?? null,
    filter: s.definition?.filter ?? null,
    enabled: s.definition?.enabled ?? null,
    deleted: s.deletedAt !== null,
    deletedAt: time(s.deletedAt),
    createdAt: time(s.createdAt),
    createdBy: s.createdBy,
    updatedAt: time(s.updatedAt),
    health: { ...s.health, failingSince: time(s.health.failingSince), changedAt: time(s.health.changedAt) },
    lastRotation: s.rotation && { rotatedAt: iso(s.rotation.rotatedAt), rotatedBy: s.rotation.rotatedBy, previousSecretExpiresAt: iso(s.rotation.previousSecretExpiresAt) },
    counts: s.counts,
    successRate: successRate(s.recentOutcomes),
    lastAttemptAt: time(s.lastAttemptAt),
    lastDeliveredAt: time(s.lastDeliveredAt),
    lastFailure: s.lastFailure && { ...s.lastFailure, at: iso(s.lastFailure.at) },
  };
}
