import type { WebhookAttemptRecorded, WebhookDeliveryDeadLettered, WebhookDeliveryReplayed } from '@flotilla/contracts';
import { assertNever, IllegalStateError, type DomainEvent } from '@flotilla/domain';
import { nextAttemptDelayMs, type RetrySchedule } from './retry-schedule';

/**
 * One webhook delivery: one event to one subscription, exactly one row per pair (its id is the
 * `webhook-id` header, stable across attempts, the receiver's dedupe key). Pure transitions; the
 * delivery worker leases due rows, sends, and applies the outcome here in one commit with its events.
 *
 *   Pending ⟲ failed attempt (next at the schedule's delay, with jitter) | waiting for the endpoint's circuit
 *     │ 2xx                     │ the schedule used up, 410 Gone, the subscription disabled or deleted
 *     ▼                         ▼
 *   Succeeded                 DeadLettered ──Replay──▶ Pending (from the start of the schedule, same webhook-id)
 *
 * On the wire delivery is at least once: a worker killed after sending and before recording sends
 * again once its lease has run out. In our records it is exactly once: the row is unique per
 * (event, subscription), and an attempt is recorded only under the lease that made it.
 */
export type DeliveryStatus = 'pending' | 'succeeded' | 'dead_lettered';

export interface Delivery {
  readonly deliveryId: string;
  readonly subscriptionId: string;
  readonly customerId: string | null;
  readonly eventId: string;
  readonly eventType: string;
  readonly status: DeliveryStatus;
  /** Attempts made so far, over the whole life of the delivery (a replay does not reset it). */
  readonly attempts: number;
  /** Attempts made since it was scheduled or last replayed: where it stands in the schedule. */
  readonly attemptsInRun: number;
  readonly nextAttemptAt: number;
}

/** What came of one request: an answer with its status, or no answer (timeout, connection refused, address refused). */
export type AttemptResult =
  | { readonly kind: 'answered'; readonly statusCode: number; readonly latencyMs: number }
  | { readonly kind: 'no_answer'; readonly error: string; readonly latencyMs: number };

export type DeliveryEvent =
  | DomainEvent<'flotilla.notification.WebhookAttemptRecorded', WebhookAttemptRecorded>
  | DomainEvent<'flotilla.notification.WebhookDeliveryDeadLettered', WebhookDeliveryDeadLettered>
  | DomainEvent<'flotilla.notification.WebhookDeliveryReplayed', WebhookDeliveryReplayed>;

export interface AttemptOutcome {
  readonly delivery: Delivery & { readonly lastStatus: number | null; readonly lastError: string | null; readonly finishedAt: number | null };
  /** succeeded: the endpoint took it; failed: try again or give up; gone: 410, the subscription is to be disabled. */
  readonly outcome: WebhookAttemptRecorded['outcome'];
  readonly events: readonly DeliveryEvent[];
}

export interface AttemptContext {
  readonly schedule: RetrySchedule;
  readonly jitterRatio: number;
  /** Drawn by the caller in [0, 1]: the jitter of the next attempt's delay. */
  readonly random01: number;
  readonly now: number;
}

/** 2xx is success; 410 Gone says the endpoint is gone for good; anything else (a 3xx too: redirects are not followed) is a failure. */
export function classify(result: AttemptResult): WebhookAttemptRecorded['outcome'] {
  if (result.kind === 'no_answer') return 'failed';
  if (result.statusCode >= 200 && result.statusCode < 300) return 'succeeded';
  return result.statusCode === 410 ? 'gone' : 'failed';
}

export function recordAttempt(delivery: Delivery, result: AttemptResult, context: AttemptContext): AttemptOutcome {
  if (delivery.status !== 'pending') throw new IllegalStateError(`delivery ${delivery.deliveryId} is ${delivery.status}: an attempt cannot be recorded`, 'DELIVERY_NOT_PENDING');
  const { now } = context;
  const outcome = classify(result);
  const attempt = delivery.attempts + 1;
  const attemptsInRun = delivery.attemptsInRun + 1;
  const statusCode = result.kind === 'answered' ? result.statusCode : null;
  const error = result.kind === 'no_answer' ? result.error : outcome === 'succeeded' ? null : `answered ${result.statusCode}`;
  const next = outcome === 'failed' ? nextAttemptDelayMs(context.schedule, attemptsInRun, context.random01, context.jitterRatio) : null;
  const nextAttemptAt = next?.kind === 'retry' ? now + next.delayMs : null;
  const attempted: DeliveryEvent = {
    type: 'flotilla.notification.WebhookAttemptRecorded',
    data: { ...ids(delivery), attempt, outcome, statusCode, error, latencyMs: result.latencyMs, attemptedAt: now, nextAttemptAt },
  };
  const base = { ...delivery, attempts: attempt, attemptsInRun, lastStatus: statusCode, lastError: error };
  if (outcome === 'succeeded') return { outcome, delivery: { ...base, status: 'succeeded', finishedAt: now }, events: [attempted] };
  if (nextAttemptAt !== null) return { outcome, delivery: { ...base, status: 'pending', nextAttemptAt, finishedAt: null }, events: [attempted] };
  const run = attemptsInRun === attempt ? `${attempt} attempts` : `${attemptsInRun} attempts since its replay (${attempt} in all)`;
  const reason = outcome === 'gone' ? 'the endpoint answered 410 Gone: the subscription is disabled' : `no success in ${run}; the last: ${error}`;
  return { outcome, delivery: { ...base, status: 'dead_lettered', finishedAt: now }, events: [attempted, deadLettered(delivery, attempt, reason, now)] };
}

/** A delivery whose subscription cannot take it any more (disabled, deleted): to the dead letters without an attempt. */
export function abandon(delivery: Delivery, reason: string, now: number): { readonly delivery: Delivery & { readonly finishedAt: number }; readonly events: readonly DeliveryEvent[] } {
  if (delivery.status !== 'pending') throw new IllegalStateError(`delivery ${delivery.deliveryId} is ${delivery.status}: it cannot be abandoned`, 'DELIVERY_NOT_PENDING');
  return { delivery: { ...delivery, status: 'dead_lettered', finishedAt: now }, events: [deadLettered(delivery, delivery.attempts, reason, now)] };
}

/** A dead-lettered delivery back to the start of the schedule (its first entry is the wait before the first attempt), with the same webhook-id. */
export function replay(delivery: Delivery, by: string, now: number, firstDelayMs = 0): { readonly delivery: Delivery; readonly events: readonly DeliveryEvent[] } {
  switch (delivery.status) {
    case 'dead_lettered':
      return {
        delivery: { ...delivery, status: 'pending', attemptsInRun: 0, nextAttemptAt: now + firstDelayMs },
        events: [{ type: 'flotilla.notification.WebhookDeliveryReplayed', data: { ...pick(delivery), replayedBy: by, replayedAt: now } }],
      };
    case 'pending':
    case 'succeeded':
      throw new IllegalStateError(`delivery ${delivery.deliveryId} is ${delivery.status}: only a dead-lettered delivery can be replayed`, 'DELIVERY_NOT_DEAD_LETTERED');
    default:
      return assertNever(delivery.status, 'delivery status');
  }
}

function deadLettered(delivery: Delivery, attempts: number, reason: string, now: number): DeliveryEvent {
  return { type: 'flotilla.notification.WebhookDeliveryDeadLettered', data: { ...ids(delivery), attempts, reason, deadLetteredAt: now } };
}

function pick(d: Delivery) {
  return { deliveryId: d.deliveryId, subscriptionId: d.subscriptionId, customerId: d.customerId };
}

function ids(d: Delivery) {
  return { ...pick(d), eventId: d.eventId, eventType: d.eventType };
}
