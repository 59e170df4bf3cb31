import type { SubscriptionFilter } from '@flotilla/contracts';
import type { AttemptOutcome, AttemptRecord, DeliveryRecord, DeliveryStatus } from '../domain/delivery-view';
import type { EndpointStatus, SubscriptionRecord } from '../domain/subscription-view';

/** The rows of the notification tables (migrations/1700000007000_notifications.js) to and from the domain's records. */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a pg row: columns typed by the table, read one by one below
type Row = Record<string, any>;

const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());
const num = (v: string | number | null): number | null => (v === null ? null : Number(v));
const ts = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export const SUBSCRIPTION_COLUMNS = [
  'subscription_id',
  'customer_id',
  'url',
  'description',
  'filter',
  'enabled',
  'created_by',
  'created_at',
  'updated_by',
  'updated_at',
  'deleted_by',
  'deleted_at',
  'health_status',
  'consecutive_failures',
  'failing_since',
  'health_reason',
  'health_changed_at',
  'rotated_by',
  'rotated_at',
  'previous_secret_expires_at',
  'deliveries_scheduled',
  'attempts_succeeded',
  'attempts_failed',
  'dead_lettered',
  'recent_outcomes',
  'last_attempt_at',
  'last_delivered_at',
  'last_failure_at',
  'last_failure_outcome',
  'last_failure_status_code',
  'last_failure_error',
] as const;

export function subscriptionRecordOf(r: Row): SubscriptionRecord {
  return {
    subscriptionId: r.subscription_id,
    customerId: r.customer_id,
    definition: r.url === null ? null : { url: r.url, description: r.description, filter: r.filter as SubscriptionFilter, enabled: r.enabled },
    createdBy: r.created_by,
    createdAt: ms(r.created_at),
    updatedBy: r.updated_by,
    updatedAt: ms(r.updated_at),
    deletedBy: r.deleted_by,
    deletedAt: ms(r.deleted_at),
    health: { status: r.health_status as EndpointStatus, consecutiveFailures: r.consecutive_failures, failingSince: ms(r.failing_since), reason: r.health_reason, changedAt: ms(r.health_changed_at) },
    rotation: r.rotated_at === null ? null : { rotatedBy: r.rotated_by, rotatedAt: r.rotated_at.getTime(), previousSecretExpiresAt: r.previous_secret_expires_at.getTime() },
    counts: { scheduled: r.deliveries_scheduled, succeeded: r.attempts_succeeded, failed: r.attempts_failed, deadLettered: r.dead_lettered },
    recentOutcomes: r.recent_outcomes,
    lastAttemptAt: ms(r.last_attempt_at),
    lastDeliveredAt: ms(r.last_delivered_at),
    lastFailure:
      r.last_failure_at === null
        ? null
        : { at: r.last_failure_at.getTime(), outcome: r.last_failure_outcome, statusCode: r.last_failure_status_code, error: r.last_failure_error },
  };
}

/** The values of SUBSCRIPTION_COLUMNS, in order. */
export function subscriptionRowValues(s: SubscriptionRecord): unknown[] {
  const d = s.definition;
  return [
    s.subscriptionId,
    s.customerId,
    d?.url ?? null,
    d?.description ?? null,
    d === null ? null : JSON.stringify(d.filter),
    d?.enabled ?? null,
    s.createdBy,
    ts(s.createdAt),
    s.updatedBy,
    ts(s.updatedAt),
    s.deletedBy,
    ts(s.deletedAt),
    s.health.status,
    s.health.consecutiveFailures,
    ts(s.health.failingSince),
    s.health.reason,
    ts(s.health.changedAt),
    s.rotation?.rotatedBy ?? null,
    ts(s.rotation?.rotatedAt ?? null),
    ts(s.rotation?.previousSecretExpiresAt ?? null),
    s.counts.scheduled,
    s.counts.succeeded,
    s.counts.failed,
    s.counts.deadLettered,
    s.recentOutcomes,
    ts(s.lastAttemptAt),
    ts(s.lastDeliveredAt),
    ts(s.lastFailure?.at ?? null),
    s.lastFailure?.outcome ?? null,
    s.lastFailure?.statusCode ?? null,
    s.lastFailure?.error ?? null,
  ];
}

export const DELIVERY_COLUMNS = [
  'delivery_id',
  'subscription_id',
  'event_id',
  'event_type',
  'status',
  'attempts',
  'round',
  'last_attempt_no',
  'last_outcome',
  'last_status_code',
  'last_latency_ms',
  'last_error',
  'next_attempt_at',
  'scheduled_at',
  'last_attempted_at',
  'delivered_at',
  'dead_lettered_at',
  'dead_letter_reason',
  'replayed_at',
  'replayed_by',
] as const;

export function deliveryRecordOf(r: Row): DeliveryRecord {
  return {
    deliveryId: r.delivery_id,
    subscriptionId: r.subscription_id,
    eventId: r.event_id,
    eventType: r.event_type,
    status: r.status as DeliveryStatus,
    attempts: r.attempts,
    round: r.round,
    lastAttemptNo: r.last_attempt_no,
    lastOutcome: r.last_outcome as AttemptOutcome | null,
    lastStatusCode: r.last_status_code,
    lastLatencyMs: num(r.last_latency_ms),
    lastError: r.last_error,
    nextAttemptAt: ms(r.next_attempt_at),
    scheduledAt: r.scheduled_at.getTime(),
    lastAttemptedAt: ms(r.last_attempted_at),
    deliveredAt: ms(r.delivered_at),
    deadLetteredAt: ms(r.dead_lettered_at),
    deadLetterReason: r.dead_letter_reason,
    replayedAt: ms(r.replayed_at),
    replayedBy: r.replayed_by,
  };
}

/** The values of DELIVERY_COLUMNS, in order. */
export function deliveryRowValues(d: DeliveryRecord): unknown[] {
  return [
    d.deliveryId,
    d.subscriptionId,
    d.eventId,
    d.eventType,
    d.status,
    d.attempts,
    d.round,
    d.lastAttemptNo,
    d.lastOutcome,
    d.lastStatusCode,
    d.lastLatencyMs,
    d.lastError,
    ts(d.nextAttemptAt),
    ts(d.scheduledAt),
    ts(d.lastAttemptedAt),
    ts(d.deliveredAt),
    ts(d.deadLetteredAt),
    d.deadLetterReason,
    ts(d.replayedAt),
    d.replayedBy,
  ];
}

export function attemptRecordOf(r: Row): AttemptRecord {
  return {
    deliveryId: r.delivery_id,
    subscriptionId: r.subscription_id,
    seq: r.seq,
    round: r.round,
    attempt: r.attempt,
    outcome: r.outcome as AttemptOutcome,
    statusCode: r.status_code,
    error: r.error,
    latencyMs: Number(r.latency_ms),
    attemptedAt: r.attempted_at.getTime(),
    nextAttemptAt: ms(r.next_attempt_at),
  };
}
