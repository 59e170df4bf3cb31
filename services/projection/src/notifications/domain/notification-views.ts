/**
 * The notification side of the read models: webhook subscriptions with their endpoint's health and
 * what was delivered to them, each delivery with its status, and its attempts. Storage implements
 * `NotificationQueries`; the HTTP layer only depends on this file. Times are ISO-8601.
 *
 * Whose is what: a subscription is its customer's (null: an ops subscription, for every customer's
 * events), and a delivery is its subscription's customer's, whatever customer the delivered event
 * was about. Tenancy is applied by the caller: a customer's requests carry its own customerId.
 */
import type { SubscriptionFilter } from '@flotilla/contracts';
import type { AttemptOutcome, DeliveryStatus } from './delivery-view';
import type { EndpointStatus } from './subscription-view';

export type { AttemptOutcome, DeliveryStatus } from './delivery-view';
export type { EndpointStatus } from './subscription-view';

export interface SubscriptionView {
  readonly subscriptionId: string;
  /** Null for an ops subscription (every customer's events). */
  readonly customerId: string | null;
  /** The endpoint, description, filter and enabled flag are null until its creation or an update is known. */
  readonly url: string | null;
  readonly description: string | null;
  readonly filter: SubscriptionFilter | null;
  readonly enabled: boolean | null;
  readonly deleted: boolean;
  readonly deletedAt: string | null;
  readonly createdAt: string | null;
  readonly createdBy: string | null;
  readonly updatedAt: string | null;
  readonly health: {
    readonly status: EndpointStatus;
    readonly consecutiveFailures: number;
    readonly failingSince: string | null;
    readonly reason: string | null;
    readonly changedAt: string | null;
  };
  readonly lastRotation: { readonly rotatedAt: string; readonly rotatedBy: string; readonly previousSecretExpiresAt: string } | null;
  readonly counts: { readonly scheduled: number; readonly succeeded: number; readonly failed: number; readonly deadLettered: number };
  readonly successRate: { readonly window: number; readonly attempts: number; readonly succeeded: number; readonly rate: number | null };
  readonly lastAttemptAt: string | null;
  readonly lastDeliveredAt: string | null;
  readonly lastFailure: { readonly at: string; readonly outcome: 'failed' | 'gone'; readonly statusCode: number | null; readonly error: string | null } | null;
}

export interface DeliveryView {
  /** The webhook-id header of every attempt. */
  readonly deliveryId: string;
  readonly subscriptionId: string;
  /** Its subscription's customer (null: an ops subscription's). */
  readonly customerId: string | null;
  readonly eventId: string | null;
  readonly eventType: string | null;
  readonly status: DeliveryStatus;
  readonly attemptCount: number;
  readonly replays: number;
  readonly lastOutcome: AttemptOutcome | null;
  readonly lastStatusCode: number | null;
  readonly lastLatencyMs: number | null;
  readonly lastError: string | null;
  readonly nextAttemptAt: string | null;
  readonly scheduledAt: string;
  readonly lastAttemptedAt: string | null;
  readonly deliveredAt: string | null;
  readonly deadLetteredAt: string | null;
  readonly deadLetterReason: string | null;
  readonly replayedAt: string | null;
  readonly replayedBy: string | null;
}

export interface AttemptView {
  /** 1, 2, … in the order recorded, across replays. */
  readonly seq: number;
  /** 0 for the first schedule, then one more after each replay. */
  readonly round: number;
  /** The attempt's number as the notification service gave it. */
  readonly attempt: number;
  readonly outcome: AttemptOutcome;
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly latencyMs: number;
  readonly attemptedAt: string;
  readonly nextAttemptAt: string | null;
}

export interface DeliveryDetailView extends DeliveryView {
  readonly attempts: readonly AttemptView[];
}

export interface SubscriptionListFilter {
  readonly customerId?: string;
  /** A health status, or failing for open, half_open and disabled. */
  readonly status?: EndpointStatus | 'failing';
  readonly includeDeleted: boolean;
}

export interface DeliveryListFilter {
  readonly customerId?: string;
  readonly subscriptionId?: string;
  readonly status?: DeliveryStatus;
  readonly eventType?: string;
  /** Scheduled at or after / before (ISO-8601). */
  readonly from?: string;
  readonly to?: string;
}

/** A page in key order; `after` and `nextCursor` are the key of the last item served. */
export interface KeyedPage<T, K> {
  readonly items: readonly T[];
  readonly nextCursor: K | null;
}

export interface NotificationQueries {
  /** By subscription id; the key is the id. */
  listSubscriptions(filter: SubscriptionListFilter, page: { readonly limit: number; readonly after: string | null }): Promise<KeyedPage<SubscriptionView, string>>;
  getSubscription(subscriptionId: string): Promise<SubscriptionView | null>;
  /** Newest first; the key is [scheduledAt, deliveryId]. */
  listDeliveries(filter: DeliveryListFilter, page: { readonly limit: number; readonly after: readonly [string, string] | null }): Promise<KeyedPage<DeliveryView, readonly [string, string]>>;
  getDelivery(deliveryId: string): Promise<DeliveryDetailView | null>;
}
