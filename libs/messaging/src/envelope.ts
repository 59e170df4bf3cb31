import type { IHeaders } from 'kafkajs';

/** What travels with every event, as Kafka headers (DESIGN.md, "Envelope"). */
export interface EventMetadata {
  readonly eventId: string;
  /** The Avro record's full name, e.g. `flotilla.execution.ExecutionAccepted`. */
  readonly eventType: string;
  readonly aggregateId: string;
  readonly aggregateVersion: number;
  /** Epoch milliseconds. */
  readonly occurredAt: number;
  readonly correlationId: string;
  readonly causationId: string | null;
  /** W3C trace context of the span that produced the event. */
  readonly traceparent: string | null;
  readonly tracestate: string | null;
}

export interface EventEnvelope<T = unknown> extends EventMetadata {
  readonly payload: T;
}

/** An event addressed to a topic and key, ready for the publisher. */
export interface OutgoingEvent<T = unknown> {
  readonly topic: string;
  readonly key: string;
  readonly envelope: EventEnvelope<T>;
}

export const HEADERS = {
  eventId: 'flotilla-event-id',
  eventType: 'flotilla-event-type',
  aggregateId: 'flotilla-aggregate-id',
  aggregateVersion: 'flotilla-aggregate-version',
  occurredAt: 'flotilla-occurred-at',
  correlationId: 'flotilla-correlation-id',
  causationId: 'flotilla-causation-id',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const;

export const DEAD_LETTER_HEADERS = {
  errorName: 'dlq-error-name',
  errorMessage: 'dlq-error-message',
  errorCode: 'dlq-error-code',
  attempts: 'dlq-attempts',
  originalTopic: 'dlq-original-topic',
  originalPartition: 'dlq-original-partition',
  originalOffset: 'dlq-original-offset',
  consumerGroup: 'dlq-consumer-group',
  failedAt: 'dlq-failed-at',
} as const;

export function metadataToHeaders(metadata: EventMetadata): Record<string, string> {
  const headers: Record<string, string> = {
    [HEADERS.eventId]: metadata.eventId,
    [HEADERS.eventType]: metadata.eventType,
    [HEADERS.aggregateId]: metadata.aggregateId,
    [HEADERS.aggregateVersion]: String(metadata.aggregateVersion),
    [HEADERS.occurredAt]: String(metadata.occurredAt),
    [HEADERS.correlationId]: metadata.correlationId,
  };
  if (metadata.causationId) headers[HEADERS.causationId] = metadata.causationId;
  if (metadata.traceparent) headers[HEADERS.traceparent] = metadata.traceparent;
  if (metadata.tracestate) headers[HEADERS.tracestate] = metadata.tracestate;
  return headers;
}

export function headerString(headers: IHeaders | undefined, name: string): string | null {
  const value = headers?.[name];
  if (value === undefined || value === null) return null;
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return null;
  return Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
}

/**
 * Reads the envelope from the headers. Producers outside Flotilla may send only the registry-framed
 * record: then the event id falls back to topic/partition/offset and the record's timestamp (stable
 * across redeliveries; the timestamp keeps a topic deleted and created again, whose offsets start at
 * 0 again, from repeating the ids of its earlier records, which inboxes remember) and the type to the
 * record's schema name.
 */
export function headersToMetadata(
  headers: IHeaders | undefined,
  fallback: { eventType: string; key: string | null; topic: string; partition: number; offset: string; timestamp: string },
): EventMetadata {
  const get = (name: string) => headerString(headers, name);
  const eventId = get(HEADERS.eventId) ?? `${fallback.topic}/${fallback.partition}/${fallback.offset}@${fallback.timestamp}`;
  const aggregateId = get(HEADERS.aggregateId) ?? fallback.key ?? eventId;
  return {
    eventId,
    eventType: get(HEADERS.eventType) ?? fallback.eventType,
    aggregateId,
    aggregateVersion: Number(get(HEADERS.aggregateVersion) ?? 0),
    occurredAt: Number(get(HEADERS.occurredAt) ?? fallback.timestamp),
    correlationId: get(HEADERS.correlationId) ?? aggregateId,
    causationId: get(HEADERS.causationId),
    traceparent: get(HEADERS.traceparent),
    tracestate: get(HEADERS.tracestate),
  };
}
