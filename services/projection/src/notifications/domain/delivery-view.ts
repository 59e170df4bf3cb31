import { assertNever } from '@flotilla/domain';
import { notificationEventAt, type DeliveryEvent } from './notification-events';
import type { AttemptView, DeliveryView } from './notification-views';

/**
 * A webhook delivery as the read side sees it, folded from its events (its subscription's partition
 * of flotilla.notifications, so in the order they happened):
 *
 *   pending       scheduled, or replayed, and not attempted since
 *   retrying      its last attempt failed; the next one is at nextAttemptAt (null for the moment
 *                 between a last failed attempt and the dead letter that follows it)
 *   succeeded     an attempt got a 2xx
 *   dead_lettered no attempt is left (or its subscription was disabled or deleted), until replayed
 *
 * An attempt's outcome moves only a delivery still waiting for one (pending, retrying): one reported
 * after the delivery succeeded or was dead-lettered is kept in its history and moves nothing back. A
 * dead letter and a replay are the notification service's word on where the delivery is, whatever came
 * before. The same attempt reported twice (its number again, in the same round) changes nothing.
 */
export const DELIVERY_STATUSES = ['pending', 'retrying', 'succeeded', 'dead_lettered'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
export type AttemptOutcome = 'succeeded' | 'failed' | 'gone';

/** A delivery's row; times in epoch ms. */
export interface DeliveryRecord {
  readonly deliveryId: string;
  readonly subscriptionId: string;
  /** Null only for a delivery known from a replay alone (its earlier events no longer on the topic). */
  readonly eventId: string | null;
  readonly eventType: string | null;
  readonly status: DeliveryStatus;
  /** Every attempt recorded, those before a replay included. */
  readonly attempts: number;
  /** 0, then one more with each replay: the schedule starts again. */
  readonly round: number;
  /** The highest attempt number recorded in the current round. */
  readonly lastAttemptNo: number | null;
  readonly lastOutcome: AttemptOutcome | null;
  readonly lastStatusCode: number | null;
  readonly lastLatencyMs: number | null;
  readonly lastError: string | null;
  readonly nextAttemptAt: number | null;
  /** When it was scheduled (or first heard of, when its scheduling is no longer on the topic). */
  readonly scheduledAt: number;
  readonly lastAttemptedAt: number | null;
  readonly deliveredAt: number | null;
  readonly deadLetteredAt: number | null;
  readonly deadLetterReason: string | null;
  readonly replayedAt: number | null;
  readonly replayedBy: string | null;
}

/** One attempt's row: `seq` numbers a delivery's attempts in the order recorded (1, 2, …, across replays). */
export interface AttemptRecord {
  readonly deliveryId: string;
  readonly subscriptionId: string;
  readonly seq: number;
  readonly round: number;
  readonly attempt: number;
  readonly outcome: AttemptOutcome;
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly latencyMs: number;
  readonly attemptedAt: number;
  readonly nextAttemptAt: number | null;
}

export interface DeliveryChange {
  readonly delivery: DeliveryRecord;
  /** The attempt to add to the delivery's history, for WebhookAttemptRecorded. */
  readonly attempt: AttemptRecord | null;
}

const WAITING: readonly DeliveryStatus[] = ['pending', 'retrying'];

function blank(event: DeliveryEvent): DeliveryRecord {
  const named = 'eventId' in event.data ? event.data : null;
  return {
    deliveryId: event.data.deliveryId,
    subscriptionId: event.data.subscriptionId,
    eventId: named?.eventId ?? null,
    eventType: named?.eventType ?? null,
    status: 'pending',
    attempts: 0,
    round: 0,
    lastAttemptNo: null,
    lastOutcome: null,
    lastStatusCode: null,
    lastLatencyMs: null,
    lastError: null,
    nextAttemptAt: null,
    scheduledAt: notificationEventAt(event),
    lastAttemptedAt: null,
    deliveredAt: null,
    deadLetteredAt: null,
    deadLetterReason: null,
    replayedAt: null,
    replayedBy: null,
  };
}

/**
 * The delivery after one more of its events, with the attempt it adds; null when the event changes
 * nothing (a delivery scheduled again, an attempt reported again), so that nothing is counted twice.
 */
export function evolveDelivery(current: DeliveryRecord | null, event: DeliveryEvent): DeliveryChange | null {
  const base = current ?? blank(event);
  switch (event.type) {
    case 'flotilla.notification.WebhookDeliveryScheduled': {
      if (current !== null) return null;
      const d = event.data;
      return { delivery: { ...base, eventId: d.eventId, eventType: d.eventType, scheduledAt: d.scheduledAt }, attempt: null };
    }
    case 'flotilla.notification.WebhookAttemptRecorded': {
      const d = event.data;
      if (base.lastAttemptNo !== null && d.attempt <= base.lastAttemptNo) return null;
      const moves = WAITING.includes(base.status);
      const succeeded = d.outcome === 'succeeded';
      const status: DeliveryStatus = !moves ? base.status : succeeded ? 'succeeded' : 'retrying';
      const attempts = base.attempts + 1;
      return {
        delivery: {
          ...base,
          eventId: base.eventId ?? d.eventId,
          eventType: base.eventType ?? d.eventType,
          status,
          attempts,
          lastAttemptNo: d.attempt,
          lastOutcome: d.outcome,
          lastStatusCode: d.statusCode,
          lastLatencyMs: d.latencyMs,
          lastError: d.error,
          nextAttemptAt: moves ? (succeeded ? null : d.nextAttemptAt) : base.nextAttemptAt,
          lastAttemptedAt: d.attemptedAt,
          deliveredAt: moves && succeeded ? d.attemptedAt : base.deliveredAt,
        },
        attempt: {
          deliveryId: d.deliveryId,
          subscriptionId: d.subscriptionId,
          seq: attempts,
          round: base.round,
          attempt: d.attempt,
          outcome: d.outcome,
          statusCode: d.statusCode,
          error: d.error,
          latencyMs: d.latencyMs,
          attemptedAt: d.attemptedAt,
          nextAttemptAt: d.nextAttemptAt,
        },
      };
    }
    case 'flotilla.notification.WebhookDeliveryDeadLettered': {
      const d = event.data;
      const delivery: DeliveryRecord = {
        ...base,
        eventId: base.eventId ?? d.eventId,
        eventType: base.eventType ?? d.eventType,
        status: 'dead_lettered',
        nextAttemptAt: null,
        deadLetteredAt: d.deadLetteredAt,
        deadLetterReason: d.reason,
      };
      return { delivery, attempt: null };
    }
    case 'flotilla.notification.WebhookDeliveryReplayed': {
      const d = event.data;
      const delivery: DeliveryRecord = { ...base, status: 'pending', round: base.round + 1, lastAttemptNo: null, nextAttemptAt: null, replayedAt: d.replayedAt, replayedBy: d.replayedBy };
      return { delivery, attempt: null };
    }
    default:
      return assertNever(event, 'delivery event');
  }
}

const time = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A delivery as the API shows it; `customerId` is its subscription's. */
export function deliveryViewOf(d: DeliveryRecord, customerId: string | null): DeliveryView {
  return {
    deliveryId: d.deliveryId,
    subscriptionId: d.subscriptionId,
    customerId,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attemptCount: d.attempts,
    replays: d.round,
    lastOutcome: d.lastOutcome,
    lastStatusCode: d.lastStatusCode,
    lastLatencyMs: d.lastLatencyMs,
    lastError: d.lastError,
    nextAttemptAt: time(d.nextAttemptAt),
    scheduledAt: new Date(d.scheduledAt).toISOString(),
    lastAttemptedAt: time(d.lastAttemptedAt),
    deliveredAt: time(d.deliveredAt),
    deadLetteredAt: time(d.deadLetteredAt),
    deadLetterReason: d.deadLetterReason,
    replayedAt: time(d.replayedAt),
    replayedBy: d.replayedBy,
  };
}

export function attemptViewOf(a: AttemptRecord): AttemptView {
  return {
    seq: a.seq,
    round: a.round,
    attempt: a.attempt,
    outcome: a.outcome,
    statusCode: a.statusCode,
    error: a.error,
    latencyMs: a.latencyMs,
    attemptedAt: new Date(a.attemptedAt).toISOString(),
    nextAttemptAt: time(a.nextAttemptAt),
  };
}
