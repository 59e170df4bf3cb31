import { budgetScopeOf } from '@flotilla/contracts';
import { v5 as uuidv5 } from 'uuid';
import type { FilterableEvent } from '../../subscriptions/domain/subscription-filter';

/** An event of the platform as the notification service hears it. */
export interface PlatformEvent {
  readonly eventId: string;
  readonly type: string;
  readonly occurredAt: number;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** Fixed: the webhook-id of an (event, subscription) pair must be the same whoever computes it, whenever. */
const DELIVERY_ID_NAMESPACE = '5b0f1f7c-3c1e-4d0b-9a55-0b7a1f6c2e11';

/**
 * The delivery's id, sent as `webhook-id`: derived from the event and the subscription, so that the
 * same pair always gets the same id (a redelivered event, a second fan-out after a crash) and the
 * receiver can drop a duplicate by it. `msg_` and hex, no dots: the signed content joins id,
 * timestamp and body with dots.
 */
export function deliveryIdFor(eventId: string, subscriptionId: string): string {
  return `msg_${uuidv5(`${eventId}/${subscriptionId}`, DELIVERY_ID_NAMESPACE).replace(/-/g, '')}`;
}

/** Whose event it is: its customerId, or the customer of a customer budget; null for the platform's own (pools, scaling). */
export function customerOf(event: PlatformEvent): string | null {
  const { customerId, budgetId } = event.payload;
  if (typeof customerId === 'string' && customerId !== '') return customerId;
  if (typeof budgetId === 'string') {
    const scope = budgetScopeOf(budgetId);
    if (scope?.kind === 'customer') return scope.customerId;
  }
  return null;
}

export function filterable(event: PlatformEvent, executionKind: string | null): FilterableEvent {
  const severity = event.type === 'flotilla.alert.AlertRaised' && typeof event.payload.severity === 'string' ? event.payload.severity : null;
  return { type: event.type, severity, executionKind };
}

/**
 * The body, as the Standard Webhooks specification has it: the event's type, its time, and its data.
 * Serialized once when the delivery is scheduled: every attempt sends (and signs) the same bytes.
 */
export function webhookBody(event: PlatformEvent): string {
  return JSON.stringify({ type: event.type, timestamp: new Date(event.occurredAt).toISOString(), data: event.payload });
}
