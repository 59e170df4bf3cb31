import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { DELIVERY_STATUSES } from './domain/delivery-view';
import { ENDPOINT_STATUSES, SUCCESS_RATE_WINDOW } from './domain/subscription-view';

/** The OpenAPI schemas of the notification read models (domain/notification-views.ts) as JSON. A nullable enum lists null too (OpenAPI 3.0.3). */
const time: SchemaObject = { type: 'string', format: 'date-time' };
const nullableTime: SchemaObject = { ...time, nullable: true };
const nullableString: SchemaObject = { type: 'string', nullable: true };
const count: SchemaObject = { type: 'integer', minimum: 0 };
const statusCode: SchemaObject = { type: 'integer', nullable: true, description: "the endpoint's HTTP status; null when none came (a timeout, a refused connection or address)" };
const object = (required: string[], properties: Record<string, SchemaObject>, extra: Partial<SchemaObject> = {}): SchemaObject => ({ type: 'object', required, properties, ...extra });
const strings: SchemaObject = { type: 'array', items: { type: 'string' } };

const OUTCOME: SchemaObject = { type: 'string', enum: ['succeeded', 'failed', 'gone'], description: 'succeeded (2xx), failed (another status, a timeout, a refused address), gone (410: the endpoint asked to be disabled)' };

export const SUBSCRIPTION_SCHEMA: SchemaObject = object(
  [
    'subscriptionId', 'customerId', 'url', 'description', 'filter', 'enabled', 'deleted', 'deletedAt', 'createdAt', 'createdBy', 'updatedAt',
    'health', 'lastRotation', 'counts', 'successRate', 'lastAttemptAt', 'lastDeliveredAt', 'lastFailure',
  ],
  {
    subscriptionId: { type: 'string' },
    customerId: { ...nullableString, description: 'null for an ops subscription (every customer\'s events; for ops only)' },
    url: { ...nullableString, description: 'the endpoint; url, description, filter and enabled are null until the subscription\'s creation or an update is known' },
    description: nullableString,
    filter: object(
      ['eventTypes', 'severities', 'executionKinds'],
      { eventTypes: strings, severities: strings, executionKinds: strings },
      { nullable: true, description: 'which events it receives; an empty list places no condition' },
    ),
    enabled: { type: 'boolean', nullable: true },
    deleted: { type: 'boolean' },
    deletedAt: nullableTime,
    createdAt: nullableTime,
    createdBy: nullableString,
    updatedAt: nullableTime,
    health: object(
      ['status', 'consecutiveFailures', 'failingSince', 'reason', 'changedAt'],
      {
        status: { type: 'string', enum: [...ENDPOINT_STATUSES], description: 'the endpoint\'s circuit: closed (healthy), open (failing: nothing is sent until a probe), half_open (a probe is out), disabled (only an update re-enables it)' },
        consecutiveFailures: count,
        failingSince: { ...nullableTime, description: 'the first failure with no success after it' },
        reason: { ...nullableString, description: 'what the last health change said; null before any' },
        changedAt: nullableTime,
      },
    ),
    lastRotation: object(['rotatedAt', 'rotatedBy', 'previousSecretExpiresAt'], { rotatedAt: time, rotatedBy: { type: 'string' }, previousSecretExpiresAt: time }, { nullable: true, description: 'the last secret rotation; the old secret signs too until previousSecretExpiresAt' }),
    counts: object(['scheduled', 'succeeded', 'failed', 'deadLettered'], {
      scheduled: { ...count, description: 'deliveries scheduled' },
      succeeded: { ...count, description: 'attempts that succeeded' },
      failed: { ...count, description: 'attempts that failed (gone included)' },
      deadLettered: { ...count, description: 'times a delivery was dead-lettered' },
    }),
    successRate: object(['window', 'attempts', 'succeeded', 'rate'], {
      window: { type: 'integer', enum: [SUCCESS_RATE_WINDOW], description: 'the rate is taken over at most this many of the latest attempts' },
      attempts: count,
      succeeded: count,
      rate: { type: 'number', minimum: 0, maximum: 1, nullable: true, description: 'succeeded / attempts; null before the first attempt' },
    }),
    lastAttemptAt: nullableTime,
    lastDeliveredAt: { ...nullableTime, description: 'the last attempt that succeeded' },
    lastFailure: object(
      ['at', 'outcome', 'statusCode', 'error'],
      { at: time, outcome: { type: 'string', enum: ['failed', 'gone'] }, statusCode, error: nullableString },
      { nullable: true, description: 'the last attempt that failed' },
    ),
  },
);

const DELIVERY_PROPERTIES: Record<string, SchemaObject> = {
  deliveryId: { type: 'string', description: 'the webhook-id header of every attempt' },
  subscriptionId: { type: 'string' },
  customerId: { ...nullableString, description: 'its subscription\'s customer; null for an ops subscription\'s' },
  eventId: { ...nullableString, description: 'the event delivered (null only when the delivery is known from a replay alone)' },
  eventType: nullableString,
  status: {
    type: 'string',
    enum: [...DELIVERY_STATUSES],
    description: 'pending (not attempted since scheduled or replayed), retrying (the last attempt failed; the next is at nextAttemptAt), succeeded, dead_lettered (until replayed)',
  },
  attemptCount: { ...count, description: 'every attempt, those before a replay included' },
  replays: count,
  lastOutcome: { ...OUTCOME, enum: [...(OUTCOME.enum as string[]), null], nullable: true },
  lastStatusCode: statusCode,
  lastLatencyMs: { ...count, nullable: true },
  lastError: nullableString,
  nextAttemptAt: { ...nullableTime, description: 'when it is retried; null when no attempt is scheduled' },
  scheduledAt: time,
  lastAttemptedAt: nullableTime,
  deliveredAt: nullableTime,
  deadLetteredAt: { ...nullableTime, description: 'the last time it was dead-lettered (kept after a replay)' },
  deadLetterReason: nullableString,
  replayedAt: nullableTime,
  replayedBy: nullableString,
};

export const DELIVERY_SCHEMA: SchemaObject = object(Object.keys(DELIVERY_PROPERTIES), DELIVERY_PROPERTIES);

export const DELIVERY_DETAIL_SCHEMA: SchemaObject = object([...Object.keys(DELIVERY_PROPERTIES), 'attempts'], {
  ...DELIVERY_PROPERTIES,
  attempts: {
    type: 'array',
    description: 'in the order recorded',
    items: object(['seq', 'round', 'attempt', 'outcome', 'statusCode', 'error', 'latencyMs', 'attemptedAt', 'nextAttemptAt'], {
      seq: { type: 'integer', minimum: 1, description: '1, 2, … in the order recorded, across replays' },
      round: { ...count, description: '0 for the first schedule, one more after each replay' },
      attempt: { type: 'integer', description: 'its number as the notification service gave it' },
      outcome: OUTCOME,
      statusCode,
      error: nullableString,
      latencyMs: count,
      attemptedAt: time,
      nextAttemptAt: nullableTime,
    }),
  },
});

export const pageOf = (item: SchemaObject): SchemaObject =>
  object(['items', 'nextCursor'], { items: { type: 'array', items: item }, nextCursor: { type: 'string', nullable: true, description: 'the cursor of the next page; null on the last' } });
