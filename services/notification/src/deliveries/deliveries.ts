import type { Transaction } from '@flotilla/event-store';
import type { ConsumedEvent } from '@flotilla/messaging';
import { currentTraceContext } from '@flotilla/observability';
import type { Platform } from '@flotilla/service-kit';
import { NotFoundError } from '@flotilla/domain';
import { v7 as uuidv7 } from 'uuid';
import { isDeliverable } from '../subscriptions/domain/subscription';
import { matchesFilter } from '../subscriptions/domain/subscription-filter';
import type { SubscriptionRows } from '../subscriptions/ports';
import { abandon, replay, type Delivery, type DeliveryEvent } from './domain/delivery';
import { customerOf, deliveryIdFor, filterable, webhookBody, type PlatformEvent } from './domain/webhook-message';
import type { DeliveryRows, ExecutionKinds, NewDelivery } from './ports';

/**
 * Deliveries as records: the fan-out of each heard event to the subscriptions it matches, the
 * dead-lettering of a subscription's waiting deliveries, and replays. Every change commits with the
 * events that tell of it (through the outbox); the worker that sends lives in delivery-worker.ts.
 */
export class Deliveries {
  constructor(
    private readonly platform: Platform,
    readonly rows: DeliveryRows,
    private readonly subscriptions: SubscriptionRows,
    private readonly kinds: ExecutionKinds,
    /** The retry schedule's first entry: the wait before a delivery's first attempt (0 in the default schedule). */
    private readonly firstDelayMs: number,
    /** Told after a commit that scheduled deliveries, so the worker looks at once rather than at its next poll. */
    private readonly onScheduled: () => void = () => {},
  ) {}

  /**
   * One heard event: a delivery for each subscription it matches, once. The inbox (by event id) and
   * the unique (event, subscription) pair both hold, in the same commit as the delivery rows, so a
   * redelivered event, or one heard again after a crash, schedules nothing twice.
   */
  async fanOut(consumed: ConsumedEvent): Promise<void> {
    const { envelope } = consumed;
    const event: PlatformEvent = { eventId: envelope.eventId, type: envelope.eventType, occurredAt: envelope.occurredAt, payload: (envelope.payload ?? {}) as Record<string, unknown> };
    const scheduled = await this.platform.store.withTransaction(async (tx) => {
      if (!(await this.platform.store.recordInbox(tx, 'notification.fan-out', event.eventId))) return 0;
      const executionId = typeof event.payload.executionId === 'string' ? event.payload.executionId : null;
      if (event.type === 'flotilla.execution.ExecutionAccepted' && executionId && typeof event.payload.kind === 'string') await this.kinds.remember(tx, executionId, event.payload.kind, event.occurredAt);
      const customerId = customerOf(event);
      const candidates = (await this.subscriptions.candidatesFor(tx, customerId)).map((row) => row.state).filter(isDeliverable);
      if (candidates.length === 0) return 0;
      const needsKind = event.type.startsWith('flotilla.execution.') && executionId !== null && candidates.some((s) => s.filter.executionKinds.length > 0);
      const kind = needsKind ? await this.kinds.kindOf(tx, executionId) : null;
      const facts = filterable(event, kind);
      const now = Date.now();
      const body = webhookBody(event);
      // The delivery joins the event's trace (the consumer's span, a child of the producer's): its attempts show there.
      const traceparent = currentTraceContext().traceparent ?? envelope.traceparent;
      const news: NewDelivery[] = candidates
        .filter((s) => matchesFilter(s.filter, facts))
        .map((s) => ({ deliveryId: deliveryIdFor(event.eventId, s.subscriptionId), subscriptionId: s.subscriptionId, customerId: s.customerId, eventId: event.eventId, eventType: event.type, body, traceparent, dueAt: now + this.firstDelayMs, now }));
      const inserted = await this.rows.schedule(tx, news);
      await this.enqueue(
        tx,
        inserted.map((d) => ({
          aggregateId: d.deliveryId,
          version: 0,
          event: { type: 'flotilla.notification.WebhookDeliveryScheduled', data: { deliveryId: d.deliveryId, subscriptionId: d.subscriptionId, customerId: d.customerId, eventId: d.eventId, eventType: d.eventType, scheduledAt: now } },
        })),
        now,
      );
      return inserted.length;
    });
    if (scheduled > 0) {
      this.platform.relay.notifyCommitted();
      this.onScheduled();
    }
  }

  /** In the caller's transaction: every waiting delivery of the subscription to the dead letters (it was deleted or disabled). */
  async abandonPendingOf(tx: Transaction, subscriptionId: string, reason: string, now: number): Promise<number> {
    const pending = await this.rows.lockPendingOf(tx, subscriptionId);
    for (const delivery of pending) {
      const abandoned = abandon(delivery, reason, now);
      await this.rows.update(tx, delivery.deliveryId, { ...abandoned.delivery, finishedAt: abandoned.delivery.finishedAt });
      await this.enqueue(tx, abandoned.events.map((event) => ({ aggregateId: delivery.deliveryId, version: delivery.attempts, event })), now);
    }
    return pending.length;
  }

  /** A dead-lettered delivery back to the start of its schedule, same webhook-id. `mayAct` says whether the caller may touch the delivery's customer's data. */
  async replay(deliveryId: string, by: string, mayAct: (delivery: Delivery) => boolean, now = Date.now()): Promise<Delivery> {
    const replayed = await this.platform.store.withTransaction(async (tx) => {
      const delivery = await this.rows.lock(tx, deliveryId);
      // Someone else's delivery is answered as if it did not exist: its id tells nothing.
      if (!delivery || !mayAct(delivery)) throw new NotFoundError('delivery', deliveryId);
      const result = replay(delivery, by, now, this.firstDelayMs);
      await this.rows.update(tx, deliveryId, { ...result.delivery, finishedAt: null });
      await this.enqueue(tx, result.events.map((event) => ({ aggregateId: deliveryId, version: delivery.attempts, event })), now);
      return result.delivery;
    });
    this.platform.relay.notifyCommitted();
    this.onScheduled();
    return replayed;
  }

  /** Deletes what finished more than `retentionMs` ago, in batches; how many rows went. */
  async prune(retentionMs: number, now = Date.now()): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.rows.prune(now - retentionMs, 1_000);
      total += deleted;
      if (deleted < 1_000) return total;
    }
  }

  /** Queues events for their topics in the caller's transaction, each as its aggregate's (the delivery's) at `version`. */
  async enqueue(tx: Transaction, items: readonly { readonly aggregateId: string; readonly version: number; readonly event: DeliveryEvent | { readonly type: string; readonly data: unknown } }[], now: number): Promise<void> {
    if (items.length === 0) return;
    const { traceparent } = currentTraceContext();
    await this.platform.store.queue(
      tx,
      items.map(({ aggregateId, version, event }) => ({
        event: { eventId: uuidv7(), eventType: event.type, data: event.data, metadata: { occurredAt: now, correlationId: aggregateId, causationId: null, traceparent, tracestate: null } },
        aggregateId,
        aggregateVersion: version,
      })),
      this.platform.route,
    );
  }
}
