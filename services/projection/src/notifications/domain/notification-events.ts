import type {
  SubscriptionCreated,
  SubscriptionDeleted,
  SubscriptionHealthChanged,
  SubscriptionSecretRotated,
  SubscriptionUpdated,
  WebhookAttemptRecorded,
  WebhookDeliveryDeadLettered,
  WebhookDeliveryReplayed,
  WebhookDeliveryScheduled,
} from '@flotilla/contracts';
import { assertNever } from '@flotilla/domain';

/**
 * The notification service's events as the read side folds them. All of them are on
 * flotilla.notifications keyed by subscription, so a subscription's events, and every event of each
 * of its deliveries, arrive in the order they were published.
 */
export type SubscriptionEvent =
  | { readonly type: 'flotilla.notification.SubscriptionCreated'; readonly data: SubscriptionCreated }
  | { readonly type: 'flotilla.notification.SubscriptionUpdated'; readonly data: SubscriptionUpdated }
  | { readonly type: 'flotilla.notification.SubscriptionDeleted'; readonly data: SubscriptionDeleted }
  | { readonly type: 'flotilla.notification.SubscriptionSecretRotated'; readonly data: SubscriptionSecretRotated }
  | { readonly type: 'flotilla.notification.SubscriptionHealthChanged'; readonly data: SubscriptionHealthChanged };

export type DeliveryEvent =
  | { readonly type: 'flotilla.notification.WebhookDeliveryScheduled'; readonly data: WebhookDeliveryScheduled }
  | { readonly type: 'flotilla.notification.WebhookAttemptRecorded'; readonly data: WebhookAttemptRecorded }
  | { readonly type: 'flotilla.notification.WebhookDeliveryDeadLettered'; readonly data: WebhookDeliveryDeadLettered }
  | { readonly type: 'flotilla.notification.WebhookDeliveryReplayed'; readonly data: WebhookDeliveryReplayed };

export type NotificationEvent = SubscriptionEvent | DeliveryEvent;

export const DELIVERY_EVENT_TYPES: ReadonlySet<NotificationEvent['type']> = new Set<DeliveryEvent['type']>([
  'flotilla.notification.WebhookDeliveryScheduled',
  'flotilla.notification.WebhookAttemptRecorded',
  'flotilla.notification.WebhookDeliveryDeadLettered',
  'flotilla.notification.WebhookDeliveryReplayed',
]);

export const isDeliveryEvent = (event: NotificationEvent): event is DeliveryEvent => DELIVERY_EVENT_TYPES.has(event.type);

/** When the event happened, by its own field (epoch ms). */
export function notificationEventAt(event: NotificationEvent): number {
  switch (event.type) {
    case 'flotilla.notification.SubscriptionCreated':
      return event.data.createdAt;
    case 'flotilla.notification.SubscriptionUpdated':
      return event.data.updatedAt;
    case 'flotilla.notification.SubscriptionDeleted':
      return event.data.deletedAt;
    case 'flotilla.notification.SubscriptionSecretRotated':
      return event.data.rotatedAt;
    case 'flotilla.notification.SubscriptionHealthChanged':
      return event.data.changedAt;
    case 'flotilla.notification.WebhookDeliveryScheduled':
      return event.data.scheduledAt;
    case 'flotilla.notification.WebhookAttemptRecorded':
      return event.data.attemptedAt;
    case 'flotilla.notification.WebhookDeliveryDeadLettered':
      return event.data.deadLetteredAt;
    case 'flotilla.notification.WebhookDeliveryReplayed':
      return event.data.replayedAt;
    default:
      return assertNever(event, 'notification event');
  }
}
